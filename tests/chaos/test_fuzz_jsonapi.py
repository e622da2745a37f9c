"""Fuzz the client's JSON:API parsing and the pull's person mapping with generated documents."""

from __future__ import annotations

import json
from typing import Any

import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_pco.client.jsonapi import Resource, parse_document
from flask_pco.exceptions import DocumentError, PcoError
from flask_pco.mapping.people import person_from_resource
from tests.client.conftest import BASE, RATE_HEADERS, FakeTime, make_client

from .strategies import documents

FUZZ = settings(max_examples=150, deadline=None)


def parse_or_refuse(body: Any) -> Any:
    try:
        return parse_document(body)
    except DocumentError:
        return None


@FUZZ
@given(documents)
def test_parse_document_returns_a_document_or_refuses_with_a_document_error(body: Any) -> None:
    parse_or_refuse(body)  # any other exception fails the test


@FUZZ
@given(documents)
def test_every_record_of_a_listing_is_either_parsed_or_skipped_and_counted(body: Any) -> None:
    document = parse_or_refuse(body)
    if document is None or not isinstance(body.get("data"), list):
        return
    skipped_data = [e for e in document.skipped if str(e).startswith("data[")]
    assert len(document.data) + len(skipped_data) == len(body["data"])
    assert all(isinstance(e, DocumentError) for e in document.skipped)


@FUZZ
@given(documents)
def test_person_mapping_maps_or_refuses_each_record(body: Any) -> None:
    document = parse_or_refuse(body)
    for resource in document.data if document else ():
        try:
            person = person_from_resource(resource, document)
        except DocumentError:
            continue
        assert person.pco_id == resource.id
        assert person.first_name or person.last_name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents.map(json.dumps), st.text(max_size=40)))
def test_client_listing_of_any_page_yields_records_or_raises_a_pco_error(text: str) -> None:
    client = make_client(FakeTime())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE}/people/v2/people", body=text, headers=RATE_HEADERS,
                 content_type="application/json")  # fmt: skip
        mock.get(f"{BASE}/people/v2/people?per_page=100", body=text, headers=RATE_HEADERS)
        listing = client.iterate("/people/v2/people")
        try:
            records = list(_bounded(listing, 20))
        except PcoError:
            return
        assert all(isinstance(r, Resource) and r.type and r.id for r in records)
        assert all(isinstance(e, DocumentError) for e in listing.skipped)


def _bounded(iterator: Any, limit: int) -> Any:
    """A page whose links.next points back at itself would loop; 20 records are plenty."""
    for n, item in enumerate(iterator):
        if n >= limit:
            return
        yield item
