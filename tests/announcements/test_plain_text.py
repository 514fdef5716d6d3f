"""The text/plain part is text read from the Markdown, not the Markdown itself: no "**", lists as "- item" and
"1. item", links as "text (address)", headings as their text, blocks separated by one blank line."""

from __future__ import annotations

import re

import pytest

from scheduler.mailing.worker import deliver_all_due
from scheduler.markup import markdown_text, render_markdown
from tests.factories import csrf_from

NEW = "/gestione/comunicazioni/nuova"

BODY = """# Novità per {ente}

Gentile **{destinatario}**, ecco _le novità_ del __Piano di Zona__:

- il calendario è [sul sito](https://tavoli.example.it/calendario)
- la scheda va inviata *entro venerdì*
  - anche in bozza

1. leggete il documento
2. rispondete qui: [modulo di risposta]({link_incontro})

Per domande: <udp@comune.example.it>.\\
Grazie."""


@pytest.mark.parametrize(("source", "expected"), [
    ("**grassetto** e *corsivo* e `codice`", "grassetto e corsivo e codice"),
    ("[il sito](https://example.org)", "il sito (https://example.org)"),
    ("[https://example.org](https://example.org) e <https://example.org/a>", "https://example.org e https://example.org/a"),
    ("<udp@comune.it>", "udp@comune.it"),
    ("## Titolo\nTesto", "Titolo\n\nTesto"),
    ("- uno\n- due\n  - annidato", "- uno\n- due\n  - annidato"),
    ("3. tre\n4. quattro", "3. tre\n4. quattro"),
    ("uno\n\n\n\ndue", "uno\n\ndue"),
    ("riga  \na capo\ne ancora", "riga\na capo\ne ancora"),
    ("> citato\n> ancora", "> citato\n> ancora"),
    ("\\*non enfasi\\* &amp; <b>html</b>", "*non enfasi* & <b>html</b>"),
    ("- voce\n\n  con un secondo paragrafo\n- altra", "- voce\n\n  con un secondo paragrafo\n\n- altra"),
    ("", ""),
])
def test_markdown_reads_as_plain_text(source, expected):
    assert markdown_text(source) == expected


def test_render_markdown_is_unchanged():
    assert str(render_markdown("**a** [b](https://x.it)")) == '<p><strong>a</strong> <a href="https://x.it">b</a></p>\n'


def test_the_received_text_part_is_text_read_from_the_markdown(smtp_app_config, app, staff, cast, smtp_server):
    response = staff.post(NEW, data={"csrf_token": csrf_from(staff, NEW), "audience": "areas", "areas": ["B"],
                                     "meeting_id": str(cast["meeting"]), "subject": "Novità", "body": BODY})
    assert response.status_code == 303
    ann = int(re.search(r"/(\d+)$", response.headers["Location"]).group(1))
    detail = staff.get(f"/gestione/comunicazioni/{ann}").get_data(as_text=True)
    preview = re.search(r'<pre[^>]*id="preview-text"[^>]*>(.*?)</pre>', detail, re.S).group(1)
    assert "**" not in preview and "- il calendario è sul sito (https://tavoli.example.it/calendario)" in preview
    staff.post(f"/gestione/comunicazioni/{ann}/invia",
               data={"csrf_token": csrf_from(staff, f"/gestione/comunicazioni/{ann}")})
    with app.app_context():
        deliver_all_due("w")
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_server.wait_for(2)}
    text = received["epsilon@example.org"].get_body(("plain",)).get_content().replace("\r\n", "\n")
    lines = text.splitlines()
    assert "**" not in text and "__" not in text and "# " not in text and "_le novità_" not in text
    assert lines[0] == "Novità per Epsilon"
    assert lines[1] == ""
    assert any(re.fullmatch(r"Gentile \S.*, ecco le novità del Piano di Zona:", line) for line in lines)
    assert "- il calendario è sul sito (https://tavoli.example.it/calendario)" in lines
    assert "- la scheda va inviata entro venerdì" in lines
    assert "  - anche in bozza" in lines
    assert "1. leggete il documento" in lines
    assert f"2. rispondete qui: modulo di risposta (http://tavoli.test/incontri/{cast['meeting']})" in lines
    assert "Per domande: udp@comune.example.it." in lines and "Grazie." in lines
    # the blocks are separated by one blank line, never more
    assert "\n\n\n" not in text
    index = lines.index("- la scheda va inviata entro venerdì")
    assert lines[index + 2] == "" and lines[index + 3] == "1. leggete il documento"
    # the HTML part is the Markdown rendered, as before
    html = received["epsilon@example.org"].get_body(("html",)).get_content()
    assert '<a href="https://tavoli.example.it/calendario">sul sito</a>' in html and "<strong>" in html
