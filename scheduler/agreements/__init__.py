"""The Adesione all'Accordo di Programma: staff write the Accordo and ask the entities, who adhere online."""

from flask import Blueprint

bp = Blueprint("agreements", __name__)

from scheduler.agreements import personal_data, views  # noqa: E402,F401
