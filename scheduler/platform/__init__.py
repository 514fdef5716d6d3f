"""The installation's own pages, for its administrators: the Ambiti it serves, a new Ambito with its first office
account."""

from flask import Blueprint

bp = Blueprint("platform", __name__)

from scheduler.platform import views  # noqa: E402,F401
