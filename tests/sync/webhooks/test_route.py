"""The webhook route through the Flask test client: verification, limits, shape, storage."""

from __future__ import annotations

import io
import json

import pytest

from example_app.models import db
from flask_pco.web.webhook import sign_body
from tests.sync.webhooks.conftest import (
    EXAMPLE_SECRET,
    EXAMPLES,
    URL,
    deliveries,
    delivery_body,
    post,
)

GROUP_EVENT = "groups.v2.events.group.created"
GROUP = {"type": "Group", "id": "7001", "attributes": {"name": "Youth"}}


def test_signed_example_from_pco_is_accepted_and_stored(church):
    raw = (EXAMPLES / "webhook_person_created.body.json").read_bytes()
    headers = json.loads((EXAMPLES / "webhook_person_created.headers.json").read_text())

    response = church.client.post(URL, data=raw, headers=headers)

    assert response.status_code == 200
    [row] = deliveries(db)
    assert row.event_id == headers["X-PCO-Webhooks-Event"]
    assert (row.name, row.attempt, row.organization_id) == (
        "people.v2.events.person.created",
        1,
        "300001",
    )
    assert (row.resource_type, row.resource_id) == ("Person", "90000104")
    assert row.event_time.isoformat() == "2025-03-15T10:00:01"
    assert row.payload == json.loads(raw)["data"][0]["attributes"]["payload"]
    assert (row.status, row.error_message) == ("ignored", "PCO person 90000104 no longer exists")


def test_forged_signature_is_refused_and_nothing_is_stored(client, db):
    raw = delivery_body(GROUP_EVENT, GROUP)

    response = post(client, raw, secret="not-the-secret")

    assert response.status_code == 401
    assert deliveries(db) == []


def test_missing_signature_is_refused_and_nothing_is_stored(client, db):
    response = post(client, delivery_body(GROUP_EVENT, GROUP), secret=None)

    assert response.status_code == 401
    assert deliveries(db) == []


def test_signature_over_other_bytes_is_refused(client, db):
    raw = delivery_body(GROUP_EVENT, GROUP)
    reserialised = json.dumps(json.loads(raw), indent=2).encode()
    signature = sign_body(raw, EXAMPLE_SECRET)

    response = client.post(
        URL, data=reserialised, headers={"X-PCO-Webhooks-Authenticity": signature}
    )

    assert response.status_code == 401
    assert deliveries(db) == []


def test_malformed_json_is_refused_and_nothing_is_stored(client, db):
    response = post(client, b'{"data": [')

    assert response.status_code == 400
    assert "not JSON" in response.json["error"]
    assert deliveries(db) == []


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"id": "x", "type": "EventDelivery"}},
        {"data": []},
        {"data": [{"id": "e1", "type": "Event", "attributes": {}}]},
        {"data": [{"id": "e1", "type": "EventDelivery", "attributes": {"name": "person.created"}}]},
        {
            "data": [
                {
                    "id": "e1",
                    "type": "EventDelivery",
                    "attributes": {"name": "people.v2.events.person.created", "payload": {}},
                }
            ]
        },
        {
            "data": [
                {
                    "id": "e1",
                    "type": "EventDelivery",
                    "attributes": {"name": "people.v2.events.person.created", "payload": "[1]"},
                }
            ]
        },
    ],
    ids=["data-not-list", "empty", "wrong-type", "bad-name", "payload-object", "payload-not-doc"],
)
def test_wrong_event_shape_is_refused_and_nothing_is_stored(client, db, body):
    response = post(client, json.dumps(body).encode())

    assert response.status_code == 400
    assert deliveries(db) == []


def test_body_over_the_limit_is_refused_with_413(client, db, app):
    limit = app.config["PCO_WEBHOOK_MAX_BYTES"]
    raw = delivery_body(GROUP_EVENT, {**GROUP, "attributes": {"name": "x" * limit}})

    response = post(client, raw)

    assert response.status_code == 413
    assert deliveries(db) == []


def test_body_over_the_limit_without_content_length_is_refused_with_413(client, db, app):
    limit = app.config["PCO_WEBHOOK_MAX_BYTES"]
    raw = delivery_body(GROUP_EVENT, {**GROUP, "attributes": {"name": "x" * limit}})

    response = client.post(
        URL,
        input_stream=io.BytesIO(raw),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert response.status_code == 413
    assert deliveries(db) == []


def test_duplicate_delivery_is_stored_once_and_answered_200(client, db):
    raw = delivery_body(GROUP_EVENT, GROUP, event_id="dup-1")

    first, second = post(client, raw), post(client, raw)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json == {"received": 1, "duplicates": 1}
    assert [r.event_id for r in deliveries(db)] == ["dup-1"]


def test_event_flask_pco_does_not_apply_is_stored_as_ignored(client, db):
    response = post(client, delivery_body(GROUP_EVENT, GROUP))

    assert response.status_code == 200
    [row] = deliveries(db)
    assert row.status == "ignored"
    assert "not an event flask-pco applies" in row.error_message


def test_secret_of_an_installed_subscription_is_accepted(client, db):
    from example_app import pco

    db.session.add(
        pco.models.WebhookSubscription(
            pco_id="4400101", name=GROUP_EVENT, url="https://x/api/pco/webhook", secret="sub-s"
        )
    )
    db.session.commit()

    response = post(client, delivery_body(GROUP_EVENT, GROUP), secret="sub-s")

    assert response.status_code == 200
    assert len(deliveries(db)) == 1


def test_event_time_header_is_used_when_the_payload_has_none(client, db):
    raw = delivery_body(
        "people.v2.events.person.destroyed",
        {"type": "Person", "id": "90000103"},
        event_time=None,
    )

    post(client, raw, **{"X-PCO-Webhooks-Event-Time": "2025-03-16T09:00:01Z"})

    [row] = deliveries(db)
    assert row.event_time.isoformat() == "2025-03-16T09:00:01"


def test_body_with_several_deliveries_stores_each(client, db):
    first = json.loads(delivery_body(GROUP_EVENT, GROUP, event_id="e-1"))
    second = json.loads(delivery_body(GROUP_EVENT, GROUP, event_id="e-2"))
    raw = json.dumps({"data": first["data"] + second["data"]}).encode()

    response = post(client, raw)

    assert response.json == {"received": 2, "duplicates": 0}
    assert [r.event_id for r in deliveries(db)] == ["e-1", "e-2"]


def test_one_bad_delivery_in_a_body_refuses_the_whole_body(client, db):
    good = json.loads(delivery_body(GROUP_EVENT, GROUP))["data"][0]
    raw = json.dumps({"data": [good, {"type": "EventDelivery"}]}).encode()

    response = post(client, raw)

    assert response.status_code == 400
    assert deliveries(db) == []


@pytest.mark.parametrize("signature", ["é" * 64, "\xff\xfe", "\x00", " " * 3])
def test_a_signature_header_with_odd_bytes_gets_401_not_an_error(client, db, signature):
    raw = delivery_body(GROUP_EVENT, GROUP)

    response = client.post(URL, data=raw, headers={"X-PCO-Webhooks-Authenticity": signature})

    assert response.status_code == 401
    assert deliveries(db) == []


def _signed_envelope(**changes):
    """A delivery body with one envelope field replaced, as a forger holding the secret might."""
    body = json.loads(delivery_body(GROUP_EVENT, GROUP))
    delivery = body["data"][0]
    for path, value in changes.items():
        target = delivery
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return json.dumps(body).encode()


def _payload_with(resource):
    return json.dumps({"data": resource, "meta": {}})


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="deep-body"),
        pytest.param(
            _signed_envelope(attributes__payload="[" * 100_000 + "]" * 100_000), id="deep-payload"
        ),
        pytest.param(_signed_envelope(attributes__attempt=10**30), id="huge-attempt"),
        pytest.param(_signed_envelope(id="e\x001"), id="nul-in-event-id"),
        pytest.param(_signed_envelope(id="e" * 65), id="long-event-id"),
        pytest.param(
            _signed_envelope(attributes__name="people.v2.events." + "x" * 200 + ".created"),
            id="long-name",
        ),
        pytest.param(
            _signed_envelope(relationships__organization__data__id="1\x00"), id="nul-in-org-id"
        ),
        pytest.param(
            _signed_envelope(attributes__payload=_payload_with({**GROUP, "id": "7\x001"})),
            id="nul-in-resource-id",
        ),
        pytest.param(
            _signed_envelope(attributes__payload=_payload_with({**GROUP, "id": "7\x1f1"})),
            id="control-in-resource-id",
        ),
        pytest.param(
            _signed_envelope(attributes__payload=_payload_with({**GROUP, "id": "7" * 65})),
            id="long-resource-id",
        ),
        pytest.param(
            _signed_envelope(attributes__payload=_payload_with({**GROUP, "type": "G" * 41})),
            id="long-resource-type",
        ),
    ],
)
def test_a_signed_but_malformed_envelope_gets_400_and_stores_nothing(client, db, raw):
    response = post(client, raw)

    assert response.status_code == 400, response.text
    assert deliveries(db) == []
