"""``PCO_ALERT_WEBHOOK_URL`` through Apprise to a real local https server (its certificate from a
throwaway CA the test trusts): a JSON post for a URL no chat plug-in knows, the chat tool's own
plug-in for Slack's, Discord's or a Teams workflow's; once per cause per hour, one recovery. And the alert keys'
start-up checks."""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import trustme
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from flask_pco.config import DEFAULTS, load_config
from flask_pco.exceptions import ConfigError
from flask_pco.extension import current_pco
from flask_pco.jobs.alerts import check_alerts, webhook_target
from flask_pco.models import utcnow
from tests.conftest import make_app
from tests.jobs.test_alerts import SECRET_WORDS, wait_for
from tests.web.conftest import make_run

FAILED = "the last pull (people, run 1) failed"


class HttpsReceiver:
    """A chat tool's incoming webhook over https: keeps each JSON body and query string."""

    def __init__(self, tmp_path: Any) -> None:
        self.received: list[tuple[dict[str, Any], dict[str, str]]] = []
        authority = trustme.CA()
        self.ca_file = tmp_path / "ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        authority.issue_cert("127.0.0.1").configure_cert(context)
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, ssl_context=context
        )  # fmt: skip
        self.url = f"https://127.0.0.1:{self._server.server_port}/hooks/office?room=staff"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @Request.application
    def _app(self, request: Request) -> Response:
        self.received.append((json.loads(request.get_data()), dict(request.args)))
        return Response("ok")

    def take(self) -> list[tuple[dict[str, Any], dict[str, str]]]:
        taken, self.received = self.received, []
        return taken


@pytest.fixture
def receiver(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpsReceiver]:
    receiver = HttpsReceiver(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(receiver.ca_file))  # Apprise posts with requests
    yield receiver
    receiver._server.shutdown()


@pytest.fixture
def chat_site(database_url: str, receiver: HttpsReceiver) -> Iterator[Flask]:
    app = make_app(
        database_url, PCO_ALERT_WEBHOOK_URL=receiver.url, PCO_API_URL="http://127.0.0.1:9"
    )
    with app.app_context():
        yield app


@pytest.mark.usefixtures("chat_site")
def test_a_plain_https_webhook_gets_the_alert_as_json(receiver: HttpsReceiver) -> None:
    make_run("failed", direction="pull", sync_type="people", error_message=SECRET_WORDS)

    assert check_alerts(current_pco()) == [FAILED]

    [(alert, query)] = receiver.take()
    assert alert["title"] == "Planning Center sync: failing"
    assert FAILED in alert["message"]
    assert query == {"room": "staff"}
    assert "hunter2" not in json.dumps(alert) and "Plantedname" not in json.dumps(alert)


@pytest.mark.usefixtures("chat_site")
def test_a_webhook_hears_a_cause_once_an_hour_and_its_recovery_once(
    receiver: HttpsReceiver,
) -> None:
    make_run("failed", direction="pull", sync_type="people")
    state = current_pco()
    check_alerts(state)
    check_alerts(state, now=utcnow() + timedelta(minutes=30))
    check_alerts(state, now=utcnow() + timedelta(minutes=61))
    make_run("succeeded", direction="pull", sync_type="people")
    check_alerts(state)
    check_alerts(state)

    titles = [alert["title"] for alert, _ in receiver.take()]
    assert titles == [
        "Planning Center sync: failing",
        "Planning Center sync: failing",
        "Planning Center sync: healthy again",
    ]


@pytest.mark.usefixtures("chat_site", "test_steps")
def test_a_run_that_fails_posts_to_the_webhook_as_it_ends(receiver: HttpsReceiver) -> None:
    from flask_pco.jobs.queue import start_sync

    run = start_sync("pull", "locked-out", trigger="cli", mode="thread")
    wait_for(lambda: receiver.received)

    [(alert, _)] = receiver.take()
    assert f"the last pull (locked-out, run {run.id}) failed" in alert["message"]


def test_a_failing_mailer_does_not_keep_the_alert_from_the_webhook(
    database_url: str, receiver: HttpsReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    from example_app import pco

    @pco.alert_mailer
    def refuse(recipients: list[str], subject: str, body: str) -> None:
        raise ConnectionRefusedError("mail relay down")

    app = make_app(database_url, PCO_ALERT_EMAILS="office@church.example",
                   PCO_ALERT_WEBHOOK_URL=receiver.url, PCO_API_URL="http://127.0.0.1:9")  # fmt: skip
    try:
        with app.app_context(), caplog.at_level(logging.WARNING, logger="flask_pco.jobs.alerts"):
            make_run("failed", direction="pull", sync_type="people")
            assert check_alerts(current_pco()) == [FAILED]
    finally:
        pco._alert_mailer = None

    assert len(receiver.take()) == 1
    assert [r.message for r in caplog.records] == ["flask-pco alert not emailed: mail relay down"]


@pytest.mark.parametrize(
    ("url", "plugin"),
    [
        ("https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstuvwx", "NotifySlack"),
        ("https://discord.com/api/webhooks/4410001/abcdefghijk", "NotifyDiscord"),
        (
            "https://prod-161.westeurope.logic.azure.com:443/workflows/643e69f83c8944438d68119179"
            "a10a64/triggers/manual/paths/invoke?api-version=2016-06-01&sv=1.0&sig=KODuebWbDGY",
            "NotifyWorkflows",
        ),
    ],
)
def test_a_chat_tools_own_webhook_url_goes_through_its_plugin(url: str, plugin: str) -> None:
    assert type(webhook_target(url)).__name__ == plugin


def test_any_other_webhook_url_is_a_json_post_keeping_its_query() -> None:
    target = webhook_target("https://chat.church.example/hooks/abc?token=s3cret")

    assert target == "jsons://chat.church.example/hooks/abc?-token=s3cret"


def alert_config(**keys: Any) -> Any:
    return load_config({**DEFAULTS, **keys})


def test_alert_emails_are_read_from_a_comma_separated_string_or_a_list() -> None:
    text = alert_config(PCO_ALERT_EMAILS=" office@church.example, a.b@mail.church.example ")
    listed = alert_config(PCO_ALERT_EMAILS=["office@church.example"])

    assert text.alert_emails == ("office@church.example", "a.b@mail.church.example")
    assert listed.alert_emails == ("office@church.example",)
    assert text.has_alerts and not alert_config().has_alerts


@pytest.mark.parametrize("value", ["office", "office@church", "Office <office@church.example>"])
def test_a_malformed_alert_email_is_refused_at_start_up(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        alert_config(PCO_ALERT_EMAILS=f"pastor@church.example, {value}")

    assert str(refused.value) == (
        f"PCO_ALERT_EMAILS must be email addresses separated by commas, got {value!r}"
    )


@pytest.mark.parametrize(
    ("value", "given"),
    [("http://hooks.slack.com/services/T0001/B0002/tokentoken", "http://"), ("slack", "no scheme")],
)
def test_a_webhook_url_that_is_not_https_is_refused_without_printing_it(
    value: str, given: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        alert_config(PCO_ALERT_WEBHOOK_URL=value)

    assert str(refused.value) == (
        f"PCO_ALERT_WEBHOOK_URL must be an https:// URL of a chat tool's webhook, got {given}"
    )
