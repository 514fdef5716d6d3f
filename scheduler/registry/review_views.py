"""Staff review of the applications: the list, one application, the decisions, paper applications, erasure.

Thin: parse the request, call `review` (reading) or `services` (deciding), commit, render or redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.auth.decorators import staff_required
from scheduler.auth.models import User
from scheduler.extensions import db, limiter
from scheduler.registry import bp, review
from scheduler.registry import services as registry
from scheduler.registry.forms import AddressCorrectionForm, ApplicationForm
from scheduler.registry.labels import LEGAL_FORMS, STATUS_LABELS, register_label
from scheduler.registry.models import Application, ApplicationStatus, ContactKind
from scheduler.registry.review_forms import STATUS_TABS, InformationRequestForm, RejectForm, ReviewFilterForm
from scheduler.timeutil import local_instant
from scheduler.web import call_or_404, in_its_call, int_arg, put_error, status_for

ViewResult = Response | tuple[str, int]


def _staff() -> User:
    """The real User object: services store it as reviewer and event actor."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _application_or_404(application_id: int) -> Application:
    application = review.application_for_review(application_id)
    if application is None:
        abort(404)
    in_its_call(application.call)
    return application


@bp.get("/gestione/candidature")
@staff_required
def review_list() -> str:
    call = call_or_404()
    form = ReviewFilterForm(call, formdata=request.args)
    queue = review.review_queue(call, **form.filters(), page=int_arg("pagina", 1, clamp=True))
    return render_template(
        "registry/review_list.html", call=call, form=form, queue=queue, page=queue.page, tabs=STATUS_TABS,
        status_labels=STATUS_LABELS, legal_forms=LEGAL_FORMS,
    )


def _detail(application: Application, *, reject_form: RejectForm | None = None,
            info_form: InformationRequestForm | None = None, address_form: AddressCorrectionForm | None = None,
            status: int = 200) -> tuple[str, int]:
    unconfirmed = application.status is ApplicationStatus.UNCONFIRMED
    address = application.organization.email
    if unconfirmed and address_form is None:
        address_form = AddressCorrectionForm(formdata=None, data={"email": address})
    page = render_template(
        "registry/review_detail.html",
        application=application,
        organization=application.organization,
        reject_form=reject_form or RejectForm(formdata=None),
        info_form=info_form or InformationRequestForm(formdata=None),
        address_form=address_form if unconfirmed else None,
        address_suggestion=registry.suggest_email(address) if unconfirmed else None,
        can_review=application.status in registry.REVIEWABLE,
        status_label=STATUS_LABELS[application.status],
        legal_forms=LEGAL_FORMS,
        register_label=register_label,
        event_label=review.event_label,
        event_actor=review.event_actor,
        kept_after_erasure=registry.KEPT_AFTER_ERASURE,
        ContactKind=ContactKind,
        ApplicationStatus=ApplicationStatus,
    )
    return page, status


@bp.get("/gestione/candidature/<int:application_id>")
@staff_required
def review_detail(application_id: int) -> ViewResult:
    return _detail(_application_or_404(application_id))


def _decide(application_id: int, decision: Callable[[Application], None], done: str) -> ViewResult:
    """Run a decision; a rule it breaks (e.g. admitting a withdrawn application) is shown, status 409."""
    application = _application_or_404(application_id)
    try:
        decision(application)
        db.session.commit()
    except registry.RegistryError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _detail(_application_or_404(application_id), status=status_for(error))
    flash(done, "success")
    return redirect(url_for("registry.review_detail", application_id=application_id), 303)


@bp.post("/gestione/candidature/<int:application_id>/ammetti")
@staff_required
def review_admit(application_id: int) -> ViewResult:
    return _decide(application_id, lambda a: registry.admit(a, _staff()), _("Candidatura ammessa."))


@bp.post("/gestione/candidature/<int:application_id>/rifiuta")
@staff_required
def review_reject(application_id: int) -> ViewResult:
    form = RejectForm()
    if not form.validate():
        return _detail(_application_or_404(application_id), reject_form=form, status=400)
    return _decide(application_id, lambda a: registry.reject(a, _staff(), form.reason.data),
                   _("Candidatura non ammessa: il motivo è stato inviato all'ente."))


@bp.post("/gestione/candidature/<int:application_id>/integrazioni")
@staff_required
def review_ask_information(application_id: int) -> ViewResult:
    form = InformationRequestForm()
    if not form.validate():
        return _detail(_application_or_404(application_id), info_form=form, status=400)
    return _decide(application_id, lambda a: registry.ask_for_information(a, _staff(), form.message.data),
                   _("Richiesta di integrazioni inviata all'ente."))


@bp.post("/gestione/candidature/<int:application_id>/modifiche-pubbliche")
@staff_required
def review_public_change(application_id: int) -> ViewResult:
    """Accept or refuse the name, legal form or website an admitted entity asked to show on the public list."""
    if request.form.get("action") == "accept":
        return _decide(application_id, lambda a: registry.accept_public_change(a, _staff()),
                       _("Modifiche accettate: l'elenco pubblico le mostra."))
    if request.form.get("action") == "refuse":
        return _decide(application_id, lambda a: registry.refuse_public_change(a, _staff()),
                       _("Modifiche non accettate: l'elenco pubblico resta com'era."))
    abort(400)


@bp.post("/gestione/candidature/<int:application_id>/modifica-aree")
@staff_required
def review_amendment(application_id: int) -> ViewResult:
    """Accept or refuse the areas and phases an admitted entity asked to add (a refusal gives a reason)."""
    action = request.form.get("action")
    if action not in ("accept", "refuse"):
        abort(400)
    reason = (request.form.get("reason") or "")[:2000]
    return _decide(application_id, lambda a: registry.decide_amendment(a, _staff(), action == "accept", reason),
                   _("Modifica accolta: l'ente partecipa anche alle aree e fasi aggiunte.") if action == "accept"
                   else _("Modifica non accolta: il motivo è stato inviato all'ente."))


def _per_application() -> str:
    return f"review-address:{(request.view_args or {}).get('application_id')}"


@bp.post("/gestione/candidature/<int:application_id>/indirizzo")
@staff_required
@limiter.limit("5 per hour", key_func=_per_application)
def review_correct_address(application_id: int) -> ViewResult:
    """The office corrects the contact person's address of an application nobody confirmed (the applicant wrote
    or phoned) and sends the confirmation link again; recorded in the history. The link goes to the mailbox
    only: neither the page nor the message shows it."""
    application = _application_or_404(application_id)
    form = AddressCorrectionForm()
    if not form.validate():
        return _detail(application, address_form=form, status=400)
    try:
        user = registry.correct_unconfirmed_address(application, form.email.data, _staff())
        db.session.commit()
    except registry.RegistryError as error:
        db.session.rollback()
        application = _application_or_404(application_id)
        if error.field:
            put_error(form, error)
        else:
            flash(error.message, "error")
        return _detail(application, address_form=form, status=status_for(error))
    flash(_("Indirizzo corretto: il nuovo collegamento di conferma è stato inviato a %(email)s. Quello inviato "
            "prima non funziona più.", email=user.email), "success")
    return redirect(url_for("registry.review_detail", application_id=application_id), 303)


def _confirm_erasure(application: Application) -> None:
    if application.organization.erasure_requested_at is None:
        raise registry.RegistryError(_("L'ente non ha chiesto la cancellazione dei dati."), code="closed")
    registry.confirm_erasure(application.organization, _staff())


@bp.post("/gestione/candidature/<int:application_id>/cancellazione")
@staff_required
def review_erase(application_id: int) -> ViewResult:
    return _decide(application_id, _confirm_erasure,
                   _("Dati personali cancellati. Restano conservati gli atti che la legge impone di tenere."))


@bp.route("/gestione/candidature/nuova", methods=["GET", "POST"])
@staff_required
def review_paper() -> ViewResult:
    """Type in an application received on paper: it skips the e-mail confirmation and goes to review."""
    call = call_or_404()
    # both phases are offered: lateness is judged by the date the paper form was received
    late = False
    form = ApplicationForm(call, late, paper=True)
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                received_at = local_instant(form.received_on.data, time(12, 0))
                application = registry.submit_application(call, form.to_data(), on_paper=True, actor=_staff(),
                                                          received_at=received_at)
                db.session.commit()
            except registry.RegistryError as error:
                db.session.rollback()
                put_error(form, error)
            else:
                flash(_("Candidatura registrata con il protocollo %(protocol)s.", protocol=application.protocol),
                      "success")
                return redirect(url_for("registry.review_detail", application_id=application.id), 303)
        status = 400
    return render_template("registry/review_paper.html", form=form, call=call, late=late), status
