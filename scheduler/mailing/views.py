"""Staff pages of the outbox: what was sent, to whom, what failed and why; retry a failed message."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from scheduler.auth.decorators import staff_required  # views sit above the services of every layer (sign-in)
from scheduler.extensions import csrf, db, limiter
from scheduler.mailing import bp, preferences
from scheduler.mailing.delivery import MessageBuildError, build_message, eml_filename, parse_message, stored_files
from scheduler.mailing.labels import topic_label
from scheduler.mailing.models import OutboxMessage, OutboxStatus
from scheduler.mailing.services import count_by_status, redacted, redacted_message, requeue
from scheduler.web import int_arg, request_ambito_id

log = logging.getLogger(__name__)

PER_PAGE = 50

#: What staff read for each state, and the badge colour that goes with it.
STATUS_LABELS = {
    OutboxStatus.PENDING: _l("In coda"),
    OutboxStatus.SENDING: _l("In invio"),
    OutboxStatus.SENT: _l("Inviato"),
    OutboxStatus.FAILED: _l("Non recapitato"),
}
STATUS_BADGES = {
    OutboxStatus.PENDING: "bg-secondary",
    OutboxStatus.SENDING: "bg-primary",
    OutboxStatus.SENT: "bg-success",
    OutboxStatus.FAILED: "bg-danger",
}


def _own_message(message_id: int) -> OutboxMessage:
    """A message of this Ambito's office; another Ambito's is not found."""
    row = db.get_or_404(OutboxMessage, message_id)
    if row.ambito_id is None or row.ambito_id != request_ambito_id():
        abort(404)
    return row


def _file_delivery() -> bool:
    return not current_app.config.get("MAIL_SERVER")


@bp.get("/gestione/posta")
@staff_required
def outbox():
    status = next((s for s in OutboxStatus if s.value == request.args.get("stato")), None)
    query = (sa.select(OutboxMessage).where(OutboxMessage.ambito_id == request_ambito_id())
             .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    page = db.paginate(query, page=int_arg("pagina", 1), per_page=PER_PAGE, error_out=False)
    return render_template(
        "mailing/outbox.html",
        page=page,
        status=status,
        counts=count_by_status(request_ambito_id()),
        labels=STATUS_LABELS,
        badges=STATUS_BADGES,
        file_delivery=_file_delivery(),
        topic_label=topic_label,
    )


@bp.get("/gestione/posta/<int:message_id>")
@staff_required
def message(message_id: int):
    row = _own_message(message_id)
    headers: list[tuple[str, str]] = []
    build_error = None
    try:
        mime = parse_message(build_message(row, current_app.config["MAIL_DEFAULT_SENDER"], stored_files([row])))
        headers = [(name, redacted(str(value))) for name, value in mime.items()]
    except MessageBuildError as error:
        build_error = str(error)
    return render_template(
        "mailing/message.html",
        row=row,
        body_text=redacted(row.body_text),
        body_html=redacted(row.body_html) if row.body_html else None,
        headers=headers,
        build_error=build_error,
        labels=STATUS_LABELS,
        badges=STATUS_BADGES,
        file_delivery=_file_delivery(),
        topic_label=topic_label,
        can_retry=row.status is OutboxStatus.FAILED,
    )


@bp.post("/gestione/posta/<int:message_id>/riprova")
@staff_required
def retry(message_id: int):
    row = _own_message(message_id)
    if row.status is not OutboxStatus.FAILED:
        flash(_("Si possono rimettere in coda solo i messaggi non recapitati."), "warning")
    else:
        requeue(row)
        db.session.commit()
        log.info("outbox %s requeued by user %s", row.id, current_user.id)
        flash(_("Il messaggio è di nuovo in coda."), "success")
    return redirect(url_for("mailing.message", message_id=row.id))


@bp.get("/gestione/posta/<int:message_id>.eml")
@staff_required
def message_eml(message_id: int):
    """The message as the worker builds it, for opening in a mail client, its secret links redacted."""
    row = _own_message(message_id)
    try:
        raw = redacted_message(build_message(row, current_app.config["MAIL_DEFAULT_SENDER"], stored_files([row])))
    except MessageBuildError:
        abort(404)
    return Response(
        raw,
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{eml_filename(row)}"'},
    )


# --- unsubscribing from optional mail -------------------------------------------------------------------------


@bp.route("/email/disiscrizione/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: the mail client POSTs without a form; the signed token is the authority
@limiter.limit("30 per minute")
def unsubscribe(token: str):
    found = preferences.read_unsubscribe_token(token)
    if found is None:
        return render_template("mailing/unsubscribe.html", invalid=True), 404
    email, kind = found
    done = None
    if request.method == "POST":
        refused = request.form.get("action") != "resubscribe"
        preferences.set_opt_out(email, kind, refused, source="link")
        db.session.commit()
        done = "unsubscribed" if refused else "resubscribed"
        log.info("optional mail preference changed (%s, %s)", kind, done)
    current = bool(preferences.opted_out([email], kind))
    return render_template("mailing/unsubscribe.html", invalid=False, masked=_mask(email), kind=kind,
                           label=preferences.OPTIONAL_KINDS[kind], unsubscribed=current, done=done)


def _mask(email: str) -> str:
    """m•••@example.org: enough for the person to recognise the address, not enough for a passer-by."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"
