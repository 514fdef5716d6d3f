"""The entity's answer (adesione) to a meeting: yes or no, and who will come."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from scheduler.auth.decorators import role_required
from scheduler.auth.models import Role, User
from scheduler.auth.services import entity_account
from scheduler.calendar import bp
from scheduler.calendar import services as calendar
from scheduler.calendar.answer_links import read_answer_token
from scheduler.calendar.models import Meeting, Rsvp
from scheduler.extensions import db, limiter
from scheduler.registry.models import Organization
from scheduler.registry.recipients import Address
from scheduler.web import meeting_or_404, status_for

PEOPLE_ROWS = 5
ViewResult = Response | tuple[str, int]


def _people_from(form) -> list[dict[str, str]]:
    names = form.getlist("person_name")[: calendar.MAX_PEOPLE + 5]
    roles = form.getlist("person_role")[: calendar.MAX_PEOPLE + 5]
    emails = form.getlist("person_email")[: calendar.MAX_PEOPLE + 5]
    return [{"name": name[:300], "role": (roles[i] if i < len(roles) else "")[:200],
             "email": (emails[i] if i < len(emails) else "")[:300]} for i, name in enumerate(names)]


def _answer_page(meeting: Meeting, organization: Organization, user: User | None, address: Address | None,
                 back_url: str) -> ViewResult:
    """The answer form for one entity, whether it came signed in or with the link of its invitation."""
    application = calendar.admitted_application(organization.id, meeting.track.call_id)
    existing = db.session.scalar(
        db.select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.organization_id == organization.id)
    )
    problem = None
    try:
        calendar.check_can_answer(meeting, application)
    except calendar.CalendarError as error:
        problem = error.message

    errors: dict[str, str] = {}
    people = list(existing.people) if existing and existing.people else []
    attending = None
    status = 200
    if request.method == "POST":
        choice = request.form.get("attending")
        # the rows as typed, without the empty ones: a failed submit does not grow the form
        people = [p for p in _people_from(request.form) if p["name"].strip() or p["role"].strip() or p["email"].strip()]
        attending = {"yes": True, "no": False}.get(choice)
        if attending is None:
            errors["attending"] = _("Scegli se l'ente parteciperà.")
            status = 400
        else:
            try:
                answer = calendar.answer(meeting, organization, user, attending, people, address=address)
                db.session.commit()
            except calendar.CalendarError as error:
                db.session.rollback()
                errors[error.field or "form"] = error.message
                status = status_for(error)
            else:
                messages = {
                    "yes": _("Partecipazione confermata: ti abbiamo inviato l'invito per il calendario."),
                    "waitlist": _("L'incontro è al completo: l'ente è in lista d'attesa. Ti scriveremo se si libera "
                                  "un posto."),
                    "no": _("Risposta registrata: l'ente non parteciperà."),
                }
                flash(messages[answer.status.value], "success")
                return redirect(back_url)
    rows = people + [{"name": "", "role": "", "email": ""}] * max(PEOPLE_ROWS - len(people), 1)
    return render_template(
        "calendar/rsvp.html", meeting=meeting, organization=organization, signed_in=user is not None
        and address is None, existing=existing, problem=problem, errors=errors, rows=rows, attending=attending,
        capacity=calendar.effective_capacity(meeting), confirmed=calendar.taken_seats(meeting.id),
        closes_at=calendar.answers_close_at(meeting),
    ), status


@bp.route("/incontri/<int:meeting_id>/adesione", methods=["GET", "POST"])
@role_required(Role.ENTITY)
def rsvp(meeting_id: int) -> ViewResult:
    meeting = meeting_or_404(meeting_id)
    return _answer_page(meeting, current_user.acting_for, current_user._get_current_object(), None,
                        url_for("calendar.rsvp", meeting_id=meeting.id))


@bp.route("/incontri/<int:meeting_id>/risposta/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def rsvp_by_link(meeting_id: int, token: str) -> ViewResult:
    """The link of an invitation or a notice: it answers this meeting for the entity it was sent to, and
    nothing else (it does not sign in; the reserved area still asks for a sign-in link of its own)."""
    meeting = meeting_or_404(meeting_id)
    link = read_answer_token(meeting, token)
    if link is None:
        return render_template("calendar/answer_link_invalid.html", meeting=meeting), 404
    user = entity_account(link.organization.id, link.email)
    return _answer_page(meeting, link.organization, user,
                        Address(link.email, user.full_name if user and user.full_name else link.organization.name,
                                link.organization),
                        url_for("calendar.rsvp_by_link", meeting_id=meeting.id, token=token))
