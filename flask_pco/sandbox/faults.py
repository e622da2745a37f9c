"""Injected trouble for PCO API paths: latency, 500s, timeouts and 429 storms."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from .errors import rate_limited, server_error


@dataclass
class Faults:
    """Switches set through ``/_sandbox/faults``; all off by default."""

    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    #: How long a "timed out" request sleeps before answering (longer than a client timeout).
    timeout_seconds: float = 3.0
    storm_until: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, settings: dict[str, float]) -> None:
        with self.lock:
            self.latency_ms = int(settings.get("latency_ms", 0))
            self.error_rate = float(settings.get("error_rate", 0.0))
            self.timeout_rate = float(settings.get("timeout_rate", 0.0))
            self.timeout_seconds = float(settings.get("timeout_seconds", 3.0))
            storm = float(settings.get("storm_seconds", 0))
            self.storm_until = time.monotonic() + storm if storm > 0 else 0.0

    def settings(self) -> dict[str, float]:
        storm_left = max(0.0, self.storm_until - time.monotonic())
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate,
            "timeout_seconds": self.timeout_seconds,
            "storm_seconds": round(storm_left, 3),
        }

    def apply(self, limit: int, period: int) -> None:
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
        if roll_error < self.error_rate:
            raise server_error()
