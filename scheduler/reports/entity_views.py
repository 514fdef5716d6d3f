"""The entity's record in its reserved area: its past meetings, present or absent and who came, with its
certificate (the same PDF staff download) and its attendance as CSV.

Thin: the organization is always the signed-in account's (no entity id in the URLs, so nobody can ask for
another's); the call of a download is the one its address names (`<call_slug>`, read by `call_or_404`).
"""

from __future__ import annotations

from flask import Response, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user

from scheduler.auth.decorators import role_required
from scheduler.auth.models import Role
from scheduler.errors import DomainError
from scheduler.extensions import db
from scheduler.registry.models import Organization
from scheduler.reports import bp, exports, record, services
from scheduler.reports.certificates import certificate_pdf
from scheduler.timeutil import ROME, utcnow
from scheduler.web import call_or_404, request_ambito, status_for


def _organization() -> Organization:
    organization = db.session.get(Organization, current_user.acting_for_id) \
        if current_user.acting_for_id is not None else None
    if organization is None:
        abort(404)
    return organization


def _call_record(organization: Organization) -> record.CallRecord:
    call = call_or_404()
    try:
        return record.call_record(call, organization.id)
    except DomainError as error:
        abort(status_for(error))


@bp.get("/area-riservata/partecipazione")
@role_required(Role.ENTITY)
def entity_record() -> str:
    organization = _organization()
    ambito = request_ambito()
    records = record.entity_record(organization.id, ambito.id) if ambito is not None else []
    return render_template("reports/entity_record.html", organization=organization, records=records,
                           PRESENT=record.PRESENT, ABSENT=record.ABSENT)


@bp.get("/area-riservata/partecipazione/<call_slug>/attestato.pdf")
@role_required(Role.ENTITY)
def entity_certificate() -> Response:
    organization = _organization()
    call = _call_record(organization).call
    # the staff's certificate of the whole call, from the same query
    meetings = services.attended_meetings(call, organization.id, date_from=None, date_to=None)
    pdf = certificate_pdf(call, organization, meetings, date_from=None, date_to=None,
                          issued_on=utcnow().astimezone(ROME).date())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="attestato-{call.slug}.pdf"'})


@bp.get("/area-riservata/partecipazione/<call_slug>/presenze.csv")
@role_required(Role.ENTITY)
def entity_attendance_csv() -> Response:
    organization = _organization()
    call_record = _call_record(organization)
    body = exports.csv_bytes(*record.attendance_table(call_record, _))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="presenze-{call_record.call.slug}.csv"'})
