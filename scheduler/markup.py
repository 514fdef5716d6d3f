"""Markdown as staff write it (announcements, a meeting's agenda): CommonMark, no raw HTML, line breaks kept.

One renderer for every text staff format, so a list or a link looks the same in an e-mail and on a page;
HTML typed into the text is shown as text, never run.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})


def render_markdown(source: str) -> Markup:
    """The HTML of `source`, safe to put in a page (the renderer escapes what is not Markdown)."""
    return Markup(MARKDOWN.render((source or "").replace("\r\n", "\n")))  # noqa: S704 (raw HTML disabled)
