"""Injected trouble for PCO API paths: latency, 500s, timeouts, 429 storms, lost and slow
answers.

Latency, errors, timeouts and storms strike before the request is handled, so nothing happens
in the sandbox. A lost answer strikes after a write was carried out and committed (record
stored, webhooks queued): the client gets a gateway's 504 instead of PCO's answer, which is how
a create ends up in PCO while the caller cannot know it. A slow read answer is the same on the
way back for a GET: PCO read its records at once, the answer arrives late, so by then PCO may
hold a newer version than the one the client is given.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask_pco.sandbox.errors import rate_limited, server_error

#: The probabilities ``configure`` accepts (0 to 1), in the order it assigns them.
_RATES = ("error_rate", "timeout_rate", "lost_answer_rate")
#: The durations it accepts (seconds, not negative), with their defaults.
_SECONDS = {
    "timeout_seconds": 3.0,
    "lost_answer_seconds": 0.0,
    "storm_seconds": 0.0,
    "slow_read_seconds": 0.0,
}


def _number(settings: dict[str, Any], key: str, default: float, high: float | None = None) -> float:
    """One setting as a float within [0, high]; ``ValueError`` naming the key otherwise."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, not {value!r}")
    if value < 0 or (high is not None and value > high):
        limit = f"between 0 and {high:g}" if high is not None else "0 or more"
        raise ValueError(f"{key} must be {limit}, not {value!r}")
    return float(value)


@dataclass
class Faults:
    """Switches set through ``/_sandbox/faults``; all off by default."""

    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    #: How long a "timed out" request sleeps before answering (longer than a client timeout).
    timeout_seconds: float = 3.0
    storm_until: float = 0.0
    #: Share of successful POST/PATCH/DELETE whose answer a "gateway" replaces with a 504.
    lost_answer_rate: float = 0.0
    #: How long the gateway waits before that 504; past the client's timeout it sees a timeout.
    lost_answer_seconds: float = 0.0
    #: How long the answer to every GET is held after PCO read what it holds.
    slow_read_seconds: float = 0.0
    #: The HTTP methods ``error_rate`` strikes (all when empty): ``{"PATCH", "POST"}`` is a PCO
    #: whose reads work while its writes fail.
    error_methods: frozenset[str] = frozenset()
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, settings: dict[str, Any]) -> None:
        """Replace every switch (absent keys go back to off); a bad value changes nothing.

        ``seed`` (optional) restarts the dice, so a run with the same faults fails alike.
        """
        latency_ms = int(_number(settings, "latency_ms", 0))
        rates = {k: _number(settings, k, 0.0, 1.0) for k in _RATES}
        seconds = {k: _number(settings, k, _SECONDS[k]) for k in _SECONDS}
        methods = settings.get("error_methods") or ()
        if isinstance(methods, str) or not all(isinstance(m, str) for m in methods):
            raise ValueError(f"error_methods must be a list of HTTP methods, not {methods!r}")
        seed = settings.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an integer, not {seed!r}")
        with self.lock:
            self.latency_ms = latency_ms
            self.error_rate, self.timeout_rate, self.lost_answer_rate = rates.values()
            self.error_methods = frozenset(m.upper() for m in methods)
            self.timeout_seconds = seconds["timeout_seconds"]
            self.lost_answer_seconds = seconds["lost_answer_seconds"]
            self.slow_read_seconds = seconds["slow_read_seconds"]
            storm = seconds["storm_seconds"]
            self.storm_until = time.monotonic() + storm if storm > 0 else 0.0
            if seed is not None:
                self.rng.seed(seed)

    def settings(self) -> dict[str, Any]:
        storm_left = max(0.0, self.storm_until - time.monotonic())
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "error_methods": sorted(self.error_methods),
            "timeout_rate": self.timeout_rate,
            "timeout_seconds": self.timeout_seconds,
            "storm_seconds": round(storm_left, 3),
            "lost_answer_rate": self.lost_answer_rate,
            "lost_answer_seconds": self.lost_answer_seconds,
            "slow_read_seconds": self.slow_read_seconds,
        }

    def apply(self, limit: int, period: int, method: str = "GET") -> None:
        """Delay or fail this request as configured; raises the error to answer with."""
        storm_left = self.storm_until - time.monotonic()
        if storm_left > 0:
            raise rate_limited(limit + 1, limit, period, max(1, round(storm_left + 0.49)))
        with self.lock:
            roll_timeout, roll_error = self.rng.random(), self.rng.random()
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if roll_timeout < self.timeout_rate:
            time.sleep(self.timeout_seconds)
        strikes = not self.error_methods or method.upper() in self.error_methods
        if roll_error < self.error_rate and strikes:
            raise server_error()

    def lose_answer(self) -> bool:
        """Whether the answer to a write that was just carried out is lost; waits as a gateway
        would before giving up on it."""
        if not self.lost_answer_rate:
            return False
        with self.lock:
            lost = self.rng.random() < self.lost_answer_rate
        if lost and self.lost_answer_seconds:
            time.sleep(self.lost_answer_seconds)
        return lost

    def hold_read_answer(self) -> None:
        """Hold the answer to a read that was just made, as a slow network back would."""
        if self.slow_read_seconds:
            time.sleep(self.slow_read_seconds)
