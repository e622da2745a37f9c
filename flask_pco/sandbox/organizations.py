"""Several PCO organisations in one sandbox: each its own data, rate budget and webhooks.

A request belongs to the organisation its credential belongs to: a Personal Access Token's app
id, a fixed bearer token, or an OAuth token (granted for one organisation on the consent page).
Control requests name theirs with ``X-Sandbox-Organization``; without it, and for a credential
no organisation knows, the first organisation answers, so a one-church sandbox works as before.
"""

from __future__ import annotations

from typing import cast

from flask import abort, current_app, g, has_request_context, request

from flask_pco.sandbox.core import Sandbox
from flask_pco.sandbox.oauth import OAuthServer

__all__ = ["ORGANIZATION_HEADER", "current_sandbox", "oauth_server", "organization_of", "sandboxes"]

#: The header a control request names its organisation with.
ORGANIZATION_HEADER = "X-Sandbox-Organization"


def sandboxes() -> dict[str, Sandbox]:
    """Every organisation, by id, the first one first."""
    return cast(dict[str, Sandbox], current_app.extensions["pco_sandboxes"])


def oauth_server() -> OAuthServer:
    return cast(OAuthServer, current_app.extensions["pco_sandbox_oauth"])


def current_sandbox() -> Sandbox:
    """The organisation this request is for (see the module docstring)."""
    if has_request_context():
        if "sandbox" in g:
            return cast(Sandbox, g.sandbox)
        wanted = request.headers.get(ORGANIZATION_HEADER)
        if wanted:
            found = sandboxes().get(wanted)
            if found is None:
                abort(404, description=f"no organisation {wanted} in this sandbox")
            return found
    return cast(Sandbox, current_app.extensions["pco_sandbox"])


def organization_of() -> Sandbox:
    """The organisation the request's credential belongs to; the first one when none does
    (authentication then refuses the credential as it always has)."""
    auth = request.authorization
    everyone = sandboxes()
    if auth is not None and auth.type == "basic":
        for sandbox in everyone.values():
            if auth.username == sandbox.settings.app_id:
                return sandbox
    elif auth is not None and auth.type == "bearer" and auth.token:
        for sandbox in everyone.values():
            if auth.token in sandbox.settings.bearer_tokens:
                return sandbox
        organization = oauth_server().organization_of(auth.token)
        if organization in everyone:
            return everyone[organization]
    return cast(Sandbox, current_app.extensions["pco_sandbox"])
