"""The public application form, its confirmation, and the entity's own area."""

from __future__ import annotations

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from scheduler.auth.decorators import role_required
from scheduler.auth.models import Role
from scheduler.bounds import valid_id
from scheduler.calendar import services as calendar_services  # a view sits above every layer it shows
from scheduler.calls.models import Call
from scheduler.extensions import db, limiter
from scheduler.mailing.preferences import OPTIONAL_KINDS
from scheduler.registry import bp, carry_over, contacts
from scheduler.registry import services as registry
from scheduler.registry.contact_forms import ContactForm
from scheduler.registry.forms import AddressCorrectionForm, ApplicationForm
from scheduler.registry.labels import STATUS_LABELS, register_label
from scheduler.registry.models import Application, ApplicationStatus, ContactKind
from scheduler.web import call_or_404, object_or_404, put_error, show_call, status_for

#: What the session keeps of the application this browser sent last: its id and when it was sent (an id alone
#: could name another application once this one is released and its number given again).
APPLIED_KEY = "applied_application"
#: Corrections of the address from the confirmation page, per browser's application and per IP.
ADDRESS_CORRECTION_LIMIT = "5 per hour"


def _apply_rate_limit() -> str:
    return current_app.config["APPLY_RATE_LIMIT"]


def _counts_as_application(response) -> bool:
    """Only an application sent uses up APPLY_RATE_LIMIT: not a form sent back with errors, nor one shown again
    with a "did you mean...?" hint on an address."""
    return response.status_code < 400 and not g.get("email_hints_shown")


def _sent_stamp(application: Application) -> str:
    return application.submitted_at.replace(microsecond=0).isoformat()


def _remember_application(application: Application) -> None:
    session["applied_email"] = application.organization.email
    session[APPLIED_KEY] = [application.id, _sent_stamp(application)]


def _session_application() -> Application | None:
    """The application this browser sent last (the session is signed: nobody can put another one's id in it),
    or None; never one another browser sent."""
    remembered = session.get(APPLIED_KEY)
    if not isinstance(remembered, list) or len(remembered) != 2:
        return None
    application_id, stamp = remembered
    if not isinstance(application_id, int) or isinstance(application_id, bool) or not valid_id(application_id):
        return None
    application = db.session.get(Application, application_id)
    if application is None or _sent_stamp(application) != stamp:
        return None
    return application


def _unconfirmed(application: Application | None) -> Application | None:
    return application if application is not None and application.status is ApplicationStatus.UNCONFIRMED else None


def _applied_key() -> str:
    remembered = session.get(APPLIED_KEY)
    return f"applied-address:{remembered[0] if isinstance(remembered, list) and remembered else '-'}"


@bp.route("/candidatura", methods=["GET", "POST"])
@limiter.limit(_apply_rate_limit, methods=["POST"], deduct_when=_counts_as_application)
def apply():
    call = call_or_404()
    try:
        registry.check_accepts_applications(call)
    except registry.RegistryError as error:  # a concluded call: its page says so, a form sent is refused
        status = status_for(error) if request.method == "POST" else 200
        return render_template("registry/apply.html", form=None, call=call, late=False,
                               concluded=_(error.message)), status
    late = registry.is_late(call)
    form = ApplicationForm(call, late)
    status = 200
    awaiting: dict = {}
    if form.is_submitted():
        if form.validate():
            if form.check_email_hints():
                g.email_hints_shown = True
                return render_template("registry/apply.html", form=form, call=call, late=late), 200
            try:
                application = registry.submit_application(call, form.to_data())
                db.session.commit()
            except registry.AwaitingConfirmation as error:
                awaiting = _awaiting(error, form)
                db.session.rollback()
            except registry.RegistryError as error:
                db.session.rollback()
                put_error(form, error)
            else:
                _remember_application(application)
                return redirect(url_for("registry.applied"))
        status = 400
    return render_template("registry/apply.html", form=form, call=call, late=late, **awaiting), status


def _awaiting(error: registry.AwaitingConfirmation, form: ApplicationForm) -> dict:
    """What to do when the codice fiscale waits for a confirmation: from the browser that sent it, correct the
    address at once (the form is offered with the address just typed); from another one, ask the office, or
    send again once the codice fiscale is free."""
    if _session_application() is error.application:
        form.codice_fiscale.errors = [*form.codice_fiscale.errors, _(
            "Hai già inviato da questo browser una candidatura con questo codice fiscale: attende la conferma "
            "dell'indirizzo e-mail. Se l'indirizzo era sbagliato, correggilo nel riquadro in cima alla pagina.")]
        return {"awaiting_own": error.application.organization.email,
                "address_form": AddressCorrectionForm(formdata=None, data={"email": form.contact_email.data})}
    form.codice_fiscale.errors = [*form.codice_fiscale.errors, _(
        "Una candidatura con questo codice fiscale attende la conferma dell'indirizzo e-mail: leggi qui sopra "
        "come correggere l'indirizzo.")]
    return {"awaiting_until": error.until}


def _applied_page(call, application: Application | None, form: AddressCorrectionForm | None = None,
                  message: str | None = None):
    """The confirmation page; while this browser's application waits, with the form that corrects its address
    and the hint for a mistyped domain."""
    pending = _unconfirmed(application)
    email = pending.organization.email if pending is not None else session.get("applied_email")
    if pending is not None and form is None:
        form = AddressCorrectionForm(formdata=None, data={"email": email})
    return render_template("registry/applied.html", call=call, email=email, pending=pending, form=form,
                           suggestion=registry.suggest_email(email) if pending is not None else None,
                           message=message)


@bp.get("/candidatura/inviata")
def applied():
    return _applied_page(call_or_404(), _session_application())


@bp.post("/candidatura/inviata/indirizzo")
@limiter.limit(ADDRESS_CORRECTION_LIMIT)
@limiter.limit(ADDRESS_CORRECTION_LIMIT, key_func=_applied_key)
def correct_address():
    """The confirmation page's "Hai sbagliato l'indirizzo?": the browser that sent the application corrects the
    contact person's address and gets the link again at once; the application is the session's, never one named
    by the form."""
    application = _session_application()
    if application is None:
        abort(404)
    call = application.call
    show_call(call)  # the page and its links are those of the call applied to
    form = AddressCorrectionForm()
    if not form.validate():
        return _applied_page(call, application, form), 400
    try:
        registry.correct_unconfirmed_address(application, form.email.data)
        db.session.commit()
    except registry.RegistryError as error:
        db.session.rollback()
        put_error(form, error)
        return (_applied_page(call, _session_application(), form, message=None if error.field else error.message),
                status_for(error))
    session["applied_email"] = application.organization.email
    flash(_("Indirizzo corretto: ti abbiamo inviato un nuovo collegamento a %(email)s. Il collegamento inviato "
            "prima non funziona più.", email=application.organization.email), "success")
    return redirect(url_for("registry.applied"), 303)


def _application_here() -> Application | None:
    """The signed-in entity's application for the current call, else its latest one of this Ambito (an entity
    admitted to an earlier call keeps its area while it is invited to the new one); never another entity's, nor
    one to another Ambito (the entity is shared, what each office holds about it is not)."""
    call = call_or_404()
    return db.session.scalar(
        db.select(Application).join(Call, Call.id == Application.call_id)
        .where(Application.organization_id == current_user.acting_for_id, Call.ambito_id == call.ambito_id)
        .order_by((Application.call_id == call.id).desc(), Application.call_id.desc()).limit(1)
    )


def _own_application() -> Application:
    application = _application_here()
    if application is None:
        abort(404)
    return application


@bp.get("/candidatura/<int:application_id>/conferma")
@role_required(Role.ENTITY)
def confirm(application_id: int):
    application = object_or_404(Application, application_id)
    if application.organization_id != current_user.acting_for_id:
        abort(404)
    if registry.confirm_application(application, current_user):
        db.session.commit()
        flash(_("Indirizzo confermato: la candidatura è stata inviata con il protocollo %(p)s. "
                "Ti abbiamo inviato la ricevuta per e-mail.", p=application.protocol), "success")
    return redirect(url_for("registry.my_area"))


@bp.get("/area-riservata")
@role_required(Role.ENTITY)
def my_area():
    g.private_page = True
    application = _application_here()
    if application is None:  # an entity of another Ambito, signed in here: it may apply to this one's call
        call = call_or_404()
        return render_template("registry/not_here.html", call=call,
                               organization=current_user.acting_for, accepting=registry.accepts_applications(call))
    meetings, answers = [], {}
    if application.status is ApplicationStatus.ADMITTED:
        meetings = calendar_services.meetings_for(application.organization, application)
        answers = calendar_services.rsvps_of(application.organization_id, [m.id for m in meetings])
    call = call_or_404()
    return render_template(
        "registry/my_area.html", application=application, organization=application.organization,
        meetings=meetings, answers=answers, current=call,
        invitations=[i for i in carry_over.pending_invitations(current_user.acting_for_id)
                     if i.call.ambito_id == call.ambito_id],
        status_label=STATUS_LABELS[application.status], register_label=register_label,
        kept_after_erasure=_(registry.KEPT_AFTER_ERASURE), ContactKind=ContactKind, ApplicationStatus=ApplicationStatus,
    )


def _form_from(application: Application, formdata=None) -> ApplicationForm:
    org = application.organization
    contacts = {c.kind: c for c in org.contacts}
    legal = contacts.get(ContactKind.LEGAL_REPRESENTATIVE)
    contact = contacts.get(ContactKind.CONTACT)
    pending = org.pending_public or {}
    data = {
        "name": pending.get("name", org.name), "legal_form": pending.get("legal_form", org.legal_form.value),
        "codice_fiscale": org.codice_fiscale,
        "partita_iva": org.partita_iva, "register": org.register, "register_number": org.register_number,
        "registered_office": org.registered_office, "website": pending.get("website", org.website),
        "comuni": [c.id for c in org.comuni],
        "legal_name": legal.full_name if legal else "", "legal_role": legal.role if legal else "",
        "legal_email": legal.email if legal else "", "legal_phone": legal.phone if legal else "",
        "contact_name": contact.full_name if contact else "", "contact_role": contact.role if contact else "",
        "contact_email": contact.email if contact else "", "contact_phone": contact.phone if contact else "",
        "areas": [a.area.code for a in application.areas],
        "phase_drafting": application.wants_drafting, "phase_implementation": application.wants_implementation,
        "privacy": True, "truthful": True,
    }
    competences = {a.area.code: a.competence for a in application.areas}
    pending = application.pending_scope or {}
    if pending:  # what the entity asked to add is shown as asked: saving again keeps the request
        data["areas"] = sorted({*data["areas"], *(pending.get("areas") or {})})
        competences.update(pending.get("areas") or {})
        data["phase_drafting"] = data["phase_drafting"] or bool(pending.get("drafting"))
        data["phase_implementation"] = data["phase_implementation"] or bool(pending.get("implementation"))
    return ApplicationForm(
        application.call, application.late, editing=True, formdata=formdata, data=None if formdata else data,
        competences=competences,
    )


@bp.route("/area-riservata/modifica", methods=["GET", "POST"])
@role_required(Role.ENTITY)
def edit_application():
    g.private_page = True
    application = _own_application()
    if application.status is ApplicationStatus.WITHDRAWN or application.organization.erased_at:
        flash(_("La candidatura è ritirata: non si può modificare."), "warning")
        return redirect(url_for("registry.my_area"))
    form = _form_from(application, request.form if request.method == "POST" else None)
    # the codice fiscale identifies the entity: it is not changed here
    form.codice_fiscale.data = application.organization.codice_fiscale
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                updated = registry.update_application(application, current_user, form.to_data())
                db.session.commit()
            except registry.RegistryError as error:
                db.session.rollback()
                application = _own_application()
                put_error(form, error)
            else:
                message = _("Dati aggiornati.")
                if updated.amendment_waits:
                    message += " " + _("Le aree o le fasi aggiunte saranno esaminate dall'Ufficio di Piano: "
                                       "intanto l'ente resta ammesso per quelle di prima.")
                if updated.reduced:
                    message += " " + _("Le aree o le fasi tolte non valgono più: le adesioni agli incontri "
                                       "che non le riguardano più sono state ritirate.")
                if updated.public_waits:
                    message += " " + _("Denominazione, forma giuridica e sito web cambiano nell'elenco pubblico "
                                       "dopo la verifica dell'Ufficio di Piano.")
                if not current_user.active:  # the signed-in person replaced their own address
                    logout_user()
                    flash(message + " " + _("Il tuo indirizzo non è più quello dell'ente: per accedere di nuovo "
                                            "usa il nuovo indirizzo."), "success")
                    return redirect(url_for("auth.login"))
                if application.organization not in current_user.organizations:  # it still speaks for others
                    flash(message + " " + _("Il tuo indirizzo non è più quello di %(name)s: ora puoi operare solo "
                                            "per gli altri tuoi enti.", name=application.organization.name),
                          "success")
                    return redirect(url_for("registry.my_area"))
                flash(message, "success")
                return redirect(url_for("registry.my_area"))
        status = 400
    return render_template("registry/apply.html", form=form, call=application.call, late=application.late,
                           editing=True, application=application), status


@bp.post("/area-riservata/risposta")
@role_required(Role.ENTITY)
def answer_request():
    application = _own_application()
    try:
        registry.answer_information_request(application, current_user, request.form.get("answer", "")[:5000])
        db.session.commit()
    except registry.RegistryError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("registry.my_area")), 303
    flash(_("Risposta inviata: la candidatura torna all'esame dell'Ufficio di Piano."), "success")
    return redirect(url_for("registry.my_area"))


@bp.post("/area-riservata/ritira")
@role_required(Role.ENTITY)
def withdraw():
    application = _own_application()
    try:
        registry.withdraw(application, current_user)
        db.session.commit()
    except registry.RegistryError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("registry.my_area"))
    flash(_("La candidatura è stata ritirata."), "success")
    return redirect(url_for("registry.my_area"))


@bp.get("/area-riservata/dati.json")
@role_required(Role.ENTITY)
def export_data():
    application = _own_application()
    response = jsonify(registry.export_data(application.organization))
    response.headers["Content-Disposition"] = 'attachment; filename="dati-ente.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/area-riservata/cancellazione")
@role_required(Role.ENTITY)
def request_erasure():
    application = _own_application()
    try:
        registry.request_erasure(application.organization, current_user)
        db.session.commit()
    except registry.RegistryError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("registry.my_area"))
    flash(_("Richiesta di cancellazione inviata: l'Ufficio di Piano la esaminerà."), "success")
    return redirect(url_for("registry.my_area"))


@bp.post("/area-riservata/calendario")
@role_required(Role.ENTITY)
def regenerate_feed():
    application = _own_application()
    calendar_services.regenerate_feed_token(application.organization)
    db.session.commit()
    flash(_("Nuovo indirizzo del calendario creato: quello precedente non funziona più."), "success")
    return redirect(url_for("registry.my_area") + "#calendar-feed")


# --- contacts and mail preferences ---------------------------------------------------------------------------


def _contacts_page(application: Application, form, status: int = 200):
    return render_template(
        "registry/contacts.html", application=application, organization=application.organization,
        form=form, extra=contacts.extra_contacts(application.organization), ContactKind=ContactKind,
    ), status


@bp.route("/area-riservata/contatti", methods=["GET", "POST"])
@role_required(Role.ENTITY)
def contacts_page():
    g.private_page = True
    application = _own_application()
    form = ContactForm(contacts.areas_of(application))
    if request.method == "GET":
        return _contacts_page(application, form)
    if application.organization.erased_at or application.status is ApplicationStatus.WITHDRAWN:
        flash(_("La candidatura è ritirata: i contatti non si possono cambiare."), "warning")
        return redirect(url_for("registry.contacts_page"), 303)
    if not form.validate():
        return _contacts_page(application, form, 400)
    try:
        contacts.add_contact(application, form.data_(), current_user)
        db.session.commit()
    except contacts.ContactError as error:
        db.session.rollback()
        application = _own_application()
        put_error(form, error)
        return _contacts_page(application, form, 400)
    flash(_("Delegato aggiunto. Gli abbiamo scritto per confermare l'indirizzo: riceverà le comunicazioni "
            "dell'Ufficio di Piano dopo la conferma."), "success")
    return redirect(url_for("registry.contacts_page"), 303)


@bp.post("/area-riservata/contatti/<int:contact_id>/conferma")
@role_required(Role.ENTITY)
@limiter.limit("10 per hour")
def resend_confirmation(contact_id: int):
    application = _own_application()
    try:
        contacts.resend_confirmation(application, contact_id)
        db.session.commit()
    except contacts.ContactNotFound:
        abort(404)
    except contacts.ContactError as error:
        flash(error.message, "warning")
        return redirect(url_for("registry.contacts_page"), 303)
    flash(_("Richiesta di conferma inviata di nuovo."), "success")
    return redirect(url_for("registry.contacts_page"), 303)


@bp.route("/contatti/conferma/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def confirm_delegate(token: str):
    """The person named as a delegate confirms the address is theirs (a button: mail scanners open links)."""
    try:
        contact = contacts.confirm_delegate(token) if request.method == "POST" else contacts.pending_confirmation(
            token)
        if request.method == "POST":
            db.session.commit()
    except contacts.ContactNotFound as error:
        return render_template("registry/delegate_confirm.html", contact=None, message=error.message), 404
    return render_template("registry/delegate_confirm.html", contact=contact, done=request.method == "POST")


@bp.post("/area-riservata/contatti/<int:contact_id>/rimuovi")
@role_required(Role.ENTITY)
def remove_contact(contact_id: int):
    application = _own_application()
    try:
        contacts.remove_contact(application, contact_id, current_user)
        db.session.commit()
    except contacts.ContactNotFound:
        abort(404)
    except contacts.ContactError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("registry.contacts_page"), 303)
    flash(_("Contatto rimosso."), "success")
    return redirect(url_for("registry.contacts_page"), 303)


@bp.route("/area-riservata/preferenze-email", methods=["GET", "POST"])
@role_required(Role.ENTITY)
def mail_preferences():
    g.private_page = True
    application = _own_application()
    organization = application.organization
    if request.method == "POST":
        wanted: dict[str, set[str]] = {}
        for address in contacts.addresses_of(organization, current_user.email):
            wanted[address.lower()] = {kind for kind in OPTIONAL_KINDS
                                       if f"{kind}:{address.lower()}" in request.form.getlist("wanted")}
        contacts.save_mail_preferences(organization, wanted, current_user.email)
        db.session.commit()
        flash(_("Preferenze salvate."), "success")
        return redirect(url_for("registry.mail_preferences"), 303)
    return render_template(
        "registry/mail_preferences.html", application=application, organization=organization,
        refused=contacts.mail_preferences(organization, current_user.email), kinds=OPTIONAL_KINDS,
        others=contacts.others_of(organization, current_user.email),
    )
