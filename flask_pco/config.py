"""Every ``PCO_*`` configuration key, its default and why it exists.

``PCO.init_app`` sets each default with ``app.config.setdefault`` and then calls ``validate``,
so a missing or malformed value fails at start-up with one line that names the key and the fix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_pco import config_parse as parse
from flask_pco.exceptions import ConfigError

__all__ = ["DEFAULTS", "PcoConfig", "load_config", "settings_from_env"]

DEFAULTS: dict[str, Any] = {
    #: Personal Access Token application id (HTTP Basic user). Empty means "not configured".
    "PCO_APP_ID": "",
    #: Personal Access Token secret (HTTP Basic password).
    "PCO_SECRET": "",
    #: OAuth 2 access token; used instead of the PAT when set (multi-church deployments).
    "PCO_ACCESS_TOKEN": "",
    #: OAuth application ("Connect Planning Center" on the admin page): its client id ...
    "PCO_OAUTH_CLIENT_ID": "",
    #: ... and its secret, from https://api.planningcenteronline.com/oauth/applications.
    "PCO_OAUTH_CLIENT_SECRET": "",
    #: Space-separated scopes asked for when connecting: one per PCO product the sync reads.
    "PCO_OAUTH_SCOPES": "people groups check_ins calendar",
    #: Fernet key that encrypts the stored OAuth tokens (``Fernet.generate_key()``); a stolen
    #: database backup must not hand over the church's PCO account.
    "PCO_TOKEN_KEY": "",
    #: Secret(s) for verifying webhook signatures: one string, or a list while rotating or
    #: when each subscription has its own secret. Secrets stored by ``flask pco webhooks
    #: install`` are accepted as well.
    "PCO_WEBHOOK_SECRET": "",
    #: Base URL of the PCO API; point it at ``flask pco sandbox`` to try things safely.
    "PCO_API_URL": "https://api.planningcenteronline.com",
    #: Redis for the shared rate-limit budget and the RQ queue; empty runs everything inline.
    "PCO_REDIS_URL": "",
    #: Page size for listings: PCO's maximum, so a 5,000-person pull is 50 requests.
    "PCO_PER_PAGE": 100,
    #: Seconds to wait for PCO to connect and to answer, per request.
    "PCO_TIMEOUT": 30.0,
    #: Requests per period to start with, before PCO's headers say otherwise.
    "PCO_RATE_LIMIT": 100,
    #: Length of the rate-limit window in seconds, before PCO's headers say otherwise.
    "PCO_RATE_PERIOD": 20,
    #: API version pinned per PCO app, so a PCO release never changes shapes under us.
    "PCO_API_VERSIONS": {
        "people": "2022-07-14",
        "groups": "2018-08-01",
        "check-ins": "2019-07-17",
        "calendar": "2021-07-20",
        "webhooks": "2018-08-01",
    },
    #: Overlap subtracted from the last run's start for incremental syncs: PCO's offset
    #: paging over changing data can skip records at the window's edge.
    "PCO_INCREMENTAL_OVERLAP": 300,
    #: Seconds a create PCO never confirmed (a timeout, a 5xx) holds back a second create of the
    #: same record: PCO may still be carrying out the first, and its listing would not show it yet.
    "PCO_UNCONFIRMED_GRACE": 120,
    #: Complete looks at PCO in a row (full listings, or a 404 when re-checked) that must miss a
    #: linked record before it is deactivated or removed: one look can be wrong. 1 removes at once.
    "PCO_REMOVE_AFTER_MISSES": 2,
    #: A run (or an hour of webhooks) that would deactivate or remove more than this many records
    #: of one kind, and more than PCO_MAX_REMOVALS_PERCENT of that kind's linked records, makes
    #: none of those removals and waits for an admin's approval. 0 leaves only the percentage.
    "PCO_MAX_REMOVALS": 25,
    #: The percentage half of that rule; 0 leaves only the absolute number.
    "PCO_MAX_REMOVALS_PERCENT": 5,
    #: Seconds over which webhook removals add up against PCO_MAX_REMOVALS: a storm of deletions
    #: in PCO is held like one large run.
    "PCO_REMOVAL_WINDOW": 3600,
    #: RQ queue the sync jobs go to.
    "PCO_QUEUE": "pco",
    #: A run whose heartbeat is older than this many seconds is marked abandoned (one whose
    #: process is gone from this host, or whose RQ job is dead, is released at once).
    "PCO_RUN_STALE_AFTER": 120,
    #: On a site of many churches, the longest a run holds a worker while another church's
    #: job waits (its slice also ends when its church's budget is spent; ``jobs.slices``).
    "PCO_RUN_SLICE": 20,
    #: With no webhook delivery for this many seconds, an incremental sync catches up
    #: (PCO silently disables failing subscriptions).
    "PCO_WEBHOOK_GAP": 6 * 3600,
    #: Webhook deliveries one worker job applies: its own, then others still waiting in the
    #: queue, so a burst costs a forked work horse per batch rather than per delivery.
    #: 1 gives each delivery its own job (and work horse).
    "PCO_WEBHOOK_BATCH": 100,
    #: Seconds after which a worker re-queues a delivery still ``received`` whose job Redis no
    #: longer holds (Redis restarted empty); workers look on start-up and this often.
    "PCO_WEBHOOK_REQUEUE_AFTER": 120,
    #: Largest webhook body accepted, in bytes; PCO's deliveries are a few kilobytes.
    "PCO_WEBHOOK_MAX_BYTES": 512 * 1024,
    #: The church's time zone, for the nightly sync hour and date-only PCO filters.
    "PCO_TIME_ZONE": "",
    #: Public base URL of this site, used to build the webhook URL given to PCO.
    "PCO_PUBLIC_URL": "",
    #: Seconds a read-only PCO view is cached, so page views do not burn the rate budget.
    "PCO_READONLY_CACHE_SECONDS": 60,
    #: Name of the local department that PCO groups are created under.
    "PCO_GROUPS_DEPARTMENT": "PCO Groups",
    #: When PCO merges two people who both have a local row, move the site's data onto the
    #: kept one at once. False: hold each such merge for an admin (``flask pco merge``).
    "PCO_AUTO_MERGE": True,
    #: Days the change journal keeps an entry (who changed what, and how to undo it); the
    #: hourly housekeeping prunes older ones.
    "PCO_JOURNAL_DAYS": 90,
    #: Bearer token a Prometheus scraper sends to ``/api/pco/metrics``; empty: no endpoint.
    "PCO_METRICS_TOKEN": "",
    #: Apprise URLs alerts go to (``mailtos://...``, ``slack://...``, ``json://...``), comma-
    #: separated or a list; empty: no alerts.
    "PCO_ALERT_URLS": "",
    #: Addresses alerts are emailed to, comma-separated or a list, sent by the host's own mail
    #: set-up (``@pco.alert_mailer``, else Flask-Mail or Flask-Mailman); empty: no email.
    "PCO_ALERT_EMAILS": "",
    #: A chat tool's incoming webhook (an https URL) alerts are posted to: Slack, Discord and
    #: Teams workflows in their own format, any other URL as JSON; empty: none.
    "PCO_ALERT_WEBHOOK_URL": "",
}


@dataclass(frozen=True, slots=True)
class PcoConfig:
    """The validated configuration, read once at ``init_app``."""

    app_id: str
    secret: str
    access_token: str
    webhook_secrets: tuple[str, ...]
    api_url: str
    redis_url: str
    per_page: int
    timeout: float
    rate_limit: int
    rate_period: int
    api_versions: Mapping[str, str]
    incremental_overlap: int
    unconfirmed_grace: int
    remove_after_misses: int
    max_removals: int
    max_removals_percent: int
    removal_window: int
    queue: str
    run_stale_after: int
    run_slice: int
    webhook_gap: int
    webhook_batch: int
    webhook_requeue_after: int
    webhook_max_bytes: int
    time_zone: str
    public_url: str
    readonly_cache_seconds: int
    groups_department: str
    auto_merge: bool
    journal_days: int = 90
    #: A secret like the others: never printed, compared in constant time.
    metrics_token: str = ""
    #: Where alerts go; they hold tokens and passwords, so they are never printed either.
    alert_urls: tuple[str, ...] = ()
    oauth_client_id: str = ""
    oauth_client_secret: str = ""
    oauth_scopes: str = "people groups check_ins calendar"
    #: Secret: the Fernet key of the stored OAuth tokens.
    token_key: str = ""

    @property
    def oauth_connect(self) -> bool:
        """Whether the admin page offers "Connect Planning Center" (an OAuth app is set)."""
        return bool(self.oauth_client_id and self.oauth_client_secret)

    #: Who is emailed an alert, by the host's mail set-up.
    alert_emails: tuple[str, ...] = ()
    #: A chat webhook; its path is its password, so it is never printed either.
    alert_webhook_url: str = ""

    @property
    def has_alerts(self) -> bool:
        """Whether any alert channel is configured: without one, health is never worked out
        for alerts."""
        return bool(self.alert_urls or self.alert_emails or self.alert_webhook_url)

    @property
    def has_credentials(self) -> bool:
        return bool(self.access_token or (self.app_id and self.secret))

    @property
    def organization_key(self) -> str:
        """The organisation's key as far as configuration alone tells: a Personal Access
        Token's app id (it belongs to one organisation). Empty for an OAuth token: which
        church it belongs to only PCO can say (``PcoState.organization_key``)."""
        return self.app_id if not self.access_token else ""


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``PCO_*`` settings set in the environment, under their full names, for
    ``app.config.update(settings_from_env())``.

    Flask's ``from_prefixed_env()`` reads only ``FLASK_*``, and ``from_prefixed_env("PCO")``
    strips the prefix (``PCO_APP_ID`` would become ``APP_ID``) and turns ``"123"`` into a number.
    Every key of ``DEFAULTS`` is read. Values stay strings here, as ``load_config`` reads and
    checks them; ``PCO_API_VERSIONS`` is JSON. An empty variable counts as unset (the default
    applies), as a compose file or ``export PCO_X=`` leaves one. Other ``PCO_*`` names are not
    flask-pco's and are left out.
    """
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        if not environ.get(key, "").strip():
            continue
        value: Any = environ[key]
        if isinstance(default, Mapping):
            try:
                value = json.loads(value)
            except ValueError:
                raise ConfigError(f"{key} must be a JSON object, got {value!r}") from None
        settings[key] = value
    return settings


def load_config(config: Mapping[str, Any]) -> PcoConfig:
    """Validate the ``PCO_*`` keys of a Flask config; raise ``ConfigError`` naming the bad key."""
    return PcoConfig(
        app_id=parse.string(config, "PCO_APP_ID"),
        secret=parse.string(config, "PCO_SECRET"),
        access_token=parse.string(config, "PCO_ACCESS_TOKEN"),
        webhook_secrets=parse.secrets(config.get("PCO_WEBHOOK_SECRET")),
        api_url=parse.url(config, "PCO_API_URL", ("http", "https")),
        redis_url=parse.redis_url(config),
        per_page=parse.integer(config, "PCO_PER_PAGE", 1, 100),
        timeout=parse.seconds(config, "PCO_TIMEOUT", parse.MAX_TIMEOUT),
        rate_limit=parse.integer(config, "PCO_RATE_LIMIT", 1, 100_000),
        rate_period=parse.integer(config, "PCO_RATE_PERIOD", 1, 3600),
        api_versions=parse.versions(config.get("PCO_API_VERSIONS"), DEFAULTS["PCO_API_VERSIONS"]),
        incremental_overlap=parse.integer(config, "PCO_INCREMENTAL_OVERLAP", 0, 86_400),
        unconfirmed_grace=parse.integer(config, "PCO_UNCONFIRMED_GRACE", 0, 86_400),
        remove_after_misses=parse.integer(config, "PCO_REMOVE_AFTER_MISSES", 1, 100),
        max_removals=parse.integer(config, "PCO_MAX_REMOVALS", 0, 10_000_000),
        max_removals_percent=parse.integer(config, "PCO_MAX_REMOVALS_PERCENT", 0, 100),
        removal_window=parse.integer(config, "PCO_REMOVAL_WINDOW", 60, 30 * 86_400),
        queue=parse.string(config, "PCO_QUEUE") or "pco",
        run_stale_after=parse.integer(config, "PCO_RUN_STALE_AFTER", 5, 86_400),
        run_slice=parse.integer(config, "PCO_RUN_SLICE", 0, 86_400),
        webhook_gap=parse.integer(config, "PCO_WEBHOOK_GAP", 60, 30 * 86_400),
        webhook_batch=parse.integer(config, "PCO_WEBHOOK_BATCH", 1, 10_000),
        webhook_requeue_after=parse.integer(config, "PCO_WEBHOOK_REQUEUE_AFTER", 10, 86_400),
        webhook_max_bytes=parse.integer(config, "PCO_WEBHOOK_MAX_BYTES", 1024, 50 * 1024 * 1024),
        time_zone=parse.time_zone(config),
        public_url=parse.optional_url(config, "PCO_PUBLIC_URL"),
        readonly_cache_seconds=parse.integer(config, "PCO_READONLY_CACHE_SECONDS", 0, 86_400),
        groups_department=parse.string(config, "PCO_GROUPS_DEPARTMENT") or "PCO Groups",
        auto_merge=parse.flag(config, "PCO_AUTO_MERGE"),
        journal_days=parse.integer(config, "PCO_JOURNAL_DAYS", 1, 36_500),
        metrics_token=parse.string(config, "PCO_METRICS_TOKEN"),
        alert_urls=parse.list_of(config, "PCO_ALERT_URLS"),
        oauth_client_id=parse.string(config, "PCO_OAUTH_CLIENT_ID"),
        oauth_client_secret=parse.string(config, "PCO_OAUTH_CLIENT_SECRET"),
        oauth_scopes=" ".join(parse.string(config, "PCO_OAUTH_SCOPES").split())
        or DEFAULTS["PCO_OAUTH_SCOPES"],
        token_key=parse.token_key(config),
        alert_emails=parse.emails(config, "PCO_ALERT_EMAILS"),
        alert_webhook_url=parse.optional_https_url(config, "PCO_ALERT_WEBHOOK_URL"),
    )
