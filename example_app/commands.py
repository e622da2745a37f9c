"""``flask --app example_app create-admin``: the first login for a new site."""

from __future__ import annotations

import click
from sqlalchemy import select

from .models import User, db


@click.command("create-admin")
@click.argument("email")
@click.password_option(help="Password for the new login (prompted when omitted).")
@click.option(
    "--role",
    type=click.Choice(["admin", "staff"]),
    default="admin",
    show_default=True,
    help="Admins may use the PCO sync page; staff may not.",
)
def create_admin_command(email: str, password: str, role: str) -> None:
    """Create a login (or reset its password and role)."""
    user = db.session.scalar(select(User).where(User.email == email)) or User(email=email)
    user.set_password(password)
    user.role = role
    db.session.add(user)
    db.session.commit()
    click.echo(f"{role} login ready: {email}")
