"""The Health section and ``flask_pco.jobs.health``: one word for how the sync is doing, the
reasons in words, failures grouped by cause with Retry, Ignore and CSV."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from flask_pco.extension import current_pco
from flask_pco.jobs.health import failure_groups, health
from flask_pco.jobs.queue import set_schedule
from flask_pco.models import utcnow

from .conftest import ADMIN_URL, make_issue, make_run, post


def refused(run: Any, n: int, reason: str = "PCO refused it: email {n}@x is invalid") -> None:
    for i in range(n):
        make_issue(kind="refused", run_id=run.id, pco_id=str(9000 + i), candidates=[],
                   reason=reason.format(n=i))  # fmt: skip


def test_nothing_wrong_is_healthy(app: Any) -> None:
    make_run("succeeded", direction="pull", sync_type="people")

    report = health(current_pco())

    assert (report.state, report.reasons) == ("healthy", [])
    assert report.last_pull is not None and report.last_push is None


def test_a_failed_last_run_is_failing_and_a_later_success_recovers(app: Any) -> None:
    make_run("failed", direction="push", sync_type="people", error_message="PCO answered 500")
    report = health(current_pco())
    assert report.state == "failing"
    assert "the last push (people, run 1) failed: PCO answered 500" in report.reasons

    make_run("succeeded", direction="push", sync_type="people")

    assert health(current_pco()).state == "healthy"


def test_records_left_by_the_latest_run_are_grouped_by_cause(app: Any) -> None:
    run = make_run("succeeded", direction="push", sync_type="people")
    refused(run, 12)
    make_issue(kind="refused", run_id=run.id, candidates=[], reason="person has no name")

    groups = failure_groups(current_pco())

    assert [g.count for g in groups] == [12, 1]
    assert groups[0].label == (
        "push people: 12 Person records refused: PCO refused it: email #@x is invalid"
    )
    assert health(current_pco()).state == "degraded"


def test_records_of_an_older_run_do_not_count_once_a_later_run_finished(app: Any) -> None:
    refused(make_run("succeeded", direction="pull", sync_type="people"), 3)
    make_run("succeeded", direction="pull", sync_type="people")

    assert failure_groups(current_pco()) == []


def test_a_nightly_sync_that_has_not_pulled_for_a_day_is_stale(app: Any) -> None:
    set_schedule(True, 2)
    make_run(
        "succeeded", direction="pull", sync_type="full", finished_at=utcnow() - timedelta(hours=27)
    )

    report = health(current_pco())

    assert report.state == "stale"
    assert "is `flask pco scheduler` running?" in report.reasons[0]


def test_a_run_queued_with_no_worker_taking_it_is_stale(app: Any) -> None:
    make_run(
        "queued", direction="pull", sync_type="people", queued_at=utcnow() - timedelta(minutes=30)
    )

    report = health(current_pco())

    assert report.state == "stale"
    assert any("`flask pco worker` running?" in reason for reason in report.reasons)


def test_the_section_shows_the_state_and_each_group(admin_client: FlaskClient) -> None:
    refused(make_run("succeeded", direction="push", sync_type="people"), 3)

    html = admin_client.get(ADMIN_URL).get_data(as_text=True)

    section = html.split('id="pco-health"')[1].split("</section>")[0]
    assert "Degraded" in section
    assert "3 Person records refused" in section
    assert "Retry these" in section and "Ignore" in section and "Download CSV" in section


def test_ignore_dismisses_the_group(admin_client: FlaskClient) -> None:
    refused(make_run("succeeded", direction="push", sync_type="people"), 3)
    [group] = failure_groups(current_pco())

    response = post(admin_client, f"{ADMIN_URL}health/{group.key}/ignore", htmx=True)

    assert response.status_code == 200
    assert "Ignored 3 records." in response.get_data(as_text=True)
    assert failure_groups(current_pco()) == []
    assert health(current_pco()).state == "healthy"


def test_csv_lists_every_record_of_the_group(admin_client: FlaskClient) -> None:
    refused(make_run("succeeded", direction="push", sync_type="people"), 60)
    [group] = failure_groups(current_pco())

    response = admin_client.get(f"{ADMIN_URL}health/{group.key}.csv")

    rows = response.get_data(as_text=True).strip().splitlines()
    assert response.mimetype == "text/csv"
    assert len(rows) == 61 and rows[0].startswith("issue,run,kind")


def test_retry_runs_again_the_sync_that_left_the_records(admin_client: FlaskClient) -> None:
    refused(make_run("succeeded", direction="pull", sync_type="people"), 2)
    [group] = failure_groups(current_pco())

    response = post(admin_client, f"{ADMIN_URL}health/{group.key}/retry", htmx=True)

    assert "Retrying 2 records: started pull people" in response.get_data(as_text=True)
    wait_for_the_run_to_end()


def wait_for_the_run_to_end(timeout: float = 30) -> None:
    """The retry runs in a thread of this process: let it finish before the test's database
    goes away."""
    import time

    from flask_pco.jobs.queue import current_run

    deadline = time.monotonic() + timeout
    while current_run() is not None:
        assert time.monotonic() < deadline, "the retry run did not end"
        time.sleep(0.1)


def test_an_unknown_group_is_a_404_for_csv(admin_client: FlaskClient) -> None:
    assert admin_client.get(f"{ADMIN_URL}health/000000000000.csv").status_code == 404


def quiet_webhooks(hours: int) -> None:
    """Active subscriptions whose last delivery came ``hours`` ago."""
    state = current_pco()
    state.db.session.add(
        state.models.WebhookSubscription(
            pco_id="4410001", name="people.v2.events.person.updated",
            url="https://church.example.org/api/pco/webhook", secret="s", active=True,
        )
    )  # fmt: skip
    state.db.session.add(
        state.models.WebhookDelivery(
            event_id="e-old", name="people.v2.events.person.updated", payload="{}",
            received_at=utcnow() - timedelta(hours=hours),
        )
    )  # fmt: skip
    state.db.session.commit()


def test_quiet_webhooks_while_pco_changed_nothing_are_not_stale(app: Any) -> None:
    quiet_webhooks(hours=30)  # a quiet weekend
    make_run("succeeded", direction="pull", incremental=True)  # found nothing new

    report = health(current_pco())

    assert report.state == "healthy", report.reasons


def test_quiet_webhooks_while_a_pull_found_pco_changes_are_stale(app: Any) -> None:
    quiet_webhooks(hours=30)
    run = make_run("succeeded", direction="pull", incremental=True, updated=4)

    report = health(current_pco())

    assert report.state == "stale"
    assert any(f"run {run.id} pulled 4 changes" in reason for reason in report.reasons)


def test_a_grouped_record_links_to_its_history(admin_client: FlaskClient) -> None:
    run = make_run("succeeded", direction="push", sync_type="people")
    make_issue(kind="refused", run_id=run.id, pco_id=None, local_id=41, candidates=[],
               reason="PCO refused it: email is invalid")  # fmt: skip
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    health_html = html.split('id="pco-health"')[1].split("</section>")[0]
    assert f'href="{ADMIN_URL}history/person/41"' in health_html
