"""The webhook blueprint: ``POST /api/pco/webhook``, public, CSRF-exempt, HMAC verified.

The order of checks is deliberate: size first (never read an unbounded body), then the
signature over the raw bytes (re-serialised JSON would not match), then the shape. Only a
verified, well-formed body is stored, and anything that fails answers without touching the
database. Success is exactly 200 (PCO retries anything else) and never 410, which would make
PCO deactivate the subscription.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import RequestEntityTooLarge

from flask_pco.state import PcoState, current_pco
from flask_pco.tenancy import use_organization
from flask_pco.web.webhook_churches import church_of_deliveries, signing_church

__all__ = ["SIGNATURE_HEADER", "sign_body", "verify_signature", "webhook_blueprint"]

webhook_blueprint = Blueprint("pco_webhook", __name__, url_prefix="/api/pco")

SIGNATURE_HEADER = "X-PCO-Webhooks-Authenticity"
EVENT_TIME_HEADER = "X-PCO-Webhooks-Event-Time"


def sign_body(raw: bytes, secret: str) -> str:
    """The lowercase hex HMAC-SHA256 PCO sends for ``raw`` under ``secret``."""
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify_signature(raw: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """True if ``signature`` matches ``raw`` under any of ``secrets`` (each compared in constant time)."""
    # As bytes: compare_digest refuses a str holding anything but ASCII, and a header can hold
    # any byte (werkzeug decodes them as Latin-1).
    given = (signature or "").strip().lower().encode("utf-8", "replace")
    if not given:
        return False
    matched = False
    for secret in secrets:  # no early exit: every secret costs the same time
        matched |= hmac.compare_digest(sign_body(raw, secret).encode(), given)
    return matched


def accepted_secrets(state: PcoState) -> tuple[str, ...]:
    """``PCO_WEBHOOK_SECRET`` plus the secret of every subscription ``webhooks install`` stored."""
    Subscription = state.models.WebhookSubscription
    stored = state.db.session.scalars(select(Subscription.secret).distinct()).all()
    return tuple(dict.fromkeys([*state.config.webhook_secrets, *(s for s in stored if s)]))


def _error(status: int, message: str) -> ResponseReturnValue:
    return jsonify(error=message), status


def read_body(limit: int) -> bytes | None:
    """The raw body (cached for later readers), or None when it is larger than ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        return None
    # Also bounds a chunked body without Content-Length: werkzeug then stops reading at the
    # limit, so one byte more than allowed tells a body that was cut short.
    request.max_content_length = limit + 1
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return None
    return raw if len(raw) <= limit else None


@webhook_blueprint.errorhandler(DBAPIError)
def database_failed(error: DBAPIError) -> ResponseReturnValue:
    """Not stored: PCO retries a 500, so the delivery comes again once the database is back."""
    from flask_pco.database import request_failed_on_database

    return _error(500, request_failed_on_database(error))


@webhook_blueprint.post("/webhook")
def receive_webhook() -> ResponseReturnValue:
    """Verify, store and apply (or queue) PCO's deliveries; 200 as soon as they are stored."""
    # Imported on the first delivery, not with the blueprint: every ``flask`` command registers
    # it, and the sync and queue code behind these would load RQ and Redis for all of them.
    from flask_pco.jobs.webhooks import dispatch_deliveries
    from flask_pco.sync.webhooks.events import (
        DeliveryFormatError,
        parse_deliveries,
        store_deliveries,
    )

    # Not current_pco(): the host's organisation loader knows nothing of PCO's requests.
    site: PcoState = current_app.extensions["pco"]
    raw = read_body(site.config.webhook_max_bytes)
    if raw is None:
        return _error(413, f"the body is larger than {site.config.webhook_max_bytes} bytes")
    signature = request.headers.get(SIGNATURE_HEADER)
    many = site.extension._organization_loader is not None
    church = signing_church(site, raw, signature) if many else None
    if church is None and not verify_signature(raw, signature, accepted_secrets(site)):
        return _error(401, f"missing or invalid {SIGNATURE_HEADER} signature")
    try:
        deliveries = parse_deliveries(raw, request.headers.get(EVENT_TIME_HEADER))
    except DeliveryFormatError as error:
        return _error(400, str(error))
    if many and church is None:
        church = church_of_deliveries(site, deliveries)
        if church is None:
            return _error(401, "no church of this site is connected to the delivery's organisation")
    with use_organization(church):
        state = current_pco()
        stored = store_deliveries(state, deliveries)
        dispatch_deliveries(state, stored.to_apply)
    return jsonify(received=len(deliveries), duplicates=stored.duplicates), 200
