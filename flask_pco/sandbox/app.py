"""The sandbox Flask app: PCO routes from the route table, plus the ``/_sandbox`` control surface.

Every PCO request passes, in order: injected faults, authentication, the rate limit, then
version negotiation; every PCO response carries the rate-limit and processed-as headers, except
a "lost answer": a write carried out and committed whose answer a gateway replaced with a 504.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from flask_pco.sandbox.api import dispatch, respond
from flask_pco.sandbox.control import control
from flask_pco.sandbox.core import Sandbox, Settings
from flask_pco.sandbox.errors import SandboxApiError, not_found, unauthorized
from flask_pco.sandbox.oauth import OAuthServer, oauth, oauth_control
from flask_pco.sandbox.organizations import current_sandbox, oauth_server, organization_of
from flask_pco.sandbox.routes import ROUTES, Route
from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.sandbox.store import utc_stamp
from flask_pco.sandbox.versions import processed_version
from flask_pco.sandbox.webhooks import PCO_RETRIES

ALL_METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT"]
ERROR_CONTENT_TYPE = "application/json; charset=utf-8"
WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})
#: What a gateway in front of PCO (nginx here) sends when PCO outlived its timeout: HTML, and
#: none of PCO's headers, since PCO's own answer never got through.
GATEWAY_TIMEOUT = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
)


def create_sandbox_app(
    people: int = 0,
    seed: int = 1,
    app_id: str = "sandbox",
    secret: str = "sandbox-secret",
    rate_limit: int = 100,
    rate_period: int = 20,
    organization_name: str = "Grace Church Sandbox",
    organization_id: str = ORGANIZATION_ID,
    bearer_tokens: tuple[str, ...] | list[str] = (),
    webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0),
    webhook_retries: int = PCO_RETRIES,
    base_url: str | None = None,
    time_zone: str = "America/New_York",
    organizations: Sequence[tuple[str, str]] = (),
) -> Flask:
    """A WSGI app emulating one PCO organization with ``people`` generated people; two with
    different ``organization_id`` are two churches.

    ``organizations`` adds more churches to the same sandbox, as ``(id, name)``: each has its own
    generated people (another seed), rate budget, webhooks and Personal Access Token (app id
    ``{app_id}-{id}``, the same secret); OAuth grants name theirs on the consent page.
    """
    settings = Settings(
        app_id=app_id,
        secret=secret,
        bearer_tokens=tuple(bearer_tokens),
        organization_name=organization_name,
        organization_id=organization_id,
        time_zone=time_zone,
        base_url=base_url,
        webhook_retry_delays=tuple(webhook_retry_delays),
        webhook_retries=webhook_retries,
    )
    sandbox = Sandbox(settings, rate_limit, rate_period)
    sandbox.reset(people, seed)
    everyone = {organization_id: sandbox}
    for number, (extra_id, name) in enumerate(organizations, start=1):
        everyone[extra_id] = _another_church(sandbox, extra_id, name, people, seed + number)
    app = Flask(__name__)
    app.extensions["pco_sandbox"] = sandbox
    app.extensions["pco_sandboxes"] = everyone
    app.extensions["pco_sandbox_oauth"] = OAuthServer(default_organization=organization_id)
    for route in ROUTES:
        app.add_url_rule(route.rule, f"pco:{route.rule}", _view(route), methods=ALL_METHODS)
    app.register_blueprint(control, url_prefix="/_sandbox")
    app.register_blueprint(oauth, url_prefix="/oauth")
    app.register_blueprint(oauth_control, url_prefix="/_sandbox/oauth")
    app.before_request(_guard)
    app.after_request(_finish)
    app.register_error_handler(SandboxApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _another_church(first: Sandbox, id_: str, name: str, people: int, seed: int) -> Sandbox:
    """A church beside ``first``: its own data (another seed), budget, webhooks and PAT."""
    settings = dataclasses.replace(
        first.settings,
        app_id=f"{first.settings.app_id}-{id_}",
        bearer_tokens=(),
        organization_id=id_,
        organization_name=name,
    )
    church = Sandbox(settings, first.limiter.limit, first.limiter.period)
    church.reset(people, seed)
    return church


def _is_api() -> bool:
    return not request.path.startswith(("/_sandbox", "/oauth/"))


def _view(route: Route) -> Callable[..., Response]:
    def view(id: str | None = None, parent_id: str | None = None) -> Response:
        sandbox = current_sandbox()
        with sandbox.store.lock:
            ctx = sandbox.context(request.host_url, g.version)
            document, status = dispatch(sandbox, route, ctx, id, parent_id)
            response = respond(document, status)
        # Outside the lock: the write is committed and other requests already see it.
        if request.method in WRITE_METHODS and sandbox.faults.lose_answer():
            return _lost_answer(status)
        if request.method == "GET":
            sandbox.faults.hold_read_answer()
        return response

    return view


def _lost_answer(status: int) -> Response:
    """The gateway's 504 that replaces PCO's answer to a write PCO carried out."""
    g.lost_status = status
    return Response(GATEWAY_TIMEOUT, status=504, content_type="text/html")


def _authenticate(sandbox: Sandbox) -> str:
    """The credential a request runs as: HTTP Basic app id/secret or a known bearer token."""
    auth = request.authorization
    settings = sandbox.settings
    if auth is not None and auth.type == "basic":
        if (auth.username, auth.password) == (settings.app_id, settings.secret):
            g.auth_method = "HTTPBasic"
            return settings.app_id
    elif auth is not None and auth.type == "bearer" and auth.token in settings.bearer_tokens:
        g.auth_method = "OAuth2"
        return f"bearer:{auth.token[:8]}"
    elif auth is not None and auth.type == "bearer" and auth.token:
        # An issued token: 401 once dead; only its own organisation knows it.
        user = oauth_server().credential(auth.token, settings.organization_id)
        if user is not None:
            g.auth_method = "OAuth2"
            return user
    raise unauthorized("BABOON" if auth is not None and auth.type == "bearer" else "CHINCHILLA")


def _offset() -> int:
    value = request.args.get("offset", "0")
    return int(value) if value.isdigit() else 0


def _guard() -> None:
    if not _is_api():
        return
    g.sandbox = sandbox = organization_of()
    g.started = time.perf_counter()
    if sandbox.settings.base_url is None:
        sandbox.settings.base_url = request.host_url.rstrip("/")
    sandbox.faults.apply(sandbox.limiter.limit, sandbox.limiter.period, request.method)
    g.credential = _authenticate(sandbox)
    g.rate = sandbox.limiter.hit(g.credential, _offset())
    app_name = request.path.split("/")[1]
    if app_name in sandbox.settings.denied_apps:
        raise unauthorized("TRASH_PANDA")  # PCO answers 401, not 403, for a product without access
    g.version = processed_version(app_name, request.headers.get("X-PCO-API-Version"))


def _finish(response: Response) -> Response:
    if not _is_api():
        return response
    if "lost_status" in g:
        current_sandbox().log_request(_log_entry(response))
        return response
    if "X-PCO-API-Request-Rate-Limit" not in response.headers:
        sandbox = current_sandbox()
        rate = g.rate if "rate" in g else sandbox.limiter.peek(g.get("credential"))
        response.headers.update(rate.headers())
    if "version" in g:
        response.headers["X-PCO-API-Processed-As-Version"] = g.version
    if "auth_method" in g:
        response.headers["X-PCO-API-Auth-Method"] = g.auth_method
    response.headers["X-Request-Id"] = str(uuid.uuid4())
    current_sandbox().log_request(_log_entry(response))
    return response


def _log_entry(response: Response) -> dict[str, Any]:
    entry = {
        "method": request.method,
        "path": request.full_path.rstrip("?"),
        "status": response.status_code,
        "credential": g.get("credential"),
        "time": utc_stamp(),
        "duration_ms": round(
            (time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 3
        ),
    }
    if "lost_status" in g:
        entry["lost_status"] = g.lost_status  # what PCO answered before the gateway lost it
    return entry


def _api_error(error: SandboxApiError) -> Response:
    response = Response(_json(error.body()), status=error.status, content_type=ERROR_CONTENT_TYPE)
    response.headers.update(error.headers)
    return response


def _http_error(error: HTTPException) -> Response:
    """Unknown URLs and verbs answer PCO's 404 document (control paths keep werkzeug's status)."""
    if _is_api() and error.code in (404, 405):
        return _api_error(not_found())
    body = {"error": error.name, "detail": error.description}
    return Response(_json(body), status=error.code or 500, content_type=ERROR_CONTENT_TYPE)


def _json(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False)
