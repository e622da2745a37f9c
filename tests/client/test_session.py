"""PcoClient against a mocked PCO: documents, writes, versions, query rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from flask_pco.client import Identifier, PcoClient
from flask_pco.exceptions import DocumentError

from .conftest import BASE, add, example


def test_get_parses_a_single_resource(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", "/people/v2/people/90000101", example("person_show"))
    document = pco.get("/people/v2/people/90000101")
    assert document.data[0].type == "Person"
    assert document.data[0].get("first_name") == "Avery"


def test_get_accepts_a_full_url(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", "/people/v2/people/90000101", example("person_show"))
    assert pco.get(f"{BASE}/people/v2/people/90000101").data[0].id == "90000101"


def test_a_link_to_another_host_is_moved_onto_the_base_url(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2/people/90000101", example("person_show"))
    pco.get("http://internal-proxy:8080/people/v2/people/90000101")
    assert mocked.calls[0].request.url == f"{BASE}/people/v2/people/90000101"


def test_basic_auth_is_sent(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", "/people/v2", {"data": None})
    pco.get("/people/v2")
    assert mocked.calls[0].request.headers["Authorization"] == "Basic YXBwLWlkOmFwcC1zZWNyZXQ="


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/people/v2/people", "2022-07-14"),
        ("/groups/v2/groups", "2018-08-01"),
        ("/check-ins/v2/check_ins", "2019-07-17"),
        ("/calendar/v2/events", "2021-07-20"),
        ("/webhooks/v2/subscriptions", "2018-08-01"),
    ],
)
def test_the_version_header_is_pinned_per_module(
    pco: PcoClient, mocked: responses.RequestsMock, path: str, version: str
) -> None:
    add(mocked, "GET", path, {"data": []})
    pco.get(path)
    assert mocked.calls[0].request.headers["X-PCO-API-Version"] == version


def test_a_configured_version_overrides_the_default(
    fake_time: object, mocked: responses.RequestsMock
) -> None:
    from .conftest import make_client

    with make_client(fake_time, versions={"groups": "2023-07-10"}) as client:  # type: ignore[arg-type]
        add(mocked, "GET", "/groups/v2/groups", {"data": []})
        client.get("/groups/v2/groups")
    assert mocked.calls[0].request.headers["X-PCO-API-Version"] == "2023-07-10"


def test_the_processed_as_version_is_logged(
    pco: PcoClient, mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    add(
        mocked,
        "GET",
        "/people/v2",
        {"data": None},
        headers={"X-PCO-API-Processed-As-Version": "2022-07-14"},
    )
    with caplog.at_level("DEBUG", logger="flask_pco.client"):
        pco.get("/people/v2")
    assert "processed as version 2022-07-14" in caplog.text


def test_a_malformed_document_raises_document_error(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2/people", {"errors_but_no_data": []})
    with pytest.raises(DocumentError, match="no 'data' member"):
        pco.get("/people/v2/people")


def test_a_non_json_success_raises_document_error(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    mocked.add("GET", f"{BASE}/people/v2", body="<html>hi</html>", content_type="text/html")
    with pytest.raises(DocumentError, match=r"non-JSON body \(text/html\)"):
        pco.get("/people/v2")


def test_create_posts_a_data_object_and_returns_the_record(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    body = {
        "data": {
            "type": "Household",
            "attributes": {"name": "Example household"},
            "relationships": {
                "people": {"data": [{"type": "Person", "id": "1"}, {"type": "Person", "id": "2"}]},
                "primary_contact": {"data": {"type": "Person", "id": "1"}},
            },
        }
    }
    add(
        mocked,
        "POST",
        "/people/v2/households",
        example("person_create_response_201"),
        status=201,
        match=[matchers.json_params_matcher(body)],
    )
    created = pco.create(
        "/people/v2/households",
        "Household",
        {"name": "Example household"},
        {
            "people": [Identifier("Person", "1"), Identifier("Person", "2")],
            "primary_contact": Identifier("Person", "1"),
        },
    )
    assert created.type == "Person"


def test_update_patches_only_the_given_attributes(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    body = {"data": {"type": "Person", "id": "90000101", "attributes": {"status": "inactive"}}}
    add(
        mocked,
        "PATCH",
        "/people/v2/people/90000101",
        example("person_show"),
        match=[matchers.json_params_matcher(body)],
    )
    updated = pco.update("/people/v2/people/90000101", "Person", "90000101", {"status": "inactive"})
    assert updated.id == "90000101"


def test_delete_accepts_an_empty_204(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    mocked.add("DELETE", f"{BASE}/people/v2/people/1", status=204)
    assert pco.delete("/people/v2/people/1") is None


def test_request_count_counts_every_request_sent(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2", {"data": None})
    pco.get("/people/v2")
    pco.get("/people/v2")
    assert pco.request_count == 2


def test_rate_info_reflects_the_last_response(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(
        mocked,
        "GET",
        "/people/v2",
        {"data": None},
        headers={
            "X-PCO-API-Request-Rate-Period": "20 seconds",
            "X-PCO-API-Request-Rate-Count": "7",
        },
    )
    pco.get("/people/v2")
    assert pco.rate_info is not None
    assert (pco.rate_info.limit, pco.rate_info.period, pco.rate_info.count) == (100, 20, 7)


def _query(mocked: responses.RequestsMock, index: int = 0) -> dict[str, list[str]]:
    return parse_qs(urlsplit(mocked.calls[index].request.url).query)


def test_where_order_include_and_filter_are_rendered(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2/people", {"data": []})
    since = datetime(2025, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    list(
        pco.pages(
            "/people/v2/people",
            include=("emails", "phone_numbers"),
            where={"updated_at": {"gte": since}, "remote_id": 5, "child": False},
            order="updated_at",
            filter="created_since",
        )
    )
    assert _query(mocked) == {
        "per_page": ["100"],
        "include": ["emails,phone_numbers"],
        "order": ["updated_at"],
        "filter": ["created_since"],
        "where[updated_at][gte]": ["2025-03-01T00:00:00Z"],
        "where[remote_id]": ["5"],
        "where[child]": ["false"],
    }


def test_naive_datetimes_are_taken_as_utc(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "GET", "/people/v2/people", {"data": []})
    list(
        pco.pages("/people/v2/people", where={"created_at": {"lt": datetime(2025, 1, 2, 3, 4, 5)}})
    )
    assert _query(mocked)["where[created_at][lt]"] == ["2025-01-02T03:04:05Z"]


def test_per_page_and_extra_params_can_be_given(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2/people", {"data": []})
    list(pco.pages("/people/v2/people", per_page=25, params={"fields[Person]": "first_name"}))
    assert _query(mocked)["per_page"] == ["25"]
    assert _query(mocked)["fields[Person]"] == ["first_name"]


def test_the_client_closes_the_session_it_made(fake_time: object) -> None:
    from .conftest import make_client

    client = make_client(fake_time)  # type: ignore[arg-type]
    client.close()
    assert UTC  # the session is closed without a ResourceWarning (filterwarnings=error)


def test_get_renders_nested_params_like_a_listing(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2/people", {"data": []})
    pco.get("/people/v2/people", params={"where": {"remote_id": 5}, "per_page": 1})
    assert _query(mocked) == {"where[remote_id]": ["5"], "per_page": ["1"]}
