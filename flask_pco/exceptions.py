"""Every error flask-pco raises, in one tree.

Each class says whether the operation that raised it may succeed if simply tried again
(``retriable``) and whether a sync may skip the one record and go on (``skippable``)::

    PcoError
     ├── ConfigError              a setting, model or table is wrong (also a     fatal
     │    │                       click.ClickException: one line in the CLI)
     │    └── OrganizationUnknownError  PCO did not say which organisation an    as its
     │                            OAuth token is for (unreachable, refused)      cause
     ├── ApiError                 PCO answered with an error status
     │    ├── AuthenticationError 401/403: bad credentials, no access to an app  fatal
     │    ├── NotFoundError       404                                            skippable
     │    ├── ConflictError       409: two creates raced                          retriable
     │    ├── ValidationError     400/422: PCO refused the record                skippable
     │    ├── RateLimitError      429: wait ``retry_after`` seconds               retriable
     │    └── ServerError         5xx                                            retriable
     ├── TransportError           timeout, refused connection, TLS failure       retriable
     ├── DocumentError            a JSON:API document or record is malformed     skippable
     ├── DatabaseBusyError        the database stayed locked or deadlocked       retriable
     ├── SyncInProgressError      the same sync is already running              fatal
     └── SyncCancelledError       an admin cancelled the run                     fatal

HTTP errors carry the status and PCO's ``errors[]`` entries (titles, codes, details and
parameter names) but never the request body, so no personal data ends up in logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DatabaseBusyError",
    "DocumentError",
    "NotFoundError",
    "OrganizationUnknownError",
    "PcoError",
    "RateLimitError",
    "ServerError",
    "SyncCancelledError",
    "SyncInProgressError",
    "TransportError",
    "ValidationError",
]


class PcoError(Exception):
    """Base of every flask-pco error."""

    #: Trying the same operation again later may succeed.
    retriable: bool = False
    #: A sync may record this against one record and carry on with the rest.
    skippable: bool = False


class ConfigError(PcoError, click.ClickException):
    """A setting, a registered model or the database set-up is wrong; the message names it
    and the fix.

    It is also a ``click.ClickException``: raised while ``flask`` loads the site (``init_app``
    in the host's ``create_app``), the command line shows ``Error: <message>`` and exits 1
    instead of a traceback, as Flask does for its own ``NoAppException``.
    """


class OrganizationUnknownError(ConfigError):
    """PCO did not say which organisation an OAuth token belongs to.

    Runs, job ids and settings are keyed by it, and a key shared with other churches would
    let them block each other, so nothing starts until PCO answers. Retriable when its cause
    is (PCO unreachable): a worker tries again; fatal when PCO refused the token.
    """

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class ApiError(PcoError):
    """PCO answered with an error status.

    ``errors`` holds PCO's JSON:API error objects as sent; the message is built from their
    title, resource, parameter and detail, which PCO never fills with personal data.
    """

    def __init__(
        self,
        status: int,
        errors: Sequence[Mapping[str, Any]] = (),
        *,
        method: str = "",
        url: str = "",
        message: str | None = None,
    ) -> None:
        self.status = status
        self.errors = [dict(e) for e in errors]
        self.method = method
        self.url = url
        super().__init__(message or self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.url} " if self.method else ""
        details = "; ".join(describe_error(e) for e in self.errors) or "no detail given"
        return f"{where}failed with HTTP {self.status}: {details}"

    @property
    def detail(self) -> str:
        """PCO's details joined into one line, for sync logs."""
        return "; ".join(describe_error(e) for e in self.errors)


class AuthenticationError(ApiError):
    """PCO refused the credentials, or the user has no access to this PCO app."""


class NotFoundError(ApiError):
    """The record or URL does not exist in PCO."""

    skippable = True


class ConflictError(ApiError):
    """Two creates of the same record raced inside PCO."""

    retriable = True


class ValidationError(ApiError):
    """PCO refused a write: an invalid value, a forbidden attribute, a missing relation."""

    skippable = True


class RateLimitError(ApiError):
    """PCO's rate limit was exceeded; ``retry_after`` says how long every process must wait."""

    retriable = True

    def __init__(self, *args: Any, retry_after: float = 1.0, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class ServerError(ApiError):
    """PCO failed with a 5xx status."""

    retriable = True


class TransportError(PcoError):
    """The request never got an HTTP answer: timeout, refused connection, TLS failure."""

    retriable = True


class DocumentError(PcoError):
    """A JSON:API document, or one record in it, does not have the shape PCO documents."""

    skippable = True


class DatabaseBusyError(PcoError):
    """SQLite said "database is locked" (or PostgreSQL broke a deadlock) each time we tried:
    another connection kept writing the same rows.

    Nothing was written; the same work succeeds once the other writer is done.
    """

    retriable = True


class SyncInProgressError(PcoError):
    """The same sync is already queued or running; ``run_id`` names it."""

    def __init__(self, message: str, run_id: int | None = None) -> None:
        self.run_id = run_id
        super().__init__(message)


class SyncCancelledError(PcoError):
    """An admin asked the run to stop; it stopped at a batch boundary with data consistent."""


def describe_error(error: Mapping[str, Any]) -> str:
    """One line from a PCO error object, in the Ruby client's ``title: resource parameter detail`` form."""
    meta: Mapping[str, Any] = _mapping(error.get("meta"))
    source: Mapping[str, Any] = _mapping(error.get("source"))
    parts = [
        str(meta.get("resource") or ""),
        str(source.get("parameter") or ""),
        str(error.get("detail") or ""),
    ]
    body = " ".join(p for p in parts if p)
    title = str(error.get("title") or error.get("code") or "")
    return f"{title}: {body}" if title and body else title or body


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
