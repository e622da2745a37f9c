"""``PCO_ALERT_EMAILS`` sent by the host's own mail set-up to a real local SMTP server: its
registered ``@pco.alert_mailer`` first, else its Flask-Mail, else its Flask-Mailman; once per
cause per hour, one recovery, no secret or address in the body, and a failure only logged."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from flask_pco.extension import current_pco
from flask_pco.jobs.alerts import check_alerts
from flask_pco.models import utcnow
from tests.conftest import make_app
from tests.jobs.test_alerts import SECRET_WORDS
from tests.web.conftest import make_run

OFFICE, PASTOR = "office@church.example", "pastor@church.example"
FAILED = "the last pull (people, run 1) failed"


class Mailbox:
    """An SMTP server's receiving end: keeps each message with the recipients it was sent to."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def take(self) -> list[tuple[list[str], EmailMessage]]:
        taken, self.received = self.received, []
        return taken


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:  # aiosmtpd's controller needs its port before it starts
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def mail_app(database_url: str, port: int, **config: Any) -> Flask:
    return make_app(
        database_url,
        PCO_ALERT_EMAILS=f"{OFFICE}, {PASTOR}",
        PCO_API_URL="http://127.0.0.1:9",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_DEFAULT_SENDER="sync@church.example",
        MAIL_SUPPRESS_SEND=False,  # Flask-Mail sends nothing under TESTING otherwise
        **config,
    )


@pytest.fixture
def flask_mail_site(database_url: str, smtp: tuple[Mailbox, int]) -> Iterator[Flask]:
    from flask_mail import Mail

    app = mail_app(database_url, smtp[1])
    Mail(app)
    with app.app_context():
        yield app


@pytest.fixture
def registered() -> Iterator[list[tuple[list[str], str, str]]]:
    """The example site's ``@pco.alert_mailer``, kept for this test only."""
    from example_app import pco

    sent: list[tuple[list[str], str, str]] = []

    @pco.alert_mailer
    def send(recipients: list[str], subject: str, body: str) -> None:
        sent.append((recipients, subject, body))

    yield sent
    pco._alert_mailer = None


@pytest.mark.usefixtures("flask_mail_site")
def test_flask_mail_sends_the_alert_to_every_address_without_secrets(
    smtp: tuple[Mailbox, int],
) -> None:
    make_run("failed", direction="pull", sync_type="people", error_message=SECRET_WORDS)

    assert check_alerts(current_pco()) == [FAILED]

    [(recipients, message)] = smtp[0].take()
    assert sorted(recipients) == [OFFICE, PASTOR]  # Flask-Mail sends to a set
    assert message["Subject"] == "Planning Center sync: failing"
    body = message.get_content()
    assert FAILED in body
    assert "hunter2" not in body and "Plantedname" not in body and OFFICE not in body


@pytest.mark.usefixtures("flask_mail_site")
def test_an_emailed_cause_is_sent_again_only_after_an_hour(smtp: tuple[Mailbox, int]) -> None:
    make_run("failed", direction="pull", sync_type="people")
    state = current_pco()
    check_alerts(state)

    assert check_alerts(state, now=utcnow() + timedelta(minutes=30)) == []
    assert check_alerts(state, now=utcnow() + timedelta(minutes=61)) == [FAILED]
    assert len(smtp[0].take()) == 2


@pytest.mark.usefixtures("flask_mail_site")
def test_recovery_is_emailed_once(smtp: tuple[Mailbox, int]) -> None:
    make_run("failed", direction="push", sync_type="people")
    state = current_pco()
    check_alerts(state)
    make_run("succeeded", direction="push", sync_type="people")

    check_alerts(state)
    check_alerts(state)

    subjects = [message["Subject"] for _, message in smtp[0].take()]
    assert subjects == ["Planning Center sync: failing", "Planning Center sync: healthy again"]


def test_flask_mailman_sends_the_alert(database_url: str, smtp: tuple[Mailbox, int]) -> None:
    from flask_mailman import Mail

    app = mail_app(database_url, smtp[1], MAIL_BACKEND="smtp")
    Mail(app)
    with app.app_context():
        make_run("failed", direction="pull", sync_type="people")
        check_alerts(current_pco())

    [(recipients, message)] = smtp[0].take()
    assert sorted(recipients) == [OFFICE, PASTOR]
    assert FAILED in message.get_content()


@pytest.mark.usefixtures("flask_mail_site")
def test_a_registered_mailer_is_used_before_flask_mail(
    smtp: tuple[Mailbox, int], registered: list[tuple[list[str], str, str]]
) -> None:
    make_run("failed", direction="pull", sync_type="people")

    check_alerts(current_pco())

    [(recipients, subject, body)] = registered
    assert (recipients, subject) == ([OFFICE, PASTOR], "Planning Center sync: failing")
    assert FAILED in body
    assert smtp[0].take() == []


def test_no_way_to_send_mail_is_said_in_one_line_at_the_first_alert(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(database_url, PCO_ALERT_EMAILS=OFFICE, PCO_API_URL="http://127.0.0.1:9")
    with app.app_context():
        make_run("failed", direction="pull", sync_type="people")

        with caplog.at_level(logging.ERROR, logger="flask_pco.jobs.alerts"):
            assert check_alerts(current_pco()) == [FAILED]

    [record] = caplog.records
    assert "PCO_ALERT_EMAILS is set but the site has no way to send mail" in record.message
    assert "@pco.alert_mailer" in record.message and "\n" not in record.message


def test_a_mail_server_that_does_not_answer_is_logged_not_raised(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from flask_mail import Mail

    app = mail_app(database_url, 9)  # nothing listens on port 9
    Mail(app)
    with app.app_context():
        make_run("failed", direction="pull", sync_type="people")

        with caplog.at_level(logging.WARNING, logger="flask_pco.jobs.alerts"):
            assert check_alerts(current_pco()) == [FAILED]

    assert [r.message.split(":")[0] for r in caplog.records] == ["flask-pco alert not emailed"]
