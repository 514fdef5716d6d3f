"""Uploaded files, judged by their content and never by their name or declared type.

One rule for every upload of the app (the scanned signed register, the Accordo di Programma and its signed
copies, a meeting's documents, an announcement's attachments): the kind is read from the first bytes of the file
(magic bytes; for an office document, the table of contents of its archive), the size is limited, and the name
kept and offered on download is a plain one with the extension of the real content. Layer 0: no feature
package is imported; each feature says, with an `UploadRule`, which kinds it accepts and what the person
reads when a file is refused.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

from scheduler.errors import DomainError

#: Content types recognised from the first bytes of the file.
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
#: Office documents: ZIP archives, recognised by what the archive holds (see `_office_kind`).
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", DOCX: "docx", XLSX: "xlsx", ODT: "odt", ODS: "ods"}

MEGABYTE = 1024 * 1024


class UploadError(DomainError):
    """A refused upload; the message is for the person who sent it."""


@dataclass(frozen=True)
class UploadRule:
    """What one upload accepts, and what the person reads when the file is refused (Italian)."""

    #: The content types accepted (of EXTENSIONS).
    accepted: tuple[str, ...]
    #: Said when the file is empty.
    empty: str
    #: Said when the content is of another kind, whatever the file's name says.
    wrong_kind: str
    #: Added to the "too large" message: how to make the file smaller.
    too_large_advice: str = ""
    #: The stored name when the one sent has nothing usable in it.
    default_stem: str = "documento"


@dataclass(frozen=True)
class CheckedFile:
    """An accepted upload, ready to be stored as the models keep files (LargeBinary, sha256, size, type)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes


def _office_kind(data: bytes) -> str | None:
    """DOCX, XLSX, ODT or ODS from the archive's table of contents, or None (another archive, a damaged one,
    or a document with macros: .docm/.xlsm renamed, or a LibreOffice document carrying Basic or scripts).

    Only the central directory is read, and the few bytes of an ODF `mimetype` entry: nothing is unpacked, so
    an archive made to expand enormously costs nothing here.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            if any(name.lower().endswith("vbaproject.bin") or name.startswith(("Basic/", "Scripts/"))
                   for name in names):
                return None
            mimetype = next((e for e in entries if e.filename == "mimetype"), None)
            if mimetype is not None:
                if mimetype.compress_type != zipfile.ZIP_STORED or mimetype.file_size > 100:
                    return None
                declared = archive.read(mimetype).decode("ascii", "replace").strip()
                return declared if declared in (ODT, ODS) and "content.xml" in names else None
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DOCX
                if "xl/workbook.xml" in names:
                    return XLSX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError, EOFError):
        return None
    return None


def sniff_content_type(data: bytes) -> str | None:
    """PDF, PNG, JPEG or an office document (DOCX, XLSX, ODT, ODS) from the content of the file, or None.

    Each rule accepts only the kinds it names: a register or an Accordo still takes PDF (and images) alone.
    """
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data)
    return None


def read_limited(stream: IO[bytes], max_bytes: int) -> bytes:
    """At most one byte more than `max_bytes` of an upload: enough to know it is too large, never more in memory."""
    return stream.read(max_bytes + 1)


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.0f} MB" if size >= MEGABYTE else f"{max(size // 1024, 1)} kB"


def check_upload(data: bytes, rule: UploadRule, max_bytes: int) -> str:
    """The content type of an upload, from its content; UploadError if it is empty, larger than `max_bytes`
    (code ``too_large``) or of a kind the rule does not accept (whatever its name says)."""
    if not data:
        raise UploadError(rule.empty)
    if len(data) > max_bytes:
        advice = f" {rule.too_large_advice}" if rule.too_large_advice else ""
        raise UploadError(
            f"Il file è troppo grande ({len(data) / MEGABYTE:.1f} MB): il massimo è {_megabytes(max_bytes)}.{advice}",
            code="too_large")
    content_type = sniff_content_type(data)
    if content_type not in rule.accepted:
        raise UploadError(rule.wrong_kind)
    return content_type


def safe_filename(filename: str, content_type: str, default_stem: str = "documento") -> str:
    """A plain name to store and to offer on download, with the extension of the real content."""
    stem = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-_")[:80] or default_stem
    return f"{stem}.{EXTENSIONS[content_type]}"


def accept_upload(filename: str, data: bytes, rule: UploadRule, max_bytes: int) -> CheckedFile:
    """The upload checked (see `check_upload`), with its stored name, size and SHA-256."""
    content_type = check_upload(data, rule, max_bytes)
    return CheckedFile(filename=safe_filename(filename, content_type, rule.default_stem), content_type=content_type,
                       size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data)
