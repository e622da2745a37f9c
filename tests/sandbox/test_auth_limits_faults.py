"""Authentication, the moving-window rate limit, and injected faults."""

from __future__ import annotations

import time

import requests

from flask_pco.sandbox import SandboxControl

from .conftest import BEARER

PEOPLE = "/people/v2/people"


def test_missing_credentials_is_401_in_pco_format(url: str) -> None:
    response = requests.get(url + PEOPLE, timeout=5)
    error = response.json()["errors"][0]
    assert response.status_code == 401
    assert (error["status"], error["title"]) == ("401", "Unauthorized")
    assert "Error Code Hint:" in error["detail"]


def test_wrong_secret_is_401(url: str) -> None:
    assert requests.get(url + PEOPLE, auth=("sandbox", "wrong"), timeout=5).status_code == 401


def test_configured_bearer_token_is_accepted(url: str) -> None:
    response = requests.get(url + PEOPLE, headers={"Authorization": f"Bearer {BEARER}"}, timeout=5)
    assert response.status_code == 200


def test_unknown_bearer_token_is_401(url: str) -> None:
    response = requests.get(url + PEOPLE, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert response.status_code == 401


def test_rate_limit_headers_are_on_every_response(api: requests.Session, url: str) -> None:
    api.get(url + PEOPLE)
    response = api.get(url + PEOPLE)
    assert response.headers["X-PCO-API-Request-Rate-Limit"] == "10000"
    assert response.headers["X-PCO-API-Request-Rate-Period"] == "20"
    assert response.headers["X-PCO-API-Request-Rate-Count"] == "2"


def test_over_the_limit_is_429_with_retry_after(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_rate_limit(3, 2)
    statuses = [api.get(url + PEOPLE).status_code for _ in range(4)]
    response = api.get(url + PEOPLE)
    assert statuses == [200, 200, 200, 429]
    assert 1 <= int(response.headers["Retry-After"]) <= 2
    assert response.json()["errors"][0]["code"] == "429"
    assert "of 3 requests per 2 seconds" in response.json()["errors"][0]["detail"]


def test_rate_limit_window_moves_on(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_rate_limit(2, 1)
    api.get(url + PEOPLE), api.get(url + PEOPLE)
    assert api.get(url + PEOPLE).status_code == 429
    time.sleep(1.1)
    assert api.get(url + PEOPLE).status_code == 200


def test_rate_limit_is_per_credential(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_rate_limit(1, 2)
    api.get(url + PEOPLE)
    response = requests.get(url + PEOPLE, headers={"Authorization": f"Bearer {BEARER}"}, timeout=5)
    assert response.status_code == 200


def test_a_reset_empties_the_rate_window_and_keeps_the_limit(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_rate_limit(2, 20)
    api.get(url + PEOPLE), api.get(url + PEOPLE)
    assert api.get(url + PEOPLE).status_code == 429

    control.reset(people=0)

    response = api.get(url + PEOPLE)
    assert response.status_code == 200
    assert response.headers["X-PCO-API-Request-Rate-Limit"] == "2"


def test_rate_limit_is_thread_safe(url: str, control: SandboxControl) -> None:
    from concurrent.futures import ThreadPoolExecutor

    control.set_rate_limit(10, 20)

    def call(_: int) -> int:
        return requests.get(
            url + PEOPLE + "?per_page=1", auth=("sandbox", "sandbox-secret"), timeout=5
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(call, range(30)))
    assert statuses.count(200) == 10 and statuses.count(429) == 20


def test_error_rate_one_gives_500(api: requests.Session, url: str, control: SandboxControl) -> None:
    control.set_faults(error_rate=1.0)
    assert api.get(url + PEOPLE).status_code == 500


def test_storm_answers_429_to_everything(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(storm_seconds=5)
    response = api.get(url + PEOPLE)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


def test_faults_never_apply_to_the_control_surface(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(error_rate=1.0, storm_seconds=5)
    assert control.state(records=False)["counts"]["Person"] == 20


def test_timeout_fault_sleeps_past_the_client_timeout(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_faults(timeout_rate=1.0, timeout_seconds=0.5)
    control.clear_requests()
    try:
        api.get(url + PEOPLE, timeout=0.2)
    except requests.exceptions.Timeout:
        pass
    else:
        raise AssertionError("expected a client timeout")
    deadline = time.monotonic() + 5
    while not control.requests() and time.monotonic() < deadline:
        time.sleep(0.05)  # let the sleeping request finish so it cannot count in a later test


def test_latency_delays_answers(api: requests.Session, url: str, control: SandboxControl) -> None:
    control.set_faults(latency_ms=50)
    control.clear_requests()
    api.get(url + PEOPLE)
    assert control.requests()[0]["duration_ms"] >= 45


def test_request_log_records_method_path_status_and_credential(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    api.get(url + PEOPLE + "?per_page=2")
    requests.get(url + PEOPLE, timeout=5)
    log = control.requests()
    assert [(e["method"], e["path"], e["status"], e["credential"]) for e in log] == [
        ("GET", "/people/v2/people?per_page=2", 200, "sandbox"),
        ("GET", "/people/v2/people", 401, None),
    ]
    control.clear_requests()
    assert control.requests() == []


def test_rate_limit_headers_are_on_401_and_storm_answers_too(
    url: str, control: SandboxControl
) -> None:
    assert "X-PCO-API-Request-Rate-Limit" in requests.get(url + PEOPLE, timeout=5).headers
    control.set_faults(storm_seconds=5)
    response = requests.get(url + PEOPLE, auth=("sandbox", "sandbox-secret"), timeout=5)
    assert response.headers["X-PCO-API-Request-Rate-Limit"] == "10000"


def test_deep_offsets_get_the_stricter_limit(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_rate_limit(100, 20)
    statuses = [api.get(url + PEOPLE + "?offset=30001&per_page=1").status_code for _ in range(76)]
    assert statuses.count(200) == 75 and statuses[-1] == 429, statuses


def test_app_without_access_is_401_trash_panda(
    api: requests.Session, url: str, control: SandboxControl
) -> None:
    control.set_denied_apps("groups")
    response = api.get(url + "/groups/v2/groups")
    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"].endswith("Error Code Hint: (TRASH_PANDA)")
    assert api.get(url + PEOPLE).status_code == 200
