"""Attendance registers."""
