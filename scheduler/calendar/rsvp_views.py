"""The entity's answer (adesione) to a meeting: yes or no, and who will come."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from scheduler.auth.decorators import role_required
from scheduler.auth.models import Role
from scheduler.calendar import bp
from scheduler.calendar import services as calendar
from scheduler.calendar.models import Rsvp
from scheduler.extensions import db
from scheduler.web import meeting_or_404, status_for

PEOPLE_ROWS = 5


def _people_from(form) -> list[dict[str, str]]:
    names = form.getlist("person_name")[: calendar.MAX_PEOPLE + 5]
    roles = form.getlist("person_role")[: calendar.MAX_PEOPLE + 5]
    return [{"name": name[:300], "role": (roles[i] if i < len(roles) else "")[:200]} for i, name in enumerate(names)]


@bp.route("/incontri/<int:meeting_id>/adesione", methods=["GET", "POST"])
@role_required(Role.ENTITY)
def rsvp(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    organization = current_user.organization
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
        people = _people_from(request.form)
        attending = {"yes": True, "no": False}.get(choice)
        if attending is None:
            errors["attending"] = _("Scegli se l'ente parteciperà.")
            status = 400
        else:
            try:
                answer = calendar.answer(meeting, organization, current_user._get_current_object(), attending, people)
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
                return redirect(url_for("calendar.rsvp", meeting_id=meeting.id))
    rows = people + [{"name": "", "role": ""}] * max(PEOPLE_ROWS - len(people), 1)
    return render_template(
        "calendar/rsvp.html", meeting=meeting, existing=existing, problem=problem, errors=errors, rows=rows,
        attending=attending, capacity=calendar.effective_capacity(meeting),
        confirmed=calendar.confirmed_count(meeting.id), closes_at=calendar.answers_close_at(meeting),
    ), status
