"""Text rules every layer applies to what people type or files say, before it reaches the database.

One rule in two shapes: `clean_line` for a one-line text (a name, a title, an address), `clean_multiline` for a
text with lines (notes, descriptions, messages). The ORM applies them to every String and Text column when a
row is written (`scheduler.dbtypes.clean_stored_texts`), so no form, JSON endpoint, file or service can store a
text that skipped them; code that compares, deduplicates or measures a text before storing it calls them too,
so that it works on what will be stored.

Removed: control characters (PostgreSQL refuses NUL; the others break e-mails, CSV cells and terminals), the
bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069: they make a name display as
another, "Trojan Source"), the byte order mark (invisible, left by pasting from files, and it breaks sorting
and duplicate checks) and lone surrogates (they cannot be encoded for the database). Kept: tabs and new lines
where lines are allowed, right-to-left and left-to-right marks (U+200E, U+200F, needed by Arabic and Hebrew
text), zero-width joiners and spaces (emoji sequences, Indic scripts). Texts are stored in NFC, so the same
name typed on two devices is the same string.
"""

from __future__ import annotations

import re
import unicodedata

#: C0 control characters except tab, newline and carriage return, and DEL. The call loader refuses them in a
#: file (with the line) instead of removing them silently.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_INVISIBLE = "\ufeff\ud800-\udfff"
#: What no text keeps: control characters that are not whitespace (C0, DEL, C1 but NEL), bidi controls,
#: BOM, surrogates. Whitespace controls (tab, line breaks, \x1c-\x1f, NEL) are handled by each shape.
_UNSAFE = re.compile(rf"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f{_BIDI_CONTROLS}{_INVISIBLE}]")
#: In a text with lines, the whitespace controls that are not line breaks for `str.splitlines` but tab.
_UNSAFE_IN_LINE = re.compile(r"\x1f")


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def clean_line(value: str | None) -> str:
    """A one-line text as it is stored: no control or bidi characters, every run of whitespace (line breaks
    and tabs included) one space, trimmed."""
    if not value:
        return ""
    return _nfc(" ".join(_UNSAFE.sub("", value).split()))


def clean_multiline(value: str | None) -> str:
    """A text with lines as it is stored: line breaks of any kind (\\r\\n, \\r, vertical tab, form feed,
    U+2028...) made \\n, tabs kept, other control and bidi characters removed, blank lines and spaces at the
    start and end trimmed (spaces at the end of a line stay: Markdown reads two as a line break)."""
    if not value:
        return ""
    lines = _UNSAFE.sub("", value).splitlines()
    return _nfc("\n".join(_UNSAFE_IN_LINE.sub("", line) for line in lines).strip())
