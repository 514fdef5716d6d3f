"""Text rules every layer applies to what people type or files say, before it reaches the database."""

from __future__ import annotations

import re

#: C0 control characters except tab, newline and carriage return, and DEL: PostgreSQL refuses NUL, and the
#: others break e-mails and CSV cells.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None) -> str:
    """Trimmed text without control characters (kept out of the database, e-mails and CSV)."""
    return CONTROL_CHARS.sub("", value or "").strip()
