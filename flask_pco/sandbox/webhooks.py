"""Signed webhook deliveries in PCO's EventDelivery format (REFERENCE §6.3-6.7).

Changes are turned into payload strings at change time (the state a subscriber would see),
then a background thread POSTs them, retrying non-2xx with the same event uuid and a growing
``attempt``. As in PCO (REFERENCE §6.5) a failed delivery is retried up to 16 times, and when
the last retry fails too the subscription is deactivated; a 410 deactivates it at once. Only the
schedule is shorter: PCO's waits (30 s up to a day) become ``retry_delays`` (the last one
repeated), so a test sees a subscription die in seconds rather than in 5.4 days.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_pco.sandbox.specs import ORGANIZATION_ID
from flask_pco.sandbox.store import Store, utc_stamp

EVENT_RESOURCES = {
    "Person": "people.v2.events.person",
    "Email": "people.v2.events.email",
    "PhoneNumber": "people.v2.events.phone_number",
    "Address": "people.v2.events.address",
    "Household": "people.v2.events.household",
    "FieldDatum": "people.v2.events.field_datum",
    "PersonMerger": "people.v2.events.person_merger",
    "Membership": "groups.v2.events.membership",
}
ACTIONS = ("created", "updated", "destroyed")
EVENT_NAMES = tuple(
    f"{prefix}.{action}"
    for table, prefix in EVENT_RESOURCES.items()
    for action in (("created",) if table == "PersonMerger" else ACTIONS)
)
#: What ``control.subscribe`` listens to by default: all People events.
PEOPLE_EVENT_NAMES = tuple(name for name in EVENT_NAMES if name.startswith("people."))
#: What ``flask pco sandbox --webhook-url`` subscribes a site to: People and Groups membership
#: events, the ones flask-pco applies.
SITE_EVENT_NAMES = (*PEOPLE_EVENT_NAMES, *(n for n in EVENT_NAMES if n.startswith("groups.")))
SEND_TIMEOUT = 5.0
#: Retries after a failed first attempt before PCO gives up and deactivates the subscription.
PCO_RETRIES = 16


def sign_body(raw: bytes, secret: str) -> str:
    """PCO's ``X-PCO-Webhooks-Authenticity``: lowercase hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def delivery_body(
    event_uuid: str,
    name: str,
    attempt: int,
    payload: str,
    organization_id: str = ORGANIZATION_ID,
) -> bytes:
    """The compact EventDelivery envelope; the signature covers exactly these bytes."""
    body = {
        "data": [
            {
                "id": event_uuid,
                "type": "EventDelivery",
                "attributes": {"name": name, "attempt": attempt, "payload": payload},
                "relationships": {
                    "organization": {"data": {"type": "Organization", "id": organization_id}}
                },
            }
        ]
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(order=True)
class Delivery:
    due: float
    seq: int
    subscription_id: str = field(compare=False)
    url: str = field(compare=False)
    name: str = field(compare=False)
    event_uuid: str = field(compare=False)
    event_id: str = field(compare=False)
    event_time: str = field(compare=False)
    payload: str = field(compare=False)
    attempt: int = field(compare=False, default=1)
    #: The dispatcher's epoch when queued; a reset starts a new one and strands old retries.
    epoch: int = field(compare=False, default=0)


PayloadBuilder = Callable[[str, str, dict[str, Any]], str]


class WebhookDispatcher:
    """A queue of deliveries and the one thread that sends them."""

    def __init__(
        self,
        store: Store,
        build_payload: PayloadBuilder,
        retry_delays: tuple[float, ...],
        organization_id: str = ORGANIZATION_ID,
        retries: int = PCO_RETRIES,
    ):
        self.store = store
        self.organization_id = organization_id
        self.build_payload = build_payload
        self.retry_delays = tuple(retry_delays)
        self.retries = retries
        self.duplicate_rate = 0.0
        self.shuffle = False
        self.delay_ms = 0
        self.log: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._queue: list[Delivery] = []
        self._pending = 0
        self._seq = itertools.count()
        self._event_ids = itertools.count(918270001)
        self._rng = random.Random()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._epoch = 0

    def on_change(self, table: str, action: str, record: dict[str, Any]) -> None:
        """Store listener: queue one delivery per active subscription to this event name."""
        name = f"{EVENT_RESOURCES[table]}.{action}" if table in EVENT_RESOURCES else ""
        subscriptions = [
            self.store.tables["Subscription"][sid]
            for sid in self.store.lookup("Subscription", "name", name)
        ]
        active = [sub for sub in subscriptions if sub.get("active")]
        if not active:
            return
        event_time = utc_stamp()
        payload = self.build_payload(table, action, record)
        for sub in active:
            self._enqueue(sub, name, event_time, payload)

    def _enqueue(self, sub: dict[str, Any], name: str, event_time: str, payload: str) -> None:
        delivery = Delivery(
            due=time.monotonic() + self.delay_ms / 1000,
            seq=next(self._seq),
            subscription_id=sub["id"],
            url=sub["url"],
            name=name,
            event_uuid=str(uuid.uuid4()),
            event_id=str(next(self._event_ids)),
            event_time=event_time,
            payload=payload,
            epoch=self._epoch,
        )
        with self._cond:
            self._pending += 1
            heapq.heappush(self._queue, delivery)
            self._ensure_thread()
            self._cond.notify_all()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def flush(self, timeout: float = 15.0) -> bool:
        """Block until every queued delivery (retries included) is finished."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending and time.monotonic() < deadline:
                self._cond.wait(min(0.05, max(0.0, deadline - time.monotonic())))
            return self._pending == 0

    def clear(self) -> None:
        with self._cond:
            self._pending -= len(self._queue)
            self._queue.clear()
            self._epoch += 1
            self.log.clear()
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            for delivery in batch:
                self._attempt(delivery)

    def _next_batch(self) -> list[Delivery] | None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._queue and self._queue[0].due <= now:
                    if self.shuffle:
                        self._cond.wait(0.05)  # let a few deliveries gather so order can change
                    due = [d for d in self._queue if d.due <= time.monotonic()]
                    self._queue = [d for d in self._queue if d not in due]
                    heapq.heapify(self._queue)
                    if self.shuffle:
                        self._rng.shuffle(due)
                    return due
                wait = (self._queue[0].due - now) if self._queue else 0.5
                self._cond.wait(min(wait, 0.5))
            return None

    def _attempt(self, delivery: Delivery) -> None:
        with self.store.lock:
            sub = self.store.get("Subscription", delivery.subscription_id)
            current = sub is not None and sub.get("active") and delivery.epoch == self._epoch
            secret = sub["authenticity_secret"] if sub and current else None
        status = self._send(delivery, secret) if secret else 0
        if secret and self._rng.random() < self.duplicate_rate:
            self._send(delivery, secret)
        failed = bool(secret) and not 200 <= status < 300
        if failed and status != 410 and delivery.attempt <= self.retries:
            self._requeue(delivery)
            return
        if failed:  # a 410, or the last retry failed too: PCO stops sending to this subscription
            self._deactivate(delivery)
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    def _deactivate(self, delivery: Delivery) -> None:
        with self.store.lock:
            if self.store.get("Subscription", delivery.subscription_id) is not None:
                self.store.update(
                    "Subscription", delivery.subscription_id, {"active": False}, emit=False
                )

    def _requeue(self, delivery: Delivery) -> None:
        delays = self.retry_delays or (0.0,)
        delivery.due = time.monotonic() + delays[min(delivery.attempt, len(delays)) - 1]
        delivery.attempt += 1
        with self._cond:
            heapq.heappush(self._queue, delivery)
            self._cond.notify_all()

    def _send(self, delivery: Delivery, secret: str) -> int:
        body = delivery_body(
            delivery.event_uuid,
            delivery.name,
            delivery.attempt,
            delivery.payload,
            self.organization_id,
        )
        headers = {
            "Content-Type": "application/json",
            "X-PCO-Webhooks-Authenticity": sign_body(body, secret),
            "X-PCO-Webhooks-Name": delivery.name,
            "X-PCO-Webhooks-Event": delivery.event_uuid,
            "X-PCO-Webhooks-Event-ID": delivery.event_id,
            "X-PCO-Webhooks-Event-Time": delivery.event_time,
        }
        request = urllib.request.Request(delivery.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (OSError, ValueError):
            status = 0
        self.log.append(
            {"name": delivery.name, "url": delivery.url, "event": delivery.event_uuid,
             "attempt": delivery.attempt, "status": status}
        )  # fmt: skip
        return status
