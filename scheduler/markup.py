"""Markdown as staff write it (announcements, a meeting's agenda): CommonMark, no raw HTML, line breaks kept.

One renderer for every text staff format, so a list or a link looks the same in an e-mail and on a page;
HTML typed into the text is shown as text, never run. `markdown_text` reads the same Markdown as plain text,
for the text/plain part of a mail: what the reader of a text-only client sees instead of the markers.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from markupsafe import Markup

MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})


def render_markdown(source: str) -> Markup:
    """The HTML of `source`, safe to put in a page (the renderer escapes what is not Markdown)."""
    return Markup(MARKDOWN.render((source or "").replace("\r\n", "\n")))  # noqa: S704 (raw HTML disabled)


# --- plain text --------------------------------------------------------------------------------------------------

#: What stands for a thematic break (`---`) in the text.
RULE = "-" * 20


def markdown_text(source: str) -> str:
    """`source` as plain text, read the way `render_markdown` shows it: emphasis without its markers, headings
    as their text, list items as "- item" or "1. item" (nested ones indented), a link as "text (address)" (the
    address alone when it is the text), a quote with "> ", code as typed, blocks separated by one blank line,
    the line breaks staff typed kept. Nothing is escaped: the result goes in a text/plain part, never in HTML."""
    tree = SyntaxTreeNode(MARKDOWN.parse((source or "").replace("\r\n", "\n")))
    return "\n\n".join(_blocks(tree.children)).strip("\n")


def _blocks(nodes: list[SyntaxTreeNode], tight: bool = False) -> list[str]:
    """Each block as its lines of text (a tight list's items hold their paragraphs without blank lines)."""
    out = []
    for node in nodes:
        text = _block(node)
        if text is not None:
            out.append(text)
    return ["\n".join(out)] if tight and out else out


def _block(node: SyntaxTreeNode) -> str | None:
    kind = node.type
    if kind in ("paragraph", "heading"):
        return "".join(_inline(child) for child in node.children)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node)
    if kind == "blockquote":
        inner = "\n\n".join(_blocks(node.children))
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    if kind in ("code_block", "fence"):
        return "\n".join(f"    {line}" if line else "" for line in node.content.rstrip("\n").split("\n"))
    if kind == "hr":
        return RULE
    if kind == "inline":
        return "".join(_inline(child) for child in node.children)
    if node.children:
        return "\n\n".join(_blocks(node.children))
    return node.content or None


def _list(node: SyntaxTreeNode) -> str:
    """"- item" or "1. item" (from the list's first number), the lines after the first aligned under its text."""
    ordered = node.type == "ordered_list"
    start = int(node.attrs.get("start", 1)) if ordered else 1
    items = []
    tight = all(child.hidden for item in node.children for child in item.children if child.type == "paragraph")
    for number, item in enumerate(node.children, start):
        marker = f"{number}. " if ordered else "- "
        body = ("\n" if tight else "\n\n").join(_blocks(item.children, tight=tight))
        lines = body.split("\n")
        pad = " " * len(marker)
        items.append("\n".join([marker + lines[0]] + [pad + line if line else "" for line in lines[1:]]))
    return ("\n" if tight else "\n\n").join(items)


def _inline(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind in ("text", "code_inline", "html_inline"):
        return node.content
    if kind in ("softbreak", "hardbreak"):
        return "\n"
    if kind == "link":
        text = "".join(_inline(child) for child in node.children)
        href = str(node.attrs.get("href", ""))
        shown = href.removeprefix("mailto:") if href.startswith("mailto:") else href
        return text if not href or text in (href, shown) else f"{text} ({shown})"
    if kind == "image":
        alt = "".join(_inline(child) for child in node.children)
        src = str(node.attrs.get("src", ""))
        return f"{alt} ({src})" if alt and src else alt or src
    return "".join(_inline(child) for child in node.children)
