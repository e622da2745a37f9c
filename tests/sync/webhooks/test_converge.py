"""Webhook re-fetches converge on PCO's latest state, whatever order PCO's answers arrive in.

Two PCO edits in the same second share one ``updated_at``, so the timestamp cannot tell which
re-fetch is newer. The person's lock is taken before the re-fetch, so the delivery that commits
later also fetched later.
"""

from __future__ import annotations

import threading
import time

import requests

from example_app.models import db
from flask_pco.web.webhook import sign_body
from tests.sync.webhooks.conftest import SECRET, deliveries

from .test_apply import created_locally

SAME_SECOND = "2099-01-01T00:00:00Z"  # later than the local copy


def deliver(church, raw: bytes) -> int:
    """POST over real HTTP, as PCO does, to the live app (applied in the request: no Redis)."""
    headers = {
        "Content-Type": "application/json",
        "X-PCO-Webhooks-Authenticity": sign_body(raw, SECRET),
    }
    return requests.post(church.live.webhook_url, data=raw, headers=headers, timeout=30).status_code


def test_an_older_refetch_answered_late_does_not_overwrite_a_newer_one(church):
    pco_id = church.add_pco_person()
    created_locally(church, pco_id)
    church.sandbox.control.set_clock(SAME_SECOND)  # both edits in one second
    church.sandbox.control.edit_person(pco_id, last_name="Older")
    older = church.person_event("updated", pco_id)
    church.sandbox.control.set_faults(slow_read_seconds=1.5)
    statuses: list[int] = []
    first = threading.Thread(target=lambda: statuses.append(deliver(church, older)))

    first.start()  # its re-fetch reads "Older" now; the answer arrives 1.5 s later
    time.sleep(0.4)
    church.sandbox.control.set_faults()
    church.sandbox.control.edit_person(pco_id, last_name="Latest")
    statuses.append(deliver(church, church.person_event("updated", pco_id)))
    first.join(timeout=30)

    assert statuses == [200, 200]
    assert church.local(pco_id).last_name == "Latest"
    assert church.pco("Person", pco_id)["updated_at"] == SAME_SECOND
    assert {d.status for d in deliveries(db)} <= {"applied", "ignored"}
