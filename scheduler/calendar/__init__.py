"""Meetings, venues, RSVPs, invites and feeds."""
