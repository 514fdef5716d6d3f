"""What staff read for each kind of message in the outbox: Italian words, never the internal topic codes."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

TOPIC_LABELS: dict[str, LazyString] = {
    "login-link": _l("Collegamento per accedere"),
    "password-reset": _l("Collegamento per scegliere una nuova password"),
    "application-confirm": _l("Conferma della candidatura"),
    "application-receipt": _l("Ricevuta della candidatura"),
    "call-invitation": _l("Invito a confermare la partecipazione a un nuovo avviso"),
    "application-admitted": _l("Candidatura ammessa"),
    "application-rejected": _l("Candidatura non ammessa"),
    "application-info": _l("Richiesta di integrazioni"),
    "application-amendment": _l("Esito della modifica della candidatura"),
    "delegate-confirm": _l("Conferma del delegato"),
    "invite": _l("Invito all'incontro"),
    "invite-waitlist": _l("Lista d'attesa"),
    "invite-promoted": _l("Posto confermato"),
    "invite-withdrawn": _l("Partecipazione annullata"),
    "update": _l("Aggiornamento dell'incontro"),
    "cancel": _l("Incontro annullato"),
    "reminder": _l("Promemoria"),
    "venue-alert": _l("Avviso: sede da definire"),
    "absent-notice": _l("Messaggio agli assenti"),
    "announcement": _l("Comunicazione"),
    "announcement-test": _l("Prova di una comunicazione"),
    "agreement-request": _l("Richiesta di adesione all'Accordo"),
    "agreement-reminder": _l("Sollecito di adesione all'Accordo"),
    "agreement-receipt": _l("Ricevuta di adesione all'Accordo"),
    "agreement-annulled": _l("Adesione all'Accordo annullata"),
}


def topic_label(topic: str | None) -> str:
    """The Italian name of a message's kind; a kind added later reads as a generic message, never as a code."""
    label = TOPIC_LABELS.get(topic or "")
    return str(label) if label is not None else str(_l("Messaggio"))
