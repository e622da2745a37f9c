"""Found by the pull fuzz test: a page whose ``links.next`` leads back to a page already read
made the client (and the pull) request the same pages forever, spending the rate budget."""

from __future__ import annotations

from itertools import islice

import pytest
import responses

from flask_pco.exceptions import DocumentError
from tests.client.conftest import BASE, RATE_HEADERS, FakeTime, make_client

LISTING = f"{BASE}/people/v2/people"


def page(next_url: str) -> dict:
    person = {"type": "Person", "id": "1", "attributes": {"first_name": "Ada"}}
    return {"data": [person], "included": [], "meta": {}, "links": {"next": next_url}}


def test_a_next_link_back_to_a_page_already_read_ends_the_listing_with_a_document_error() -> None:
    client = make_client(FakeTime())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(LISTING, json=page(f"{LISTING}?offset=100"), headers=RATE_HEADERS)

        with pytest.raises(DocumentError, match="already"):
            list(islice(client.pages("/people/v2/people"), 5))

        assert len(mock.calls) == 2  # the first page, and the next one seen to repeat
