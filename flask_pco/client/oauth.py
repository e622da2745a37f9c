"""PCO's OAuth 2 authorisation-code flow: the authorize URL, the code exchange, revocation.

REFERENCE §2.2: ``/oauth/authorize``, ``/oauth/token`` and ``/oauth/revoke`` on the API's
host, parameters sent form-encoded (JSON bodies are reported to end in ``invalid_grant``),
tokens living two hours. Refreshing is ``OAuth2Auth``'s job; this module starts and ends a grant.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

import requests

from flask_pco.client.errors import error_for, transport_error
from flask_pco.exceptions import AuthenticationError, ServerError

__all__ = ["authorize_url", "exchange_code", "revoke_token"]

log = logging.getLogger("flask_pco.client")


def authorize_url(base_url: str, client_id: str, redirect_uri: str, scopes: str, state: str) -> str:
    """Where the admin's browser goes to let this site into the church's PCO account."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scopes,
            "state": state,
        }
    )
    return f"{base_url.rstrip('/')}/oauth/authorize?{query}"


def exchange_code(
    base_url: str,
    *,
    code: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """The token PCO grants for ``code``, with ``expires_at`` (Unix time) added."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    body = _post(f"{base_url.rstrip('/')}/oauth/token", form, timeout)
    if not body.get("access_token") or not body.get("refresh_token"):
        raise ServerError(200, message="PCO's token reply lacks an access or refresh token")
    return {**body, "expires_at": _expires_at(body)}


def revoke_token(
    base_url: str, *, token: str, client_id: str, client_secret: str, timeout: float = 30.0
) -> None:
    """Tell PCO the grant is over, so the token is useless even if a copy survives somewhere."""
    form = {"token": token, "client_id": client_id, "client_secret": client_secret}
    _post(f"{base_url.rstrip('/')}/oauth/revoke", form, timeout)


def _expires_at(token: dict[str, Any]) -> float | None:
    """PCO's ``created_at`` plus ``expires_in`` (7,200 s), both Unix seconds."""
    expires_in, created = token.get("expires_in"), token.get("created_at")
    if not isinstance(expires_in, int | float):
        return None
    return (float(created) if isinstance(created, int | float) else time.time()) + expires_in


def _post(url: str, form: dict[str, str], timeout: float) -> dict[str, Any]:
    try:
        response = requests.post(url, data=form, timeout=timeout)
    except requests.RequestException as exc:
        raise transport_error(exc, "POST", url) from exc
    error = error_for(response)
    if error is not None:
        if error.retriable:
            raise error
        raise AuthenticationError(error.status, error.errors, message=f"PCO refused: {error}")
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ServerError(response.status_code, message=f"{url} did not answer a JSON object")
    return body
