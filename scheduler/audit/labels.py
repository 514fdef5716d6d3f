"""What each audited action is called on the pages (the codes never reach a person)."""

from __future__ import annotations

from flask_babel import gettext

from scheduler.formatting import N_

ACTION_LABELS = {
    "track.created": N_("Tavolo creato"),
    "track.changed": N_("Tavolo modificato"),
    "track.closed": N_("Tavolo chiuso"),
    "track.reopened": N_("Tavolo riaperto"),
    "track.series_planned": N_("Serie di incontri fissata"),
    "track.facilitators_changed": N_("Facilitatori cambiati"),
    "track.facilitator_created": N_("Account facilitatore creato"),
    "venue.created": N_("Sede aggiunta"),
    "venue.changed": N_("Sede modificata"),
    "meeting.created": N_("Incontro fissato"),
    "meeting.changed": N_("Incontro modificato"),
    "meeting.cancelled": N_("Incontro annullato"),
    "meeting.restored": N_("Incontro ripristinato"),
    "meeting.document_added": N_("Documento aggiunto"),
    "meeting.document_removed": N_("Documento tolto"),
    "meeting.minutes_published": N_("Verbale pubblicato"),
    "meeting.minutes_withdrawn": N_("Verbale ritirato"),
    "agreement.created": N_("Accordo creato"),
    "agreement.updated": N_("Accordo modificato"),
    "agreement.opened": N_("Aperto alle adesioni"),
    "agreement.reminded": N_("Sollecito inviato"),
    "agreement.adhered": N_("Adesione registrata"),
    "agreement.adhesion_annulled": N_("Adesione annullata"),
}

FIELD_LABELS = {
    "starts_at": N_("inizio"),
    "ends_at": N_("fine"),
    "venue": N_("sede"),
    "title": N_("titolo"),
    "capacity": N_("posti"),
    "seats_per_entity": N_("persone per ente"),
    "rsvp_deadline": N_("termine per le adesioni"),
    "notes": N_("note"),
    "agenda": N_("ordine del giorno"),
    "mode": N_("modalità"),
    "online_url": N_("collegamento online"),
    "name": N_("nome"),
    "address": N_("indirizzo"),
    "room": N_("sala"),
    "comune": N_("comune"),
    "accessibility_notes": N_("accessibilità"),
    "map_url": N_("mappa"),
    "area": N_("area"),
    "areas": N_("aree"),
    "phase": N_("fase"),
    "description": N_("descrizione"),
    "slot_start": N_("orario abituale: inizio"),
    "slot_end": N_("orario abituale: fine"),
    "facilitators": N_("facilitatori"),
}


def action_label(action: str) -> str:
    """The action in the page's language; an action without a label reads as a generic change."""
    return gettext(ACTION_LABELS.get(action, N_("Modifica")))


def changed_fields(details: dict) -> str:
    """Which fields a change touched, in words ("inizio, fine, sede")."""
    return ", ".join(gettext(FIELD_LABELS.get(name, name)) for name in (details.get("changes") or {}))
