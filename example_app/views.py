"""Plain pages so staff can see what the sync brought in."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
from sqlalchemy import select

from .models import Family, Person, User, db

site = Blueprint("site", __name__)


@site.get("/")
def home() -> Any:
    return redirect(url_for("site.people"))


@site.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        user = db.session.scalar(select(User).where(User.email == request.form.get("email", "")))
        if user is not None and user.check_password(request.form.get("password", "")):
            login_user(user)
            target = request.args.get("next") or ""
            return redirect(target if is_local_path(target) else url_for("site.people"))
        flash("Wrong email or password.")
    return render_template("login.html")


@site.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("site.login"))


@site.get("/people")
@login_required
def people() -> str:
    page = db.paginate(select(Person).order_by(Person.last_name, Person.first_name), per_page=50)
    return render_template("people.html", page=page)


@site.get("/people/<int:person_id>")
@login_required
def person(person_id: int) -> str:
    found = db.session.get(Person, person_id) or abort(404)
    families = db.session.scalars(
        select(Family).join(Family.members).where(Family.members.any(person_id=person_id))
    ).all()
    return render_template("person.html", person=found, families=families)


def is_local_path(target: str) -> bool:
    """A path on this site: ``//evil.example/x`` and ``/\\evil.example`` are other sites to a
    browser although they start with ``/``, and so is anything with a scheme or a host."""
    parts = urlsplit(target.replace("\\", "/"))
    return target.startswith("/") and not parts.scheme and not parts.netloc
