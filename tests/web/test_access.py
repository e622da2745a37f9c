"""Who may use the admin page and the read-only API, and the CSRF guard on every POST."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .conftest import ADMIN_URL, csrf_token, log_in, make_issue, make_user

GET_ROUTES = [
    ADMIN_URL,
    f"{ADMIN_URL}progress",
    f"{ADMIN_URL}pco/checkins",
    "/api/pco/checkins",
    "/api/pco/group-types",
]
POST_ROUTES = [
    f"{ADMIN_URL}connection/test",
    f"{ADMIN_URL}runs",
    f"{ADMIN_URL}runs/1/cancel",
    f"{ADMIN_URL}issues/1/resolve",
    f"{ADMIN_URL}conflicts/1/resolve",
    f"{ADMIN_URL}schedule",
    f"{ADMIN_URL}webhooks/install",
]


@pytest.mark.parametrize("path", GET_ROUTES)
def test_admin_can_read_every_page(admin_client: FlaskClient, path: str) -> None:
    assert admin_client.get(path).status_code == 200


def test_no_other_site_may_frame_the_admin_page(admin_client: FlaskClient) -> None:
    response = admin_client.get(ADMIN_URL)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


@pytest.mark.parametrize("path", GET_ROUTES)
def test_staff_who_are_not_admins_are_refused(staff_client: FlaskClient, path: str) -> None:
    assert staff_client.get(path).status_code == 403


@pytest.mark.parametrize("path", GET_ROUTES)
def test_visitors_are_sent_to_the_login_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_an_htmx_poll_after_the_session_ended_sends_the_browser_to_log_in(
    client: FlaskClient,
) -> None:
    response = client.get(f"{ADMIN_URL}progress", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.get_data() == b""
    assert response.headers["HX-Redirect"].startswith("/login?next=")


@pytest.mark.parametrize("path", POST_ROUTES)
def test_posts_without_a_csrf_token_are_rejected(admin_client: FlaskClient, path: str) -> None:
    assert admin_client.post(path, data={"action": "pull:people"}).status_code == 400


@pytest.mark.parametrize("path", POST_ROUTES)
def test_staff_cannot_post_even_with_a_token(staff_client: FlaskClient, path: str) -> None:
    token = csrf_token(staff_client)
    assert staff_client.post(path, data={"csrf_token": token}).status_code == 403


def test_htmx_posts_send_the_token_in_a_header(admin_client: FlaskClient) -> None:
    issue = make_issue()
    token = csrf_token(admin_client)
    response = admin_client.post(
        f"{ADMIN_URL}issues/{issue.id}/resolve",
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200


def test_a_forged_token_is_rejected(admin_client: FlaskClient) -> None:
    issue = make_issue()
    response = admin_client.post(
        f"{ADMIN_URL}issues/{issue.id}/resolve", data={"csrf_token": "forged"}
    )
    assert response.status_code == 400


def test_without_an_access_check_everyone_is_refused(app, database_url) -> None:  # type: ignore[no-untyped-def]
    from flask_pco.extension import current_pco

    state = current_pco()
    saved = state.extension._admin_access
    state.extension._admin_access = None
    try:
        client = log_in(app.test_client(), make_user("admin"))
        assert client.get(ADMIN_URL).status_code == 403
        assert client.get("/api/pco/checkins").status_code == 403
    finally:
        state.extension._admin_access = saved


def test_the_blueprint_checks_tokens_when_the_host_does_not(database_url: str) -> None:
    """With CSRFProtect's automatic check off, the admin blueprint still demands a token."""
    from tests.conftest import make_app

    app = make_app(database_url, WTF_CSRF_CHECK_DEFAULT=False)
    with app.app_context():
        client = log_in(app.test_client(), make_user("admin"))
        issue = make_issue()
        assert client.post(f"{ADMIN_URL}issues/{issue.id}/resolve").status_code == 400
        token = csrf_token(client)
        response = client.post(f"{ADMIN_URL}issues/{issue.id}/resolve", data={"csrf_token": token})
        assert response.status_code == 302
