from flask import redirect, render_template, url_for
from flask_login import logout_user

from scheduler.auth import bp


@bp.route("/accedi", methods=["GET", "POST"])
def login():
    return render_template("errors/error.html", status=200, message="")


@bp.post("/esci")
def logout():
    logout_user()
    return redirect(url_for("site.index"))
