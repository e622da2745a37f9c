"""How a PCO response becomes an error, and which errors are worth another try.

``error_for`` is the one place that maps an HTTP answer to the ``PcoError`` tree, so the
fatal / retriable / skippable decision lives on the exception class and nowhere else.
``RetryPolicy`` plugs that decision into tenacity: reads retry transient failures with
capped, jittered exponential backoff; writes retry only a 429, which PCO never processed.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception

from flask_pco.exceptions import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from flask_pco.redaction import redact_url as mask_credentials

__all__ = ["RetryPolicy", "error_for", "redact_url", "retry_after", "transport_error"]

log = logging.getLogger("flask_pco.client")

_BY_STATUS: Mapping[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}

#: PCO's "Error Code Hint" animals (REFERENCE §2.3), turned into what an admin should do.
_HINTS: Mapping[str, str] = {
    "TRASH_PANDA": "the PCO user behind these credentials has no access to this PCO product; "
    "grant it in PCO (the credentials themselves are fine)",
    "BABOON": "the OAuth access token expired; it must be refreshed",
    "CAPUCHIN": "the OAuth access token was revoked; re-authorise the app in PCO",
    "PELICAN": "the OAuth token lacks a scope this request needs; re-authorise with that scope",
    "CHINCHILLA": "PCO does not know this client application; check the app id / client id",
    "FLAMINGO": "the PCO user behind these credentials no longer exists",
    "LEMMING": "the PCO organisation behind these credentials no longer exists",
}


def redact_url(url: str) -> str:
    """The URL without its query string (``where[search_name]=...`` can hold personal data)
    and without a password a site put in ``PCO_API_URL``."""
    parts = urlsplit(url)
    shown = parts.path if not parts.netloc else f"{parts.scheme}://{parts.netloc}{parts.path}"
    return mask_credentials(shown)


def error_for(response: requests.Response) -> ApiError | None:
    """The error a response stands for, or ``None`` for a success."""
    status = response.status_code
    if status < 400:
        return None
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    kwargs: dict[str, Any] = {
        "method": response.request.method or "",
        "url": redact_url(response.url),
    }
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after(response.headers)
    error = cls(status, _error_objects(response), **kwargs)
    if cls is AuthenticationError:
        error.args = (f"{error} ({_auth_hint(error)})",)
    return error


def transport_error(exc: requests.RequestException, method: str, url: str) -> TransportError:
    """A ``TransportError`` naming what failed, without the query string."""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
    return TransportError(f"{method} {redact_url(url)} {kind}: {type(exc).__name__}")


#: The wait after a 429 whose ``Retry-After`` is absent or unreadable (``nan``, ``-5``, text).
DEFAULT_RETRY_AFTER = 1.0
#: The longest wait one 429 can ask for: PCO's window is 20 s, so a larger value is a broken
#: header or proxy, and waiting it out would end the run (``RetryPolicy.max_wait``) for nothing.
MAX_RETRY_AFTER = 120.0


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds from ``Retry-After`` (delta or HTTP date), at most ``MAX_RETRY_AFTER``;
    ``DEFAULT_RETRY_AFTER`` when absent, unreadable, negative or not finite."""
    value = (headers.get("Retry-After") or "").strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until(value)
    if not math.isfinite(seconds) or seconds < 0:
        return DEFAULT_RETRY_AFTER
    return min(seconds, MAX_RETRY_AFTER)


def _seconds_until(value: str) -> float:
    """Seconds until an HTTP date (0 once it is past), or -1 when ``value`` is not one."""
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, OverflowError, IndexError):
        return -1.0


def _error_objects(response: requests.Response) -> list[Mapping[str, Any]]:
    """PCO's ``errors[]``; a non-JSON body (an HTML 404) becomes one synthetic entry."""
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        return [{"title": f"HTTP {response.status_code} with a non-JSON body ({kind})"}]
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if isinstance(errors, list):
        return [e for e in errors if isinstance(e, Mapping)]
    if isinstance(body, Mapping) and "error" in body:  # OAuth-style body
        return [{"title": str(body["error"]), "detail": str(body.get("error_description", ""))}]
    return []


def _auth_hint(error: ApiError) -> str:
    text = " ".join(str(e.get("detail", "")) for e in error.errors)
    for animal, hint in _HINTS.items():
        if animal in text:
            return f"{animal}: {hint}"
    if error.status == 403:
        return "the PCO user lacks permission for this record or action"
    return "check PCO_APP_ID / PCO_SECRET, or re-authorise the OAuth app"


class RetryPolicy:
    """Tenacity's retry, wait and stop decisions for one request.

    Transient failures (timeouts, refused connections, 5xx) are retried only for idempotent
    requests, at most ``max_attempts`` times in all. A 429 is retried for any method, after
    ``Retry-After``, until ``max_wait`` seconds have gone by: a rate limit never fails a sync.
    """

    def __init__(
        self,
        *,
        idempotent: bool,
        clock: Callable[[], float],
        max_attempts: int = 5,
        max_wait: float = 900.0,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.idempotent = idempotent
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self._started = clock()
        self._transient = 0

    def should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, RateLimitError):
            return True
        if self.idempotent and isinstance(exc, TransportError | ServerError):
            self._transient += 1
            return True
        return False

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError):
            return exc.retry_after
        exponential = self.backoff * 2 ** (self._transient - 1)
        return float(min(exponential + random.uniform(0, self.backoff), self.max_backoff))

    def stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError):
            return self._clock() - self._started + state.upcoming_sleep > self.max_wait
        return self._transient >= self.max_attempts

    def retrying(self, sleep: Callable[[float], None]) -> Retrying:
        """A tenacity runner applying this policy, sleeping through ``sleep``."""
        return Retrying(
            retry=retry_if_exception(self.should_retry),
            wait=self.wait,
            stop=self.stop,
            sleep=sleep,
            reraise=True,
            before_sleep=_log_retry,
        )


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.info("retrying in %.1f s after: %s", state.upcoming_sleep, exc)
