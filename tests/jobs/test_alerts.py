"""Alerts through Apprise to a real HTTP receiver: one per cause per hour, one when healthy
again (and one when webhooks work again), counts and run numbers only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from flask_pco.extension import current_pco
from flask_pco.jobs.alerts import check_alerts
from flask_pco.models import utcnow
from tests.conftest import make_app
from tests.web.conftest import make_issue, make_run

SECRET_WORDS = "password=hunter2 for Ann Plantedname"


class Receiver:
    """A chat tool's incoming webhook: keeps every JSON body Apprise posts."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"json://127.0.0.1:{self._server.server_port}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @Request.application
    def _app(self, request: Request) -> Response:
        self.received.append(json.loads(request.get_data()))
        return Response("ok")

    def take(self) -> list[dict[str, Any]]:
        taken, self.received = self.received, []
        return taken


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver._server.shutdown()


@pytest.fixture
def alerting(database_url: str, receiver: Receiver) -> Iterator[Flask]:
    app = make_app(database_url, PCO_ALERT_URLS=receiver.url, PCO_API_URL="http://127.0.0.1:9")
    with app.app_context():
        yield app


def test_a_failed_run_is_alerted_once_an_hour_without_its_words(
    alerting: Flask, receiver: Receiver
) -> None:
    make_run("failed", direction="pull", sync_type="people", error_message=SECRET_WORDS)
    state = current_pco()

    assert check_alerts(state) == ["the last pull (people, run 1) failed"]
    [alert] = receiver.take()
    assert alert["title"] == "Planning Center sync: failing"
    assert "the last pull (people, run 1) failed" in alert["message"]
    assert "hunter2" not in json.dumps(alert) and "Plantedname" not in json.dumps(alert)

    assert check_alerts(state) == []
    assert check_alerts(state, now=utcnow() + timedelta(minutes=61)) == [
        "the last pull (people, run 1) failed"
    ]


def test_recovery_is_alerted_once(alerting: Flask, receiver: Receiver) -> None:
    make_run("failed", direction="push", sync_type="people")
    state = current_pco()
    check_alerts(state)
    receiver.take()
    make_run("succeeded", direction="push", sync_type="people")

    assert check_alerts(state) == ["the sync is healthy again"]
    assert check_alerts(state) == []
    assert [a["title"] for a in receiver.take()] == ["Planning Center sync: healthy again"]


def test_a_new_cause_is_alerted_while_an_old_one_waits_its_hour(
    alerting: Flask, receiver: Receiver
) -> None:
    failed = make_run("failed", direction="pull", sync_type="people")
    state = current_pco()
    check_alerts(state)
    pushed = make_run("succeeded", direction="push", sync_type="people")
    make_issue(kind="refused", run_id=pushed.id, candidates=[], reason=SECRET_WORDS)

    sent = check_alerts(state)

    assert sent == ["push people: 1 Person record refused"]
    assert failed.id == 1


def test_nothing_is_sent_without_alert_urls(app: Any) -> None:
    make_run("failed", direction="pull", sync_type="people")

    assert check_alerts(current_pco()) == []


def test_a_channel_that_does_not_answer_never_breaks_the_check(database_url: str) -> None:
    app = make_app(
        database_url, PCO_ALERT_URLS="json://127.0.0.1:9/hook", PCO_API_URL="http://127.0.0.1:9"
    )
    with app.app_context():
        make_run("failed", direction="pull", sync_type="people")

        assert check_alerts(current_pco()) == ["the last pull (people, run 1) failed"]


@pytest.mark.usefixtures("test_steps")
def test_a_run_that_fails_sends_its_alert_as_it_ends(alerting: Flask, receiver: Receiver) -> None:
    from flask_pco.jobs.queue import start_sync

    thread_run = start_sync("pull", "locked-out", trigger="cli", mode="thread")
    wait_for(lambda: receiver.received)

    [alert] = receiver.take()
    assert f"the last pull (locked-out, run {thread_run.id}) failed" in alert["message"]


def wait_for(condition: Any, timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "nothing arrived"
        time.sleep(0.05)


INACTIVE_LINE = "webhooks inactive: 1 of 2 webhook subscriptions do not work in PCO"
BACK = "webhooks work again: every subscription is active in PCO"


def subscriptions(*active: bool) -> list:
    state = current_pco()
    rows = [
        state.models.WebhookSubscription(
            pco_id=str(4410001 + n), name=f"people.v2.events.e{n}.updated",
            url="https://church.example.org/api/pco/webhook", secret="s", active=on,
        )
        for n, on in enumerate(active)
    ]  # fmt: skip
    state.db.session.add_all(rows)
    # A delivery a moment ago: the webhooks are not stale, so what is said is about them.
    state.db.session.add(
        state.models.WebhookDelivery(event_id="e-now", name=rows[0].name, payload="{}")
    )
    state.db.session.commit()
    return rows


def test_inactive_webhooks_are_alerted_once_an_hour(alerting: Flask, receiver: Receiver) -> None:
    subscriptions(True, False)
    state = current_pco()

    assert check_alerts(state) == [INACTIVE_LINE]
    assert check_alerts(state) == []
    assert check_alerts(state, now=utcnow() + timedelta(minutes=61)) == [INACTIVE_LINE]
    [first, again] = receiver.take()
    assert INACTIVE_LINE in first["message"] and INACTIVE_LINE in again["message"]


def test_webhooks_working_again_get_a_notice_while_other_trouble_stays(
    alerting: Flask, receiver: Receiver
) -> None:
    rows = subscriptions(True, False)
    make_run("failed", direction="pull", sync_type="people")
    state = current_pco()
    check_alerts(state)
    receiver.take()
    rows[1].active = True
    state.db.session.commit()

    assert check_alerts(state) == [BACK]
    assert check_alerts(state) == []
    [notice] = receiver.take()
    assert BACK in notice["message"]


def test_webhooks_working_again_and_nothing_else_is_healthy_again(
    alerting: Flask, receiver: Receiver
) -> None:
    rows = subscriptions(True, False)
    state = current_pco()
    check_alerts(state)
    rows[1].active = True
    state.db.session.commit()

    assert check_alerts(state) == [BACK, "the sync is healthy again"]
