"""PCO's per-credential moving-window rate limit (REFERENCE §3), thread-safe."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from flask_pco.sandbox.errors import rate_limited

#: PCO throttles deep offsets harder (documented 75 per 20 s).
DEEP_OFFSET = 30_000
DEEP_OFFSET_LIMIT = 75


@dataclass(frozen=True)
class RateStatus:
    limit: int
    period: int
    count: int

    def headers(self) -> dict[str, str]:
        return {
            "X-PCO-API-Request-Rate-Limit": str(self.limit),
            "X-PCO-API-Request-Rate-Period": str(self.period),
            "X-PCO-API-Request-Rate-Count": str(self.count),
        }


class RateLimiter:
    """Counts accepted requests per credential over the last ``period`` seconds."""

    def __init__(self, limit: int = 100, period: int = 20) -> None:
        self.limit = limit
        self.period = period
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}

    def configure(self, limit: int, period: int) -> None:
        with self._lock:
            self.limit, self.period = limit, period
            self._windows.clear()

    def peek(self, credential: str | None) -> RateStatus:
        """The current window without counting a request (for 401s and injected 429s)."""
        now = time.monotonic()
        with self._lock:
            window = self._windows.get(credential or "", deque())
            return RateStatus(
                self.limit, self.period, sum(1 for t in window if t > now - self.period)
            )

    def hit(self, credential: str, offset: int = 0) -> RateStatus:
        """Record one request, or raise PCO's 429 with ``Retry-After`` when over the limit."""
        limit = min(self.limit, DEEP_OFFSET_LIMIT) if offset > DEEP_OFFSET else self.limit
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(credential, deque())
            while window and window[0] <= now - self.period:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + self.period - now))
                error = rate_limited(len(window) + 1, limit, self.period, retry_after)
                error.headers.update(RateStatus(limit, self.period, len(window)).headers())
                raise error
            window.append(now)
            return RateStatus(limit, self.period, len(window))
