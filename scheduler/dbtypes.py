"""Column types shared by every feature's models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator

from scheduler.textutil import clean_line, clean_multiline


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a CHECK constraint holding the values (not the Python names)."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware in Python and stored as UTC.

    PostgreSQL keeps `timestamptz`; SQLite has no zones, so values are normalised to UTC before they are
    written and marked UTC when read back.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# --- every stored text cleaned the same way --------------------------------------------------------------------

#: Columns stored byte for byte: messages rendered for sending (an iCalendar body needs its CRLF line ends).
VERBATIM_COLUMNS = frozenset({"outbox_messages.body_text", "outbox_messages.body_html", "outbox_messages.ics"})


def stored_text(column: sa.Column, value: str) -> str:
    """`value` as a write to `column` stores it: Text columns keep lines (`clean_multiline`), other String
    columns hold one line (`clean_line`); enums and the verbatim columns are left as they are."""
    if isinstance(column.type, sa.Enum) or f"{column.table.name}.{column.name}" in VERBATIM_COLUMNS:
        return value
    if isinstance(column.type, sa.Text):
        return clean_multiline(value)
    if isinstance(column.type, sa.String):
        return clean_line(value)
    return value


_TEXT_ATTRIBUTES: dict[Mapper, list[tuple[str, sa.Column]]] = {}


def _text_attributes(mapper: Mapper) -> list[tuple[str, sa.Column]]:
    """The mapper's attributes backed by one String or Text column that `stored_text` changes."""
    found = _TEXT_ATTRIBUTES.get(mapper)
    if found is None:
        found = [
            (prop.key, prop.columns[0]) for prop in mapper.column_attrs
            if len(prop.columns) == 1 and isinstance(prop.columns[0], sa.Column)
            and isinstance(prop.columns[0].type, sa.String) and not isinstance(prop.columns[0].type, sa.Enum)
            and f"{prop.columns[0].table.name}.{prop.columns[0].name}" not in VERBATIM_COLUMNS
        ]
        _TEXT_ATTRIBUTES[mapper] = found
    return found


def _clean_row(mapper: Mapper, _connection: sa.Connection, target: object) -> None:
    """Before a row is inserted or updated: each text it holds, cleaned. Only values already loaded are read
    (nothing is fetched during the flush); setting a column of the row being written is allowed here."""
    values = sa.inspect(target).dict
    for key, column in _text_attributes(mapper):
        value = values.get(key)
        if isinstance(value, str) and (cleaned := stored_text(column, value)) != value:
            setattr(target, key, cleaned)


def clean_stored_texts(base: type) -> None:
    """Clean every text of every model derived from `base`, now and future, whenever the ORM writes a row.

    At the root on purpose: forms, the phone register's JSON posts, the call loader, the CLI and the services
    all write through the ORM, and a new model or column is covered without anyone remembering it. A flush
    hook rather than a column type: the object keeps the value that was stored (a page rendered from it right
    after the write shows the cleaned text), and no column of any migration changes. Core `insert()`/`update()`
    statements bypass it: the few in the app write machine-made values (token use, the mail worker's state).
    JSON columns are not walked: their services clean the texts they hold (the people of an RSVP).
    """
    event.listen(base, "before_insert", _clean_row, propagate=True)
    event.listen(base, "before_update", _clean_row, propagate=True)
