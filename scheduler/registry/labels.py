"""Italian names of the registry's choices, shared by forms, pages, exports and e-mails."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from scheduler.registry.models import ApplicationStatus, LegalForm

#: The legal forms of art. 4 c.1 D.Lgs. 117/2017 named by the avviso (form choices, pages, exports).
LEGAL_FORMS = {
    LegalForm.ODV: _l("Organizzazione di volontariato (ODV)"),
    LegalForm.APS: _l("Associazione di promozione sociale (APS)"),
    LegalForm.PHILANTHROPIC: _l("Ente filantropico"),
    LegalForm.SOCIAL_ENTERPRISE: _l("Impresa sociale"),
    LegalForm.SOCIAL_COOPERATIVE: _l("Cooperativa sociale"),
    LegalForm.NETWORK: _l("Rete associativa"),
    LegalForm.MUTUAL_AID: _l("Società di mutuo soccorso"),
    LegalForm.RECOGNISED_ASSOCIATION: _l("Associazione riconosciuta"),
    LegalForm.UNRECOGNISED_ASSOCIATION: _l("Associazione non riconosciuta"),
    LegalForm.FOUNDATION: _l("Fondazione"),
    LegalForm.OTHER: _l("Altro ente privato senza scopo di lucro (art. 4 c.1 D.Lgs. 117/2017)"),
}

#: Registers an ETS can be listed in (the avviso: "iscritti negli elenchi regionali/nazionali").
REGISTERS = {
    "runts-a": _l("RUNTS – sezione a) Organizzazioni di volontariato"),
    "runts-b": _l("RUNTS – sezione b) Associazioni di promozione sociale"),
    "runts-c": _l("RUNTS – sezione c) Enti filantropici"),
    "runts-d": _l("RUNTS – sezione d) Imprese sociali, incluse le cooperative sociali"),
    "runts-e": _l("RUNTS – sezione e) Reti associative"),
    "runts-f": _l("RUNTS – sezione f) Società di mutuo soccorso"),
    "runts-g": _l("RUNTS – sezione g) Altri enti del Terzo Settore"),
    "albo-coop": _l("Albo regionale delle cooperative sociali"),
    "registro-regionale": _l("Altro registro o albo regionale"),
}

STATUS_LABELS = {
    ApplicationStatus.UNCONFIRMED: _l("In attesa di conferma dell'e-mail"),
    ApplicationStatus.SUBMITTED: _l("In esame"),
    ApplicationStatus.NEEDS_INFO: _l("Richiesta di integrazioni"),
    ApplicationStatus.ADMITTED: _l("Ammessa"),
    ApplicationStatus.REJECTED: _l("Non ammessa"),
    ApplicationStatus.WITHDRAWN: _l("Ritirata"),
}


def register_label(key: str) -> str:
    """The register's name; values typed on paper forms are shown as they are."""
    label = REGISTERS.get(key)
    return str(label) if label else key


#: Badge colours of the application statuses, the same on the entity's and the staff's pages.
STATUS_BADGES = {
    ApplicationStatus.ADMITTED: "bg-success",
    ApplicationStatus.REJECTED: "bg-danger",
    ApplicationStatus.NEEDS_INFO: "bg-warning text-dark",
    ApplicationStatus.WITHDRAWN: "bg-secondary",
    ApplicationStatus.UNCONFIRMED: "bg-light text-dark",
    ApplicationStatus.SUBMITTED: "bg-primary",
}
