"""Planted secrets and member data never reach an output channel: the CLI, logs, run and
delivery rows, issue reasons, the admin page."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from flask_pco.extension import current_pco
from tests.web.conftest import ADMIN_URL, csrf_token, log_in, make_user

from .conftest import cli

API_PASSWORD = "planted-api-password"
REDIS_PASSWORD = "planted-redis-password"
SURNAME = "Plantedsurname"
#: A port nothing listens on.
CLOSED = "127.0.0.1:9"


def stored_messages() -> str:
    """Every message flask-pco keeps in the database for people to read."""
    state = current_pco()
    state.db.session.rollback()
    models = state.models
    rows = [
        *state.db.session.scalars(select(models.SyncRun.error_message)),
        *state.db.session.scalars(select(models.SyncIssue.reason)),
        *state.db.session.scalars(select(models.WebhookDelivery.error_message)),
    ]
    return "\n".join(r for r in rows if r)


def assert_nowhere(secret: str, *outputs: str) -> None:
    for output in outputs:
        assert secret not in output


def admin_page(app: Any) -> str:
    client = log_in(app.test_client(), make_user())
    page = client.get(ADMIN_URL).get_data(as_text=True)
    tested = client.post(
        ADMIN_URL + "connection/test", data={"csrf_token": csrf_token(client)}
    ).get_data(as_text=True)
    return page + tested


@pytest.mark.usefixtures("instant_retries")
def test_a_password_in_the_api_url_is_never_shown(
    cli_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = cli_app(PCO_API_URL=f"http://sandbox:{API_PASSWORD}@{CLOSED}")
    pco = cli(app)

    outputs = [pco("config").output, pco("sync", "people").output, pco("status").output]

    assert "sandbox:***@127.0.0.1:9" in outputs[0]
    assert_nowhere(API_PASSWORD, *outputs, stored_messages(), admin_page(app), caplog.text)


def test_a_password_in_the_redis_url_is_never_shown(
    cli_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pco = cli(cli_app(PCO_REDIS_URL=f"redis://:{REDIS_PASSWORD}@{CLOSED}/0"))

    outputs = [pco("config").output, pco("sync", "people", "--enqueue").output]

    assert "redis://:***@127.0.0.1:9/0" in outputs[0]
    assert_nowhere(REDIS_PASSWORD, *outputs, stored_messages(), caplog.text)


def test_a_database_error_never_quotes_the_members_row(
    sandbox_cli: Any, sandbox: Any, caplog: pytest.LogCaptureFixture, refused_last_name: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    pco = sandbox_cli()
    refused_last_name(current_pco().db, SURNAME)
    sandbox.add_person(first_name="Ann", last_name=SURNAME, birthdate="1980-02-03")

    outputs = [pco("sync", "people").output, pco("issues").output, pco("status").output]

    assert "not written" in outputs[1]  # skipped and named, the other people written
    assert "pull people succeeded" in outputs[0]
    assert_nowhere(SURNAME, *outputs, stored_messages(), caplog.text)
    assert_nowhere("1980-02-03", *outputs, stored_messages(), caplog.text)
