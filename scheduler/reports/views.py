"""Staff pages of the participation reports. Thin: read the filters, call `services`, render or send a file."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from scheduler import formatting
from scheduler.auth.decorators import staff_required
from scheduler.extensions import db
from scheduler.forms import FIRST_YEAR, LAST_YEAR
from scheduler.registry.models import Organization
from scheduler.reports import bp, charts, exports, services
from scheduler.reports.certificates import certificate_pdf
from scheduler.reports.forms import AbsentNoticeForm, ReportFilterForm
from scheduler.timeutil import ROME, utcnow
from scheduler.web import call_or_404, object_or_404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _charts(report: services.Report) -> dict:
    return {
        "meetings": charts.bar_chart(
            "chart-meetings", _("Confermati, presenti e assenti senza avviso per incontro"),
            [f"{formatting.format_instant(m.starts_at)[:10]} {m.area_code}" for m in report.meetings],
            [charts.Series(_("Confermati"), [m.confirmed for m in report.meetings]),
             charts.Series(_("Presenti"), [m.present for m in report.meetings]),
             charts.Series(_("Assenti senza avviso"), [m.absent for m in report.meetings])],
        ) if report.meetings else None,
        "areas": charts.bar_chart(
            "chart-areas", _("Presenze di enti e enti diversi per area"),
            [f"{a.code}) {a.name}" for a in report.areas],
            [charts.Series(_("Presenze"), [a.present for a in report.areas]),
             charts.Series(_("Enti diversi"), [a.entities for a in report.areas])],
        ) if report.areas else None,
        "comuni": charts.bar_chart(
            "chart-comuni", _("Enti presenti almeno una volta per comune"),
            [c.name for c in report.comuni if c.entities],
            [charts.Series(_("Enti presenti"), [c.entities for c in report.comuni if c.entities])],
        ) if any(c.entities for c in report.comuni) else None,
    }


@bp.get("/gestione/partecipazione")
@staff_required
def index() -> tuple[str, int]:
    """The report of the filters' period; with a date out of range, the filters with its error and no report."""
    call = call_or_404()
    form = ReportFilterForm(call, formdata=request.args)
    report = None if form.has_errors else services.participation(call, **form.filters())
    year = services.this_year()
    comune_names = {str(c.id): c.name for c in call.comuni}
    area_names = {a.code: a.label for a in call.areas}
    return render_template(
        "reports/index.html", call=call, form=form, report=report, charts=_charts(report) if report else {},
        this_year=services.year_bounds(year), last_year=services.year_bounds(year - 1),
        comune_name=comune_names.get(form.comune.data or ""), area_name=area_names.get(form.area.data or ""),
        sections=exports.SECTIONS,
    ), 400 if report is None else 200


def _export(section: str, *, whole: bool = False) -> tuple[services.Report, str]:
    if section not in exports.SECTIONS and not (whole and section == exports.ALL):
        abort(404)
    call = call_or_404()
    form = ReportFilterForm(call, formdata=request.args)
    if form.has_errors:  # a link typed by hand: the report page says which date is wrong
        abort(400)
    report = services.participation(call, **form.filters())
    parts = ["partecipazione", section]
    if report.date_from or report.date_to:
        parts.append(f"{report.date_from or ''}_{report.date_to or ''}")
    return report, "-".join(parts)


@bp.get("/gestione/partecipazione/<section>.csv")
@staff_required
def export_csv(section: str) -> Response:
    report, name = _export(section)
    return Response(exports.to_csv(report, section), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@bp.get("/gestione/partecipazione/<section>.xlsx")
@staff_required
def export_xlsx(section: str) -> Response:
    """One section, or every section as one sheet each (`tutto.xlsx`)."""
    report, name = _export(section, whole=True)
    workbook = exports.to_xlsx(report, None if section == exports.ALL else section)
    return Response(workbook, mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def _date_arg(name: str) -> date | None:
    """A date of the query string; 400 when it cannot be read or is outside the years the app deals with (the
    day after 9999-12-31 cannot be computed, nor 0001-01-01 in UTC)."""
    value = request.args.get(name, "")
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        abort(400)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        abort(400)
    return day


@bp.get("/gestione/partecipazione/enti/<int:organization_id>/attestato.pdf")
@staff_required
def certificate(organization_id: int) -> Response:
    call = call_or_404()
    organization = object_or_404(Organization, organization_id)
    if not services.took_part(call, organization.id):  # an entity this Ambito's call never had to do with
        abort(404)
    date_from, date_to = _date_arg("dal"), _date_arg("al")
    meetings = services.attended_meetings(call, organization_id, date_from=date_from, date_to=date_to)
    pdf = certificate_pdf(call, organization, meetings, date_from=date_from, date_to=date_to,
                          issued_on=utcnow().astimezone(ROME).date())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="attestato-{organization_id}.pdf"'})


@bp.route("/gestione/partecipazione/incontri/<int:meeting_id>/assenti", methods=["GET", "POST"])
@staff_required
def write_to_absent(meeting_id: int):
    call = call_or_404()
    meeting = services.report_meeting(call, meeting_id)
    if meeting is None:
        abort(404)
    recipients = services.absent_recipients(meeting)
    day = formatting.format_day(meeting.starts_at, str(get_locale() or "it"))  # the prefilled text's language
    form = AbsentNoticeForm(data={
        "subject": _("Incontro del %(day)s: ci è mancata la vostra presenza", day=day),
        "text": _(
            "Buongiorno,\n\nil vostro ente aveva confermato la partecipazione all'incontro del %(day)s del "
            "percorso \"%(track)s\", ma non risulta presente nel registro.\n\nSe c'è stato un errore nel "
            "registro, o se non potrete partecipare ai prossimi incontri, rispondete a questo messaggio: ci "
            "aiuta a organizzare i tavoli.\n\nCordiali saluti,\n%(office)s",
            day=day, track=meeting.track.name, office=call.office_name,
        ),
    } if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            sent = services.write_to_absent(call, meeting, subject=form.subject.data, text=form.text.data)
            db.session.commit()
            flash(_("Messaggio in coda per %(num)d enti.", num=sent), "success")
            return redirect(url_for("reports.index", dal=meeting.starts_at.astimezone(ROME).date().isoformat(),
                                    al=meeting.starts_at.astimezone(ROME).date().isoformat()) + "#incontri", 303)
        status = 400
    return render_template("reports/absent.html", call=call, meeting=meeting, recipients=recipients,
                           form=form), status
