"""Custom field values changed in PCO reach the site in real time: PCO sends a ``field_datum``
event (and no ``person.updated``), and the site re-fetches that person with its field data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from tests.fields_site import dispose, fields_app, fields_db
from tests.helpers import NO_RATE_LIMIT, sandbox_settings
from tests.sync.custom.conftest import parishioner, run
from tests.sync.webhooks.conftest import LiveApp, deliveries

EVENTS = [f"people.v2.events.field_datum.{a}" for a in ("created", "updated", "destroyed")]


@pytest.fixture
def custom() -> dict[Any, str] | None:
    """The site's custom fields: None for every field of the fields site."""
    return None


@pytest.fixture
def live(
    custom: dict[Any, str] | None,
    database_url: str,
    sandbox_server: SandboxServer,
    sandbox: SandboxControl,
) -> Iterator[SandboxControl]:
    """The fields site served live, subscribed to PCO's custom field events."""
    server = LiveApp(
        database_url,
        configure=lambda url: {"PCO_WEBHOOK_SECRET": sandbox.subscribe(url, names=EVENTS)},
        factory=lambda url, **config: fields_app(url, custom=custom, **config),
        **sandbox_settings(sandbox_server.url, **NO_RATE_LIMIT),
    )
    with server.app.app_context():
        yield sandbox
        fields_db.session.remove()
    server.stop()
    dispose(server.app)


def datum_id(sandbox: SandboxControl, pco_id: str) -> str:
    [datum] = [d for d in sandbox.state()["records"]["FieldDatum"] if d["person_id"] == pco_id]
    return str(datum["id"])


def test_a_value_changed_in_pco_reaches_the_site_without_a_pull(live: SandboxControl) -> None:
    pco_id = live.add_person(
        first_name="Ada", last_name="Lovelace", custom_fields={"T-shirt size": "M"}
    )
    live.flush_webhooks()  # the value's created event first: it brings the person in
    pulled = run("pull")
    assert pulled.status == "succeeded", pulled.error_message

    live.edit("field_data", datum_id(live, pco_id), value="XL")
    live.flush_webhooks()

    assert parishioner(pco_id).shirt_size == "XL"
    updated = [d for d in deliveries(fields_db) if d.name == EVENTS[1]]
    assert [d.status for d in updated] == ["applied"]


def test_a_value_deleted_in_pco_is_cleared_on_the_site(live: SandboxControl) -> None:
    pco_id = live.add_person(first_name="Ada", custom_fields={"T-shirt size": "M"})
    live.flush_webhooks()
    run("pull")

    live.delete("field_data", datum_id(live, pco_id))
    live.flush_webhooks()

    assert parishioner(pco_id).shirt_size is None


@pytest.mark.parametrize("custom", [{}])
def test_a_site_without_custom_fields_ignores_the_event_without_asking_pco(
    live: SandboxControl,
) -> None:
    pco_id = live.add_person(first_name="Ada", custom_fields={"T-shirt size": "M"})
    live.flush_webhooks()
    run("pull")
    live.clear_requests()

    live.edit("field_data", datum_id(live, pco_id), value="XL")
    live.flush_webhooks()

    [delivery] = [d for d in deliveries(fields_db) if d.name == EVENTS[1]]
    assert (delivery.status, delivery.error_message) == (
        "ignored",
        "this site declares no custom fields",
    )
    assert live.requests() == []
