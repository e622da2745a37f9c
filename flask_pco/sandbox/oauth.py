"""PCO's OAuth 2 server, emulated (REFERENCE §2.2): authorize, token, revoke.

Access tokens live ``access_seconds`` (PCO: 7,200); every refresh rotates the refresh token, so
the old one answers ``invalid_grant`` afterwards, as PCO's does. ``/_sandbox/oauth`` lets tests
approve without a page, expire every access token at once, and count refreshes.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from flask_pco.sandbox.errors import unauthorized

__all__ = ["OAuthServer", "oauth", "oauth_control"]

oauth = Blueprint("sandbox_oauth", __name__)
oauth_control = Blueprint("sandbox_oauth_control", __name__)

#: PCO's access-token lifetime: two hours.
ACCESS_SECONDS = 7200


@dataclass
class Grant:
    """One authorisation, for one organisation: the tokens issued under it share its fate
    when it is revoked."""

    scope: str
    organization_id: str
    revoked: bool = False


@dataclass
class OAuthServer:
    """Clients, codes and tokens; one lock, as the web server is threaded."""

    #: The organisation a grant is for unless the consent page names another.
    default_organization: str = ""
    client_id: str = "sandbox-oauth-client"
    client_secret: str = "sandbox-oauth-secret"
    auto_approve: bool = False
    access_seconds: float = ACCESS_SECONDS
    #: Seconds the token endpoint takes to answer a refresh: a slow PCO, so racing refreshes meet.
    refresh_delay: float = 0.0
    codes: dict[str, tuple[str, Grant]] = field(default_factory=dict)
    access: dict[str, tuple[float, Grant]] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"codes": 0, "refreshes": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def organization_of(self, token: str) -> str | None:
        with self.lock:
            issued = self.access.get(token)
        return issued[1].organization_id if issued is not None else None

    def credential(self, token: str, organization_id: str) -> str | None:
        """The user a bearer token runs as in ``organization_id`` (None: not a token of that
        organisation); raises PCO's 401 for an expired or revoked one."""
        with self.lock:
            issued = self.access.get(token)
        if issued is None or issued[1].organization_id != organization_id:
            return None
        expires_at, grant = issued
        if grant.revoked:
            raise unauthorized("CAPUCHIN")
        if time.time() >= expires_at:
            raise unauthorized("BABOON")
        return f"oauth:{self.client_id}"  # PCO counts per user (each organisation has its own)

    def issue(self, grant: Grant) -> dict[str, Any]:
        access, refresh = secrets.token_hex(32), secrets.token_hex(32)
        now = time.time()
        self.access[access] = (now + self.access_seconds, grant)
        self.refresh[refresh] = grant
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(self.access_seconds),
            "refresh_token": refresh,
            "scope": grant.scope,
            "created_at": int(now),
        }


def _server() -> OAuthServer:
    return current_app.extensions["pco_sandbox_oauth"]  # type: ignore[no-any-return]


def _organizations() -> dict[str, str]:
    """Organisation id -> name, the first one first."""
    everyone = current_app.extensions["pco_sandboxes"]
    return {key: sandbox.settings.organization_name for key, sandbox in everyone.items()}


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response


@oauth.route("/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    """PCO's consent page: "Allow" (or auto-approval) sends the browser back with a code."""
    server, values = _server(), request.values
    if values.get("client_id") != server.client_id or values.get("response_type") != "code":
        return Response("Unknown client or response type.", status=400)
    redirect_uri = values.get("redirect_uri", "")
    if request.method == "GET" and not server.auto_approve:
        return _consent_page(values.to_dict())
    organization = values.get("organization") or server.default_organization
    if organization not in _organizations():
        return Response("Unknown organisation.", status=400)
    code = secrets.token_hex(16)
    with server.lock:
        grant = Grant(scope=values.get("scope", "people"), organization_id=organization)
        server.codes[code] = (redirect_uri, grant)
    query = urlencode({"code": code, "state": values.get("state", "")})
    return redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}")


def _consent_page(values: dict[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in values.items()
    )
    scope = html.escape(values.get("scope", ""))
    choices = "".join(
        f'<option value="{html.escape(key)}">{html.escape(name)}</option>'
        for key, name in _organizations().items()
    )
    return (
        "<!doctype html><title>Authorize - Planning Center Sandbox</title>"
        f"<h1>Allow access?</h1><p>The application asks for: {scope}</p>"
        f'<form method="post">{hidden}<label>Organization <select name="organization">'
        f'{choices}</select></label> <button type="submit">Allow</button></form>'
    )


@oauth.post("/token")
def token() -> ResponseReturnValue:
    server, form = _server(), request.form
    if (form.get("client_id"), form.get("client_secret")) != (
        server.client_id,
        server.client_secret,
    ):
        return _oauth_error("invalid_client", "Client authentication failed.", 401)
    with server.lock:
        if form.get("grant_type") == "authorization_code":
            redirect_uri, grant = server.codes.pop(form.get("code", ""), ("", None))
            if grant is None or redirect_uri != form.get("redirect_uri"):
                return _invalid_grant()
            server.counts["codes"] += 1
            return jsonify(server.issue(grant))
        if form.get("grant_type") == "refresh_token":
            grant = server.refresh.pop(form.get("refresh_token", ""), None)  # rotation
            if grant is None or grant.revoked:
                return _invalid_grant()
            server.counts["refreshes"] += 1
            return jsonify(server.issue(grant))
    return _oauth_error("unsupported_grant_type", "The grant type is not supported.")


def _invalid_grant() -> Response:
    return _oauth_error(
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the "
        "redirection URI used in the authorization request, or was issued to another client.",
    )


@oauth.post("/revoke")
def revoke() -> ResponseReturnValue:
    """Revoking either token of a pair ends the whole grant (PCO answers 200 either way)."""
    server, form = _server(), request.form
    if (form.get("client_id"), form.get("client_secret")) != (
        server.client_id,
        server.client_secret,
    ):
        return _oauth_error("invalid_client", "Client authentication failed.", 401)
    value = form.get("token", "")
    with server.lock:
        grant = server.refresh.get(value) or server.access.get(value, (0.0, None))[1]
        if grant is not None:
            grant.revoked = True
    return jsonify({})


@oauth_control.get("")
def counts() -> ResponseReturnValue:
    server = _server()
    with server.lock:
        live = sum(1 for _, grant in server.access.values() if not grant.revoked)
        return jsonify({**server.counts, "live_access_tokens": live})


@oauth_control.post("")
def configure() -> ResponseReturnValue:
    """Every call replaces every switch (absent ones go back to PCO's behaviour)."""
    server, body = _server(), request.get_json(silent=True) or {}
    organization = str(body.get("organization") or next(iter(_organizations())))
    if organization not in _organizations():
        return jsonify(error=f"no organisation {organization}"), 404
    with server.lock:
        server.auto_approve = bool(body.get("auto_approve", False))
        server.access_seconds = float(body.get("access_seconds", ACCESS_SECONDS))
        server.refresh_delay = float(body.get("refresh_delay", 0.0))
        server.default_organization = organization  # what auto-approval grants
    return jsonify({"auto_approve": server.auto_approve, "access_seconds": server.access_seconds,
                    "refresh_delay": server.refresh_delay, "organization": organization})  # fmt: skip


@oauth_control.post("/expire")
def expire() -> ResponseReturnValue:
    """Every access token issued so far is now past its two hours."""
    server = _server()
    with server.lock:
        server.access = {t: (0.0, grant) for t, (_, grant) in server.access.items()}
    return jsonify({"expired": len(server.access)})


@oauth_control.post("/revoke_all")
def revoke_all() -> ResponseReturnValue:
    """Every grant revoked, as when the church removes the app in PCO."""
    server = _server()
    with server.lock:
        for grant in server.refresh.values():
            grant.revoked = True
        for _, grant in server.access.values():
            grant.revoked = True
    return jsonify({})
