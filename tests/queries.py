"""Counting the SQL statements a page or a service sends, so an N+1 query is a failing test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask

from scheduler.extensions import db


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    """The statements sent to the app's database while the block runs, in order."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
