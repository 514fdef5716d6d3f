"""From what staff typed (Markdown with {placeholders}) to each recipient's subject, text and HTML.

The Markdown is rendered once with raw HTML disabled, so nothing typed by staff reaches the mail as markup,
and read once as plain text for the text/plain part (no "**", links as "text (address)"); placeholder values
are inserted afterwards, escaped for HTML, so an entity called "<b>Coop</b>" stays text. A placeholder that is
not known is refused before anything is saved: no message ever shows "{ente}".
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from markupsafe import escape

from scheduler.errors import DomainError
from scheduler.markup import MARKDOWN, markdown_text

#: The placeholders staff can use, with what they become.
PLACEHOLDERS = {
    "ente": _l("nome dell'ente destinatario"),
    "destinatario": _l("nome della persona che riceve il messaggio"),
    "percorso": _l("nome del percorso dell'incontro"),
    "data_incontro": _l("data e orario dell'incontro"),
    "sede": _l("sede dell'incontro con indirizzo (o «Sede da definire»)"),
    "link_incontro": _l("indirizzo della pagina dell'incontro"),
    "link_adesione": _l("link personale dell'ente per rispondere a questo incontro (non apre l'area riservata)"),
}
#: Placeholders that need a meeting chosen for the message (with any audience: an area's entities too).
MEETING_PLACEHOLDERS = frozenset({"percorso", "data_incontro", "sede", "link_incontro", "link_adesione"})
LINK_PLACEHOLDERS = frozenset({"link_incontro", "link_adesione"})

# "{{" and "}}" write a literal brace; "{name}" is a placeholder; anything else is text.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]{0,60})\}")
_HREF = re.compile(r'href="([^"]*)"')


class PlaceholderError(DomainError):
    """An unknown or misplaced placeholder; the message names it."""


def placeholders_in(source: str) -> list[str]:
    """The placeholder names used, in order of first use (unknown ones included, as typed)."""
    seen: list[str] = []
    for match in _TOKEN.finditer(source):
        name = match.group(1)
        if name is not None and name.strip() not in seen:
            seen.append(name.strip())
    return seen


def check_placeholders(source: str, *, has_meeting: bool) -> None:
    """Refuse unknown placeholders, and meeting placeholders in a message for which no meeting was chosen."""
    used = placeholders_in(source)
    unknown = [name for name in used if name not in PLACEHOLDERS]
    if unknown:
        listed = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise PlaceholderError(
            f"Segnaposto sconosciuto: {listed}. Quelli disponibili sono {known}. "
            "Per scrivere una graffa usa {{ oppure }}."
        )
    needing = [name for name in used if name in MEETING_PLACEHOLDERS]
    if needing and not has_meeting:
        listed = ", ".join("{" + name + "}" for name in needing)
        raise PlaceholderError(f"{listed} si può usare solo in un messaggio su un incontro: scegli l'incontro.")


@dataclass
class Compiled:
    """A message body turned into templates once, then filled cheaply for each of hundreds of recipients."""

    text: str
    html: str
    slots: dict[str, str]  # sentinel -> placeholder name

    def used(self) -> set[str]:
        return set(self.slots.values())

    def fill_text(self, values: Mapping[str, str]) -> str:
        text = self.text
        for sentinel, name in self.slots.items():
            text = text.replace(sentinel, values.get(name, ""))
        return text

    def fill_html(self, values: Mapping[str, str]) -> str:
        def in_href(match: re.Match[str]) -> str:
            target = match.group(1)
            for sentinel, name in self.slots.items():
                if sentinel in target:
                    target = target.replace(sentinel, str(escape(values.get(name, ""))))
            return f'href="{target}"'

        html = _HREF.sub(in_href, self.html)
        for sentinel, name in self.slots.items():
            value = values.get(name, "")
            if name in LINK_PLACEHOLDERS and value:
                replacement = f'<a href="{escape(value)}">{escape(value)}</a>'
            else:
                replacement = str(escape(value))
            html = html.replace(sentinel, replacement)
        return html


def compile_body(source: str) -> Compiled:
    """Markdown rendered once, as HTML and as plain text, with each placeholder held by a sentinel no one would
    type (one per placeholder, so `[{link_adesione}]({link_adesione})` reads as the address once)."""
    nonce = secrets.token_hex(4)
    slots: dict[str, str] = {}
    sentinels: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        matched = match.group(0)
        if matched in ("{{", "}}"):
            return matched[0]
        name = match.group(1).strip()
        if name not in sentinels:
            sentinels[name] = f"tvph{len(slots)}x{nonce}"
            slots[sentinels[name]] = name
        return sentinels[name]

    held = _TOKEN.sub(swap, source.replace("\r\n", "\n"))
    return Compiled(text=markdown_text(held), html=MARKDOWN.render(held), slots=slots)


def compile_line(source: str) -> Compiled:
    """A subject: placeholders only, no Markdown, one line."""
    compiled = compile_body(source)
    return Compiled(text=" ".join(compiled.text.split()), html="", slots=compiled.slots)
