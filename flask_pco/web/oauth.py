""" "Connect Planning Center": the OAuth 2 authorisation-code flow on the admin page.

Connect sends the admin to PCO's consent page with a one-time ``state`` kept in the session;
the callback accepts only that state (so no other site can plant its own grant here), trades
the code for tokens, asks PCO which organisation they belong to, and stores both (encrypted,
``flask_pco.tokens``). Disconnect revokes the grant at PCO and deletes it here. The routes sit
on the admin blueprint, behind its access check and CSRF tokens.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import flash, redirect, request, session, url_for

from flask_pco.exceptions import ConfigError, PcoError
from flask_pco.redaction import first_line
from flask_pco.state import PcoState, current_pco
from flask_pco.web.admin import admin_blueprint

__all__ = ["connect", "disconnect", "oauth_callback"]

#: The session key of the pending ``state``: one connect at a time per admin session.
STATE_KEY = "pco_oauth_state"


@admin_blueprint.context_processor
def oauth_helpers() -> dict[str, Any]:
    """``pco_oauth_connection()`` for the templates: read only by the parts that show it."""
    return {"pco_oauth_connection": current_pco().oauth_connection}


def _back(message: str, level: str) -> Any:
    flash(message, f"pco-{level}")
    return redirect(url_for("pco_admin.index"))


def _redirect_uri() -> str:
    return url_for("pco_admin.oauth_callback", _external=True)


@admin_blueprint.post("/oauth/connect")
def connect() -> Any:
    """Off to PCO's consent page, asking for the configured scopes."""
    state = current_pco()
    if not state.config.oauth_connect:
        return _back(
            "Set PCO_OAUTH_CLIENT_ID and PCO_OAUTH_CLIENT_SECRET to connect with OAuth.", "error"
        )
    session[STATE_KEY] = nonce = secrets.token_urlsafe(32)
    config = state.config
    from flask_pco.client.oauth import authorize_url  # the HTTP client, only when used

    url = authorize_url(
        config.api_url, config.oauth_client_id, _redirect_uri(), config.oauth_scopes, nonce
    )
    return redirect(url)


@admin_blueprint.get("/oauth/callback")
def oauth_callback() -> Any:
    """Where PCO sends the admin back: check ``state``, exchange the code, store the grant."""
    expected = session.pop(STATE_KEY, None)
    given = request.args.get("state", "")
    if not expected or not hmac.compare_digest(str(expected), given):
        return _back("The answer from Planning Center did not match a connect started here; "
                     "press Connect Planning Center again.", "error")  # fmt: skip
    if request.args.get("error"):
        reason = request.args.get("error_description") or request.args["error"]
        return _back(f"Planning Center did not connect: {reason[:200]}", "error")
    state = current_pco()
    try:
        name = _connect(state, request.args.get("code", ""))
    except PcoError as error:
        return _back(f"Connecting Planning Center failed: {first_line(error)}", "error")
    return _back(f"Connected to {name}.", "success")


def _connect(state: PcoState, code: str) -> str:
    """Trade the code for tokens, learn the organisation with them, store both."""
    from flask_pco.client import build_client

    config = state.config
    from flask_pco.client.oauth import exchange_code

    token = exchange_code(
        config.api_url,
        code=code,
        client_id=config.oauth_client_id,
        client_secret=config.oauth_client_secret,
        redirect_uri=_redirect_uri(),
        timeout=config.timeout,
    )
    with build_client(
        base_url=config.api_url, access_token=str(token["access_token"]), timeout=config.timeout
    ) as client:
        document = client.get("/people/v2")
        asked = client.limiter.answers()
    organization = next((r for r in document.data if r.type == "Organization"), None)
    if organization is None:
        raise ConfigError("PCO answered GET /people/v2 without the organisation")
    name = str(organization.get("name") or f"organisation {organization.id}")
    state.token_store().connect(token, organization.id, name)
    # The lookup went out before its organisation, which keys the church's shared limiter,
    # was known: its answers join the church's count now, or they would be missing from it.
    limiter = state.client().limiter
    for outcome, count in asked.items():
        limiter.tally(outcome, count)
    state.remember_time_zone(str(organization.get("time_zone") or ""))
    return name


@admin_blueprint.post("/oauth/disconnect")
def disconnect() -> Any:
    """Revoke the grant at PCO, then forget it here (also when PCO cannot be told)."""
    state = current_pco()
    if not state.config.oauth_connect:
        return _back("No OAuth app is configured.", "error")
    store, config = state.token_store(), state.config
    try:
        token = store.token() or {}
    except ConfigError:
        token = {}  # undecryptable: nothing to revoke with, but it can still be deleted
    from flask_pco.client.oauth import revoke_token

    problem = ""
    for kind in ("refresh_token", "access_token"):
        if not token.get(kind) or problem:
            continue
        try:
            revoke_token(
                config.api_url,
                token=str(token[kind]),
                client_id=config.oauth_client_id,
                client_secret=config.oauth_client_secret,
                timeout=config.timeout,
            )
        except PcoError as error:
            problem = first_line(error)
    store.delete()
    if problem:
        return _back(
            f"Disconnected here, but Planning Center could not be told ({problem}); remove "
            "the app under Connected Applications in your PCO profile.",
            "error",
        )
    return _back(
        "Disconnected from Planning Center; the tokens are revoked and deleted.", "success"
    )
