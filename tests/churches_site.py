"""A site that serves many churches: every row of its people tables says whose it is
(``church_id``), and the church of a request is the ``X-Church`` header (a real site would use
the subdomain or the signed-in user).

Both churches connect their own PCO organisation of one sandbox through OAuth.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.fernet import Fernet
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from flask_pco import PCO, PcoLinkedMixin
from flask_pco.client.oauth import authorize_url, exchange_code
from flask_pco.sandbox import SandboxServer
from flask_pco.state import PcoState
from tests.conftest import empty_tables

churches_db = SQLAlchemy()

CLIENT = {"client_id": "sandbox-oauth-client", "client_secret": "sandbox-oauth-secret"}
REDIRECT = "https://churches.example.org/pco/oauth/callback"


def church_index(table: str) -> Index:
    """PCO ids are unique within a church: two churches' sandboxes hand out the same ones."""
    return Index(
        f"uq_{table}_church_pco_id",
        "church_id",
        "pco_id",
        unique=True,
        sqlite_where=text("pco_id IS NOT NULL"),
        postgresql_where=text("pco_id IS NOT NULL"),
    )


class Member(PcoLinkedMixin, churches_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "church_members"
    __table_args__ = (church_index("church_members"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    church_id: Mapped[int] = mapped_column(Integer, index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)


class MemberEmail(PcoLinkedMixin, churches_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "church_member_emails"
    __table_args__ = (church_index("church_member_emails"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    church_id: Mapped[int] = mapped_column(Integer, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("church_members.id"))
    email: Mapped[str] = mapped_column(String(255))


def churches_app(database_url: str, sandbox_url: str, redis_url: str = "", **config: Any) -> Flask:
    """The site, its tables created and emptied; churches connect with ``connect_church``."""
    pco = PCO(churches_db)
    pco.register_models(person=Member, email=MemberEmail, organization_column="church_id")
    pco.admin_access(lambda: True)

    @pco.organization_loader
    def church() -> Any:
        return request.headers.get("X-Church")

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="churches-secret",
        SQLALCHEMY_DATABASE_URI=database_url,
        PCO_APP_ID="",
        PCO_SECRET="",
        PCO_API_URL=sandbox_url,
        PCO_OAUTH_CLIENT_ID=CLIENT["client_id"],
        PCO_OAUTH_CLIENT_SECRET=CLIENT["client_secret"],
        PCO_TOKEN_KEY=Fernet.generate_key().decode(),
        PCO_REDIS_URL=redis_url,
        PCO_PUBLIC_URL="https://churches.example.org",
    )
    app.config.update(config)
    churches_db.init_app(app)
    pco.init_app(app)
    with app.app_context():
        churches_db.create_all()
        empty_tables(churches_db)
    return app


def connect_church(
    site: PcoState, sandbox: SandboxServer, church: str | None, organization: str
) -> None:
    """What "Connect Planning Center" stores for ``church`` (None: a single-church site's
    own): a grant for ``organization``."""
    sandbox.control.set_oauth(auto_approve=True, organization=organization)
    url = authorize_url(sandbox.url, CLIENT["client_id"], REDIRECT, "people", "s")
    back = requests.get(url, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    token = exchange_code(sandbox.url, code=code, redirect_uri=REDIRECT, **CLIENT)
    site.for_organization(church).token_store().connect(token, organization, f"org {organization}")


def dispose(app: Flask) -> None:
    with app.app_context():
        churches_db.engine.dispose()
