"""One rate-limit budget per PCO credential, shared by every process that uses it.

PCO allows ``limit`` requests per ``period`` seconds per user, across every thread, worker and
app holding that user's credentials. The web process, the CLI and all RQ workers therefore draw
from one moving window kept in Redis (the ``limits`` package, keyed by credential). Three
things are shared through Redis:

* the moving window itself, under a key that does *not* include the limit, so learning a new
  limit keeps the requests already counted;
* the budget learned from PCO's ``X-PCO-API-Request-Rate-Limit`` / ``-Period`` headers,
  so the first process to hear of a change tells all the others;
* a "blocked until" time written after a 429, so every process waits out ``Retry-After``.

``acquire`` sleeps exactly until the oldest request leaves the window (``get_window_stats``'
reset time), which keeps the budget ~95 % used when work is queued. Our window is a little
longer than PCO's: we count a request when it leaves and PCO when it arrives, and a request
that travels faster than the one it replaces in a full window would tip PCO's window into a
429. The margin is the slowest recent round trip seen by this process (x1.25), at least 2.5 %
of the period (50 ms minimum) and at most 10 % of it. Without Redis, ``limits``'
``MemoryStorage`` gives the same behaviour inside one process.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from limits import RateLimitItemPerSecond
from limits.limits import safe_string
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from flask_pco.exceptions import TransportError

if TYPE_CHECKING:
    import redis as redis_lib

__all__ = ["RateInfo", "RateLimiter", "parse_rate_headers"]

log = logging.getLogger("flask_pco.client")

_LEADING_INT = re.compile(r"\s*(\d+)")
_MIN_SLEEP = 0.005
_BLOCK_SCRIPT = """
local current = tonumber(redis.call('get', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
"""


@dataclass(frozen=True, slots=True)
class RateInfo:
    """PCO's rate-limit headers from one response."""

    limit: int
    period: int
    count: int | None = None


def _leading_int(value: str | None) -> int | None:
    match = _LEADING_INT.match(value or "")
    return int(match.group(1)) if match and len(match.group(1)) <= 18 else None


def parse_rate_headers(headers: Mapping[str, str]) -> RateInfo | None:
    """``RateInfo`` from a response; the period may read "20" or "20 seconds"."""
    limit = _leading_int(headers.get("X-PCO-API-Request-Rate-Limit"))
    period = _leading_int(headers.get("X-PCO-API-Request-Rate-Period"))
    if not limit or not period:
        return None
    return RateInfo(limit, period, _leading_int(headers.get("X-PCO-API-Request-Rate-Count")))


class _Window(RateLimitItemPerSecond):
    """A moving window ``margin`` seconds longer than PCO's, keyed without the limit.

    The key ignores the limit so that learning a new limit keeps the requests already counted.
    """

    __slots__ = ["margin"]

    def __init__(self, amount: int, period: int, namespace: str, margin: float) -> None:
        super().__init__(amount, period, namespace=namespace)
        self.margin = margin

    def get_expiry(self) -> int:
        # ``limits`` types this as int but computes with floats throughout; only Redis' EXPIRE
        # needs whole seconds, which ``_RedisStorage`` takes care of.
        return self.multiples + self.margin  # type: ignore[return-value]

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return "/".join([self.namespace, *(safe_string(i) for i in identifiers)])


class _RedisStorage(RedisStorage):
    """``limits``' Redis storage with a fractional window length (EXPIRE is rounded up)."""

    SCRIPT_ACQUIRE_MOVING_WINDOW = RedisStorage.SCRIPT_ACQUIRE_MOVING_WINDOW.replace(
        b"redis.call('expire', KEYS[1], expiry)",
        b"redis.call('expire', KEYS[1], math.ceil(expiry))",
    )


#: If a future ``limits`` changes its script, fall back to whole-second windows (a safe but
#: slower margin), say so in the log, and fail tests/client/test_limits_internals.py.
_FRACTIONAL_REDIS = b"math.ceil(expiry)" in _RedisStorage.SCRIPT_ACQUIRE_MOVING_WINDOW
if not _FRACTIONAL_REDIS:
    log.warning(
        "this version of `limits` changed its Redis moving-window script; flask-pco falls back "
        "to a 1 s safety margin per window (slower pushes). Update flask_pco/client/ratelimit.py"
    )


class _MemoryState:
    """Budget and block for one process, when no Redis is configured."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._budget: str | None = None
        self._blocked_until = 0.0
        self._answers: Counter[str] = Counter()

    def read(self) -> tuple[str | None, float]:
        with self._lock:
            return self._budget, self._blocked_until

    def write_budget(self, value: str) -> None:
        with self._lock:
            self._budget = value

    def block_until(self, until: float, seconds: float) -> None:
        with self._lock:
            self._blocked_until = max(self._blocked_until, until)

    def tally(self, outcome: str, count: int) -> None:
        with self._lock:
            self._answers[outcome] += count

    def answers(self) -> dict[str, int]:
        with self._lock:
            return dict(self._answers)


class _RedisState:
    """Budget and block in Redis, seen by every process using the same credential."""

    def __init__(self, connection: redis_lib.Redis, prefix: str) -> None:
        self._redis = connection
        self._budget_key = f"{prefix}:budget"
        self._blocked_key = f"{prefix}:blocked_until"
        self._answers_key = f"{prefix}:answers"
        self._block = connection.register_script(_BLOCK_SCRIPT)

    def read(self) -> tuple[str | None, float]:
        values = cast(list[bytes | None], self._redis.mget(self._budget_key, self._blocked_key))
        budget, blocked = values
        return (budget.decode() if budget else None), float(blocked or 0)

    def write_budget(self, value: str) -> None:
        self._redis.set(self._budget_key, value, ex=7 * 24 * 3600)

    def block_until(self, until: float, seconds: float) -> None:
        self._block(keys=[self._blocked_key], args=[repr(until), math.ceil(seconds * 1000) + 1000])

    def tally(self, outcome: str, count: int) -> None:
        self._redis.hincrby(self._answers_key, outcome, count)

    def answers(self) -> dict[str, int]:
        raw = cast(dict[bytes, bytes], self._redis.hgetall(self._answers_key))
        return {key.decode(): int(value) for key, value in raw.items()}


class RateLimiter:
    """The shared request budget of one PCO credential.

    ``key`` names the credential (an organisation key or a digest of the app id; never the
    secret). ``redis`` is a connection or a URL; ``None`` keeps the budget in this process only.
    ``limit``/``period`` are the starting budget until PCO's headers say otherwise. ``clock``
    must be a wall clock shared by all processes (``time.time``); tests inject a fake one.
    """

    PREFIX = "flask_pco:rate"

    def __init__(
        self,
        key: str,
        redis: redis_lib.Redis | str | None = None,
        limit: int = 100,
        period: int = 20,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self._default = f"{limit}/{period}"
        self._clock = clock
        self._owned: redis_lib.Redis | None = None
        #: What a Redis that does not answer raises; nothing without Redis, whose client a
        #: process without it never imports.
        self._redis_errors: tuple[type[Exception], ...] = ()
        if redis is not None:
            import redis as redis_lib

            self._redis_errors = (redis_lib.RedisError,)
        if isinstance(redis, str):
            redis = self._owned = redis_lib.Redis.from_url(redis)
        if redis is None:
            self._state: _MemoryState | _RedisState = _MemoryState()
            storage: MemoryStorage | RedisStorage = MemoryStorage()
        else:
            self._state = _RedisState(redis, f"{self.PREFIX}:{key}")
            storage = _RedisStorage("redis://", connection_pool=redis.connection_pool)
        self.shared = redis is not None
        self._window = MovingWindowRateLimiter(storage)
        self._budget = self._default
        self._round_trips: deque[float] = deque(maxlen=64)
        #: Told how long ``acquire`` is about to sleep for the budget, when it is a second or
        #: more: a pool of workers serving many budgets leaves that one alone meanwhile.
        self.on_wait: Callable[[float], None] | None = None

    def __repr__(self) -> str:
        where = "redis" if self.shared else "memory"
        return f"RateLimiter(key={self.key!r}, {self.limit}/{self.period}s, {where})"

    @property
    def limit(self) -> int:
        """Requests allowed per period, as last learned (by any process)."""
        return int(self._budget.split("/")[0])

    @property
    def period(self) -> int:
        """Length of the window in seconds, as last learned (by any process)."""
        return int(self._budget.split("/")[1])

    def _item(self) -> _Window:
        return _Window(self.limit, self.period, f"{self.PREFIX}:{self.key}:window", self._margin())

    def _margin(self) -> float:
        if self.shared and not _FRACTIONAL_REDIS:
            return 1.0
        slowest = max(self._round_trips, default=0.0) * 1.25
        return min(max(0.05, self.period * 0.025, slowest), self.period * 0.1)

    def observe(self, seconds: float) -> None:
        """Record how long a request took from ``acquire`` to its answer (sizes the margin)."""
        self._round_trips.append(seconds)

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Take one request from the budget, sleeping as long as needed; returns the time slept.

        An unreachable Redis raises ``TransportError``: sending without the shared budget
        could push every process into PCO's 429s, and the error is retriable like a timeout.
        """
        try:
            return self._acquire(sleep)
        except self._redis_errors as exc:
            raise TransportError(f"the shared rate limit in Redis is unreachable: {exc}") from exc

    def _acquire(self, sleep: Callable[[float], None]) -> float:
        waited = 0.0
        while True:
            wait = self._wait_before_hit()
            if wait <= 0:
                item = self._item()
                if self._window.hit(item, self.key):
                    return waited
                reset = self._window.get_window_stats(item, self.key).reset_time
                wait = reset - time.time()  # ``limits`` stamps entries with time.time()
            wait = min(max(wait, _MIN_SLEEP), self.period + 1.0)
            if self.on_wait is not None and wait >= 1.0:
                self.on_wait(wait)
            sleep(wait)
            waited += wait

    def _wait_before_hit(self) -> float:
        budget, blocked_until = self._state.read()
        self._budget = budget or self._default
        return blocked_until - self._clock()

    def learn(self, info: RateInfo) -> None:
        """Adopt the budget PCO announced, for every process, if it changed."""
        budget = f"{info.limit}/{info.period}"
        if budget == self._budget:
            return
        log.info("PCO rate limit for %s is %s requests per %s s", self.key, info.limit, info.period)
        self._budget = budget
        try:
            self._state.write_budget(budget)
        except self._redis_errors as exc:  # the next acquire reports Redis being down
            log.warning("could not share the learned rate limit through Redis: %s", exc)

    def tally(self, outcome: str, count: int = 1) -> None:
        """Count an answer from PCO (its HTTP status, or ``error`` when none came), for every
        process when the budget is in Redis: the metrics' requests by status and 429s.
        ``count``: that many answers at once (ones another client received for this budget)."""
        try:
            self._state.tally(outcome, count)
        except self._redis_errors as exc:  # a count is not worth failing a request for
            log.warning("could not count a PCO answer in Redis: %s", exc)

    def answers(self) -> dict[str, int]:
        """PCO's answers so far by status (all processes sharing the budget, since Redis
        started; this process only without Redis)."""
        return self._state.answers()

    def block(self, seconds: float) -> None:
        """After a 429: no process sends anything for ``seconds``."""
        log.warning("PCO rate limit hit for %s: every process waits %.1f s", self.key, seconds)
        try:
            self._state.block_until(self._clock() + seconds, seconds)
        except self._redis_errors as exc:  # this process still waits: the 429 is retried
            log.warning("could not share the 429 wait through Redis: %s", exc)

    def blocked_for(self) -> float:
        """Seconds left before requests may go out again after a 429."""
        return max(self._wait_before_hit(), 0.0)

    def wait_for_room(self, n: int) -> float:
        """Seconds before ``n`` more requests fit in the moving window (0: they fit now), so a
        caller may come back for a burst rather than a trickle. Exact with Redis; in memory
        (``limits`` counts the whole window there), the wait for one request."""
        need = max(self.limit - n + 1, 1)  # when fewer than this are left in the window
        probe = _Window(need, self.period, f"{self.PREFIX}:{self.key}:window", self._margin())
        stats = self._window.get_window_stats(probe, self.key)
        return 0.0 if stats.remaining > 0 else max(stats.reset_time - time.time(), 0.0)

    def window_stats(self) -> tuple[float, int]:
        """``(reset_time, remaining)`` of the moving window, for benches and admin pages."""
        stats = self._window.get_window_stats(self._item(), self.key)
        return stats.reset_time, stats.remaining

    def close(self) -> None:
        """Close the Redis connection if this limiter opened it from a URL."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None
