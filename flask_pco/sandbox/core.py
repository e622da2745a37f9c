"""The sandbox's whole state: data, rate limiter, faults, webhooks, request log."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_pco.sandbox.catalog_fields import add_standard_fields
from flask_pco.sandbox.faults import Faults
from flask_pco.sandbox.generator import generate
from flask_pco.sandbox.ratelimit import RateLimiter
from flask_pco.sandbox.registry import SPECS, index_columns
from flask_pco.sandbox.serialize import (
    RenderContext,
    related_ids,
    render_resource,
    self_path,
    single_document,
)
from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.sandbox.store import Store, utc_stamp
from flask_pco.sandbox.webhooks import EVENT_NAMES, PCO_RETRIES, WebhookDispatcher

#: Webhook payloads come in a version the subscriber does not choose (REFERENCE §6.3);
#: captures show the oldest People shape, so that is what the sandbox sends.
WEBHOOK_PAYLOAD_VERSION = "2018-08-01"
DEFAULT_BASE_URL = "http://127.0.0.1:5055"
LOG_LIMIT = 100_000


@dataclass
class Settings:
    """Fixed at start-up (``create_sandbox_app`` arguments)."""

    app_id: str = "sandbox"
    secret: str = "sandbox-secret"
    bearer_tokens: tuple[str, ...] = ()
    organization_name: str = "Grace Church Sandbox"
    #: The Organization's id (``GET /people/v2``, every ``meta.parent``, webhook envelopes):
    #: two sandboxes with different ids are two churches.
    organization_id: str = ORGANIZATION_ID
    time_zone: str = "America/New_York"
    country_code: str = "US"
    base_url: str | None = None
    webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0)
    #: Retries of a failed delivery before the subscription is deactivated (PCO: 16).
    webhook_retries: int = PCO_RETRIES
    #: Apps (path prefixes such as "groups") the credential's user may not use: 401 TRASH_PANDA.
    denied_apps: frozenset[str] = frozenset()


class Sandbox:
    """One emulated PCO organization."""

    def __init__(self, settings: Settings, rate_limit: int = 100, rate_period: int = 20) -> None:
        self.settings = settings
        self.store = Store(index_columns())
        self.limiter = RateLimiter(rate_limit, rate_period)
        self.faults = Faults()
        self.webhooks = WebhookDispatcher(
            self.store,
            self._payload,
            settings.webhook_retry_delays,
            settings.organization_id,
            settings.webhook_retries,
        )
        self.store.listeners.append(self.webhooks.on_change)
        #: Bounded so a long-running sandbox (benchmarks, the CLI) cannot grow without limit.
        self.request_log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self.log_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.settings.base_url or DEFAULT_BASE_URL

    def reset(self, people: int = 0, seed: int = 0, now: datetime | None = None) -> None:
        """Fresh data (subscriptions and queued deliveries go too), and every credential's
        rate window empty, as after a quiet 20 s: what was spent on the old data is gone."""
        self.limiter.configure(self.limiter.limit, self.limiter.period)
        with self.store.lock:
            self.webhooks.clear()
            self.store.clear()
            self.store.insert("Organization", self._organization(), emit=False)
            for name in EVENT_NAMES:
                self.store.insert("AvailableEvent", _available_event(name), emit=False)
            add_standard_fields(self.store)
            generate(self.store, people, seed, now or datetime.now(UTC))

    def _organization(self) -> dict[str, Any]:
        return {
            "id": self.settings.organization_id,
            "name": self.settings.organization_name,
            "time_zone": self.settings.time_zone,
            "country_code": self.settings.country_code,
            "date_format": "%m/%d/%Y",
            "church_center_subdomain": "gracechurchsandbox",
            "avatar_url": None,
            "contact_website": "https://example.org",
            "created_at": "2015-01-01T12:00:00Z",
        }

    def context(self, base_url: str | None, version: str) -> RenderContext:
        base = (base_url or self.base_url).rstrip("/")
        return RenderContext(self.store, base, version, self.settings.organization_id)

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.log_lock:
            self.request_log.append(entry)

    def _payload(self, table: str, action: str, record: dict[str, Any]) -> str:
        """The JSON:API document inside a delivery, rendered as a GET would show it."""
        spec = SPECS[table]
        ctx = self.context(None, WEBHOOK_PAYLOAD_VERSION)
        if action == "destroyed":
            resource = render_resource(spec, record, ctx)
            data = {key: resource[key] for key in ("type", "id", "relationships")}
            data["links"] = {"self": ctx.url(self_path(spec, record))}
            document: dict[str, Any] = {"data": data, "meta": {"parent": ctx.organization_parent}}
        else:
            document = single_document(spec, record, ctx, [])
            document["meta"].update(event_time=utc_stamp(), idempotency_token=str(uuid.uuid4()))
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False)

    def state(self, include_records: bool = True) -> dict[str, Any]:
        """Counts and (optionally) raw records, for tests and debugging."""
        with self.store.lock:
            result: dict[str, Any] = {"counts": self.store.counts()}
            if include_records:
                result["records"] = {
                    table: list(records.values()) for table, records in self.store.tables.items()
                }
            copied: dict[str, Any] = json.loads(json.dumps(result, default=str))
            return copied

    def member_ids(self, parent: str, relation: str, record: dict[str, Any]) -> list[str]:
        return related_ids(self.store, SPECS[parent].relations[relation], record)


def _available_event(name: str) -> dict[str, Any]:
    app, version, kind, resource, action = name.split(".")
    return {
        "id": name,
        "name": name,
        "app": app,
        "version": version,
        "type": kind,
        "resource": resource,
        "action": action,
        "created_at": "2018-08-01T00:00:00Z",
    }
