"""Error pages in Italian with the right status; a JSON body for JSON clients."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from scheduler.extensions import db
from scheduler.logredact import redact

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("La richiesta non è valida."),
    403: _l("Non hai i permessi per vedere questa pagina."),
    404: _l("La pagina che cerchi non esiste o è stata spostata."),
    405: _l("Operazione non consentita su questa pagina."),
    413: _l("Il file o i dati inviati sono troppo grandi."),
    429: _l("Troppi tentativi in poco tempo. Attendi qualche minuto e riprova."),
    500: _l("Si è verificato un errore imprevisto. Riprova più tardi."),
}


def _render(status: int, message: str, **extra):
    if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
        return jsonify({"error": message, "status": status, **extra}), status
    return render_template("errors/error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        # csrf: the register's queue then fetches a fresh token and sends the mark again, instead of dropping it
        return _render(400, _("La sessione del modulo è scaduta o non è valida: ricarica la pagina e riprova."),
                       csrf=True)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        message = MESSAGES.get(status)
        return _render(status, str(message) if message else (error.description or ""))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, redact(request.path))
        db.session.rollback()
        return _render(500, str(MESSAGES[500]))

    app.register_error_handler(InternalServerError, _unexpected)
