"""Every error status becomes its class in the PcoError tree, with PCO's detail in the message."""

from __future__ import annotations

import pytest
import requests
import responses

from flask_pco.client import PcoClient
from flask_pco.exceptions import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ServerError,
    TransportError,
    ValidationError,
)

from .conftest import BASE, add, example

PATH = "/people/v2/people/1"


@pytest.mark.parametrize(
    ("status", "fixture", "cls", "detail"),
    [
        (400, "error_400_invalid_payload", ValidationError, "does not contain a 'data' key"),
        (401, "error_401_unauthorized", AuthenticationError, "could not be authenticated"),
        (403, "error_403_forbidden", AuthenticationError, "do not have access"),
        (404, "error_404_not_found", NotFoundError, "could not be found"),
        (422, "error_422_forbidden_attribute", ValidationError, "name cannot be assigned"),
        (422, "error_422_validation", ValidationError, "PhoneNumber location can't be blank"),
        (422, "error_422_related_not_found", ValidationError, "person_id Error setting person_id"),
    ],
)
def test_each_error_status_raises_its_class_with_pco_s_detail(
    pco: PcoClient,
    mocked: responses.RequestsMock,
    status: int,
    fixture: str,
    cls: type[ApiError],
    detail: str,
) -> None:
    add(mocked, "PATCH", PATH, example(fixture), status=status)
    with pytest.raises(cls, match=detail) as caught:
        pco.update(PATH, "Person", "1", {"first_name": "Private Name"})
    assert caught.value.status == status
    assert "Private Name" not in str(caught.value)


def test_409_raises_conflict_error(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    add(mocked, "POST", "/people/v2/people", {"errors": [{"title": "Conflict"}]}, status=409)
    with pytest.raises(ConflictError, match="HTTP 409: Conflict"):
        pco.create("/people/v2/people", "Person", {"first_name": "A"})


def test_a_trash_panda_401_explains_the_missing_product_access(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    body = {
        "errors": [
            {"detail": "This request could not be authenticated. Error Code Hint: (TRASH_PANDA)"}
        ]
    }
    add(mocked, "GET", "/groups/v2/groups", body, status=401)
    with pytest.raises(AuthenticationError, match=r"TRASH_PANDA: the PCO user .* no access"):
        pco.get("/groups/v2/groups")


def test_an_html_404_is_a_not_found_error(pco: PcoClient, mocked: responses.RequestsMock) -> None:
    mocked.add(
        "GET", f"{BASE}/nope", body="<html>Not Found</html>", status=404, content_type="text/html"
    )
    with pytest.raises(NotFoundError, match=r"non-JSON body \(text/html\)"):
        pco.get("/nope")


def test_error_messages_leave_out_the_query_string(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "GET", "/people/v2/people", example("error_404_not_found"), status=404)
    with pytest.raises(NotFoundError) as caught:
        list(pco.pages("/people/v2/people", where={"search_name_or_email": "dana@example.org"}))
    assert "dana" not in str(caught.value)


def test_a_5xx_on_a_write_raises_server_error_at_once(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    add(mocked, "POST", "/people/v2/people", {"errors": [{"title": "Internal"}]}, status=500)
    with pytest.raises(ServerError, match="HTTP 500"):
        pco.create("/people/v2/people", "Person", {"first_name": "A"})
    assert len(mocked.calls) == 1


def test_a_connection_failure_on_a_write_raises_transport_error(
    pco: PcoClient, mocked: responses.RequestsMock
) -> None:
    mocked.add("DELETE", f"{BASE}{PATH}", body=requests.ConnectionError("refused"))
    with pytest.raises(
        TransportError, match=r"DELETE .*/people/v2/people/1 failed: ConnectionError"
    ):
        pco.delete(PATH)
