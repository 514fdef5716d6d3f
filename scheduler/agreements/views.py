"""Pages of the Accordo di Programma: staff's under /gestione/accordi, the entity's in its reserved area.

Thin: parse the form, call one service, commit once, say what happened; a refusal is shown next to its field
with the status of its code. Files are answered as downloads (`attachment`, `nosniff`, never stored by the
browser): the Accordo's text to staff and the entities asked, the signed adhesions to staff only.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.agreements import bp, exports, services
from scheduler.agreements.forms import AdhesionForm, AgreementForm, AnnulForm, sent_file
from scheduler.agreements.models import Agreement, AgreementAdhesion, AgreementInvitation, AgreementStatus
from scheduler.audit.labels import action_label
from scheduler.audit.services import entries_for
from scheduler.auth.decorators import role_required, staff_required
from scheduler.auth.models import Role, User
from scheduler.calls.models import Call
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.registry.models import Organization
from scheduler.web import call_or_404, object_or_404, put_error, status_for

ViewResult = Response | str | tuple[str, int]

#: How the staff pages name each step recorded in the audit log.
#: The tabs of the staff list of who adhered.
FILTERS = {"": _l("Tutti"), "aderito": _l("Hanno aderito"), "mancante": _l("In attesa")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user() -> User:
    """The real User object: services store it as the actor."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _max_bytes() -> int:
    return int(current_app.config.get("AGREEMENT_FILE_MAX_BYTES", services.DEFAULT_MAX_BYTES))


def _agreement_or_404(call: Call, agreement_id: int) -> Agreement:
    agreement = object_or_404(Agreement, agreement_id)
    if agreement.call_id != call.id:
        abort(404)
    return agreement


def _download(data: bytes, content_type: str, filename: str) -> Response:
    response = send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True, download_name=filename,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _document(agreement: Agreement) -> Response:
    data = db.session.scalar(db.select(Agreement.document_data).where(Agreement.id == agreement.id))
    return _download(data, agreement.document_content_type, agreement.document_filename)


# --- staff -------------------------------------------------------------------------------------------------------


@bp.get("/gestione/accordi")
@staff_required
def index() -> str:
    call = call_or_404()
    return render_template("agreements/index.html", call=call, items=services.summaries(call))


def _form_page(call: Call, form: AgreementForm, agreement: Agreement | None = None,
               status: int = 200) -> tuple[str, int]:
    return render_template("agreements/form.html", call=call, form=form, agreement=agreement,
                           max_mb=_max_bytes() / 1048576), status


@bp.route("/gestione/accordi/nuovo", methods=["GET", "POST"])
@staff_required
def new() -> ViewResult:
    call = call_or_404()
    entities = services.admitted_organizations(call)
    if request.method == "GET":
        form = AgreementForm(entities, formdata=None, organizations=[str(o.id) for o in entities])
        return _form_page(call, form)
    form = AgreementForm(entities)
    if not form.validate():
        return _form_page(call, form, status=400)
    try:
        agreement = services.create_agreement(call, form.data_for(with_organizations=True),
                                               sent_file(form.document, _max_bytes()), _user(), _max_bytes())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        put_error(form, error)
        return _form_page(call, form, status=status_for(error))
    flash(_("Accordo salvato come bozza. Controlla il documento e gli enti, poi aprilo alle adesioni."), "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement.id), 303)


def _entities_for_edit(call: Call, agreement: Agreement) -> list[Organization]:
    """The admitted entities, and those asked already that no longer are (so they can be unticked)."""
    entities = services.admitted_organizations(call)
    known = {o.id for o in entities}
    extra = [i.organization for i in agreement.invitations if i.organization_id not in known]
    return entities + sorted(extra, key=lambda o: o.sort_name)


@bp.route("/gestione/accordi/<int:agreement_id>/modifica", methods=["GET", "POST"])
@staff_required
def edit(agreement_id: int) -> ViewResult:
    call = call_or_404()
    agreement = _agreement_or_404(call, agreement_id)
    draft = agreement.status is AgreementStatus.DRAFT
    entities = _entities_for_edit(call, agreement) if draft else []
    if request.method == "GET":
        return _form_page(call, AgreementForm.for_agreement(entities, agreement, formdata=None), agreement)
    form = AgreementForm(entities)
    if not form.validate():
        return _form_page(call, form, agreement, 400)
    try:
        services.update_agreement(agreement, form.data_for(with_organizations=draft),
                                  sent_file(form.document, _max_bytes()) if draft else None, _user(), _max_bytes())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        put_error(form, error)
        return _form_page(call, form, _agreement_or_404(call, agreement_id), status_for(error))
    flash(_("Accordo aggiornato."), "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement.id), 303)


def _detail_page(call: Call, agreement: Agreement, status: int = 200) -> tuple[str, int]:
    board = services.board(agreement)
    shown = request.args.get("stato", "")
    if shown not in FILTERS:
        shown = ""
    rows = [r for r in board.rows if not shown or (r.adhesion is not None) == (shown == "aderito")]
    return render_template(
        "agreements/detail.html", call=call, agreement=agreement, board=board, rows=rows, shown=shown,
        filters=FILTERS, history=entries_for("agreement", agreement.id, limit=50), action_label=action_label,
        closed=agreement.is_closed(), Status=AgreementStatus,
    ), status


@bp.get("/gestione/accordi/<int:agreement_id>")
@staff_required
def detail(agreement_id: int) -> ViewResult:
    call = call_or_404()
    return _detail_page(call, _agreement_or_404(call, agreement_id))


def _act(agreement_id: int, action: Callable[[Agreement], str]) -> ViewResult:
    """One button of the detail page: do it, commit, say what happened; a broken rule is said on the page."""
    call = call_or_404()
    agreement = _agreement_or_404(call, agreement_id)
    try:
        message = action(agreement)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _detail_page(call, _agreement_or_404(call, agreement_id), status_for(error))
    flash(message, "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement_id), 303)


@bp.post("/gestione/accordi/<int:agreement_id>/apri")
@staff_required
def open_for_adhesion(agreement_id: int) -> ViewResult:
    def act(agreement: Agreement) -> str:
        sent = services.open_for_adhesion(agreement, _user())
        return ngettext("Accordo aperto alle adesioni: la richiesta è in invio a %(num)d ente (%(messages)d messaggi).",
                        "Accordo aperto alle adesioni: la richiesta è in invio a %(num)d enti (%(messages)d messaggi).",
                        sent.entities, messages=sent.messages)

    return _act(agreement_id, act)


@bp.post("/gestione/accordi/<int:agreement_id>/sollecito")
@staff_required
def remind(agreement_id: int) -> ViewResult:
    def act(agreement: Agreement) -> str:
        sent = services.remind_missing(agreement, _user())
        return ngettext("Sollecito in invio a %(num)d ente che non ha ancora aderito (%(messages)d messaggi).",
                        "Sollecito in invio a %(num)d enti che non hanno ancora aderito (%(messages)d messaggi).",
                        sent.entities, messages=sent.messages)

    return _act(agreement_id, act)


@bp.post("/gestione/accordi/<int:agreement_id>/elimina")
@staff_required
def delete(agreement_id: int) -> ViewResult:
    call = call_or_404()
    agreement = _agreement_or_404(call, agreement_id)
    try:
        services.delete_draft(agreement, _user())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _detail_page(call, _agreement_or_404(call, agreement_id), status_for(error))
    flash(_("Bozza eliminata."), "success")
    return redirect(url_for("agreements.index"), 303)


@bp.get("/gestione/accordi/<int:agreement_id>/documento")
@staff_required
def document(agreement_id: int) -> Response:
    return _document(_agreement_or_404(call_or_404(), agreement_id))


def _adhesion_or_404(agreement: Agreement, adhesion_id: int) -> AgreementAdhesion:
    adhesion = services.adhesion_of(agreement, adhesion_id)
    if adhesion is None:
        abort(404)
    return adhesion


@bp.get("/gestione/accordi/<int:agreement_id>/adesioni/<int:adhesion_id>/copia-firmata")
@staff_required
def signed_copy(agreement_id: int, adhesion_id: int) -> Response:
    agreement = _agreement_or_404(call_or_404(), agreement_id)
    adhesion = _adhesion_or_404(agreement, adhesion_id)
    if not adhesion.has_signed_copy:
        abort(404)
    data = db.session.scalar(db.select(AgreementAdhesion.signed_data).where(AgreementAdhesion.id == adhesion.id))
    return _download(data, adhesion.signed_content_type or "application/pdf", adhesion.signed_filename or "")


def _annul_page(call: Call, agreement: Agreement, adhesion: AgreementAdhesion, form: AnnulForm,
                status: int = 200) -> tuple[str, int]:
    return render_template("agreements/annul.html", call=call, agreement=agreement, adhesion=adhesion,
                           form=form), status


@bp.route("/gestione/accordi/<int:agreement_id>/adesioni/<int:adhesion_id>/annulla", methods=["GET", "POST"])
@staff_required
def annul(agreement_id: int, adhesion_id: int) -> ViewResult:
    call = call_or_404()
    agreement = _agreement_or_404(call, agreement_id)
    adhesion = _adhesion_or_404(agreement, adhesion_id)
    if request.method == "GET":
        return _annul_page(call, agreement, adhesion, AnnulForm(formdata=None))
    form = AnnulForm()
    if not form.validate():
        return _annul_page(call, agreement, adhesion, form, 400)
    try:
        services.annul(adhesion, _user(), form.reason.data or "")
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        put_error(form, error)
        agreement = _agreement_or_404(call, agreement_id)
        return _annul_page(call, agreement, _adhesion_or_404(agreement, adhesion_id), form, status_for(error))
    flash(_("Adesione di «%(entity)s» annullata: l'ente è stato avvisato con il motivo.",
            entity=adhesion.invitation.organization.name), "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement_id), 303)


def _export_name(agreement: Agreement, extension: str) -> str:
    return f"adesioni-accordo-{agreement.id}.{extension}"


@bp.get("/gestione/accordi/<int:agreement_id>/adesioni.csv")
@staff_required
def export_csv(agreement_id: int) -> Response:
    agreement = _agreement_or_404(call_or_404(), agreement_id)
    return Response(exports.to_csv(agreement, services.board(agreement)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_export_name(agreement, "csv")}"',
                             "Cache-Control": "no-store"})


@bp.get("/gestione/accordi/<int:agreement_id>/adesioni.xlsx")
@staff_required
def export_xlsx(agreement_id: int) -> Response:
    agreement = _agreement_or_404(call_or_404(), agreement_id)
    return Response(exports.to_xlsx(agreement, services.board(agreement)), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{_export_name(agreement, "xlsx")}"',
                             "Cache-Control": "no-store"})


# --- the entity ----------------------------------------------------------------------------------------------------


def _entity_agreement_or_404(agreement_id: int) -> tuple[Agreement, AgreementInvitation]:
    """The open Accordo the signed-in entity was asked to, of whichever call (not only the current one: staff
    may have made another call current meanwhile), with its invitation; else 404 (a draft, one the entity was
    not asked to: the same answer as no Accordo at all)."""
    agreement = object_or_404(Agreement, agreement_id)
    invitation = services.visible_invitation(agreement, current_user.acting_for_id)
    if invitation is None:
        abort(404)
    return agreement, invitation


def _adhere_page(agreement: Agreement, invitation: AgreementInvitation, form: AdhesionForm,
                 status: int = 200) -> tuple[str, int]:
    return render_template(
        "agreements/adhere.html", agreement=agreement, invitation=invitation, organization=invitation.organization,
        adhesion=services.in_force(invitation),
        annulled=[a for a in invitation.adhesions if a.annulled_at is not None],
        closed=agreement.is_closed(), form=form, max_mb=_max_bytes() / 1048576,
    ), status


@bp.route("/area-riservata/accordi/<int:agreement_id>", methods=["GET", "POST"])
@role_required(Role.ENTITY)
def adhere(agreement_id: int) -> ViewResult:
    agreement, invitation = _entity_agreement_or_404(agreement_id)
    organization = invitation.organization
    if request.method == "GET":
        legal = services.legal_representative(organization)
        form = AdhesionForm(agreement, organization, formdata=None,
                            signatory_name=legal.full_name if legal else "",
                            signatory_role=legal.role if legal else "")
        return _adhere_page(agreement, invitation, form)
    form = AdhesionForm(agreement, organization)
    complete = form.validate()
    try:
        if not complete:  # what was typed is incomplete; a closed deadline or an adhesion given already come first
            services.check_can_adhere(agreement, invitation)
            return _adhere_page(agreement, invitation, form, 400)
        services.adhere(agreement, organization, _user(), signatory_name=form.signatory_name.data or "",
                        signatory_role=form.signatory_role.data or "", declared=bool(form.declaration.data),
                        signed_copy=sent_file(form.signed_copy, _max_bytes()), max_bytes=_max_bytes())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        agreement, invitation = _entity_agreement_or_404(agreement_id)
        if error.field:
            put_error(form, error)
        else:
            flash(error.message, "error")
        return _adhere_page(agreement, invitation, form, status_for(error))
    flash(_("Adesione registrata. Vi abbiamo inviato la ricevuta per e-mail."), "success")
    return redirect(url_for("agreements.adhere", agreement_id=agreement_id), 303)


@bp.get("/area-riservata/accordi/<int:agreement_id>/documento")
@role_required(Role.ENTITY)
def entity_document(agreement_id: int) -> Response:
    agreement, _invitation = _entity_agreement_or_404(agreement_id)
    return _document(agreement)


@bp.app_template_global()
def agreements_for_entity(organization: Organization) -> list[services.EntityAgreement]:
    """The open Accordi the entity was asked to, of every call, for the box of its reserved area (reads only)."""
    return services.for_entity(organization.id)
