"""Runs in slices on shared workers: a church's push gives its worker back between records
while another church has work waiting, and goes on in a job of the same run at the back of its
church's queue. (``PCO_RUN_SLICE=0`` here: a slice per record whenever another church waits.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from redis import Redis
from rq.job import Job
from sqlalchemy import select

from flask_pco.jobs.queue import start_sync, sync_queue
from flask_pco.jobs.run_status import claim_run
from flask_pco.jobs.slices import DELIVERY_RESERVE, POLL, RESERVE, BudgetSlicer
from flask_pco.jobs.workers import make_worker
from flask_pco.sandbox import SandboxServer
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization
from tests.churches_site import Member, MemberEmail, churches_db

from .conftest import GRACE, HOPE, ORGANIZATIONS, connected_site
from .test_shared_workers import deliver, queued

PEOPLE = 3


@pytest.fixture
def sliced(database_url: str, redis_url: str, two_organizations: SandboxServer) -> Iterator[Flask]:
    """The site, both churches starting afresh in PCO (their budgets too), one delivery per
    job, a slice per record."""
    for organization in ORGANIZATIONS.values():
        control = two_organizations.control_for(organization)
        control.reset(people=2, seed=5)
        control.set_rate_limit(100, 20)  # PCO's budget, its window empty: earlier tests spent it
    with connected_site(
        database_url, redis_url, two_organizations, PCO_RUN_SLICE=0, PCO_WEBHOOK_BATCH=1
    ) as app:
        sync_queue().empty()  # the site's queue: its wake-up job
        yield app


def add_people(church: str) -> list[str]:
    """``PEOPLE`` new local people with an email each; their last names."""
    names = [f"Slice{n}-{uuid.uuid4().hex[:6]}" for n in range(PEOPLE)]
    for name in names:
        member = Member(church_id=int(church), first_name="Ann", last_name=name)
        churches_db.session.add(member)
        churches_db.session.flush()
        churches_db.session.add(
            MemberEmail(church_id=int(church), person_id=member.id, email=f"{name}@example.org")
        )
    churches_db.session.commit()
    return names


def push(church: str) -> int:
    with use_organization(church):
        run_id = int(start_sync("push", "people", mode="enqueue", trigger="cli").id)
    sync_queue().empty()  # the site's queue: the wake-up job of a new church queue
    return run_id


def grace_after_its_first_slice() -> tuple[list[str], dict[str, int]]:
    """Both churches push ``PEOPLE`` new people; workers go on until Grace's run has done its
    first slice (Hope's waits). Grace's last names, and each church's run."""
    names = add_people(GRACE)
    add_people(HOPE)
    runs = {GRACE: push(GRACE), HOPE: push(HOPE)}
    worker = make_worker(simple=True)
    while run_row(GRACE, runs[GRACE]).progress_done != 1:
        worker.work(burst=True, max_jobs=1)
    return names, runs


def run_row(church: str, run_id: int) -> Any:
    with use_organization(church):
        state = current_pco()
        state.db.session.rollback()
        return state.db.session.get(state.models.SyncRun, run_id)


def pco_people(sandbox: SandboxServer, church: str, names: list[str]) -> list[tuple[str, int]]:
    """Each name's number of PCO people, and of their emails."""
    records = sandbox.control_for(ORGANIZATIONS[church]).state()["records"]
    people = [p for p in records["Person"] if p.get("last_name") in names]
    emails = [e["address"] for e in records.get("Email", [])]
    return sorted(
        (name, sum(p["last_name"] == name for p in people) + emails.count(f"{name}@example.org"))
        for name in names
    )


def test_two_churches_pushes_take_turns_and_end_as_pushes_in_one_go(
    sliced: Flask, two_organizations: SandboxServer
) -> None:
    names = {GRACE: add_people(GRACE), HOPE: add_people(HOPE)}
    runs = {GRACE: push(GRACE), HOPE: push(HOPE)}

    make_worker(simple=True).work(burst=True)

    for church, run_id in runs.items():
        run = run_row(church, run_id)
        assert run.status == "succeeded"
        assert run.job_id.startswith(f"pco-church-{church}-push-people-")  # a later slice's
        assert (run.created, run.failed, run.progress_done, run.progress_total) == (6, 0, 3, 3)
        assert pco_people(two_organizations, church, names[church]) == [
            (name, 2) for name in sorted(names[church])
        ]
        linked = churches_db.session.scalars(
            select(Member.pco_id).where(Member.church_id == int(church))
        ).all()
        assert None not in linked


def test_a_church_alone_pushes_in_one_job(sliced: Flask) -> None:
    add_people(GRACE)
    run_id = push(GRACE)

    make_worker(simple=True).work(burst=True)

    run = run_row(GRACE, run_id)
    assert (run.status, run.job_id) == ("succeeded", "pco-church-1-push-people")


def test_a_delivery_is_applied_between_another_church_s_slices(sliced: Flask) -> None:
    add_people(GRACE)
    add_people(HOPE)
    runs = {GRACE: push(GRACE), HOPE: push(HOPE)}
    for church in (GRACE, HOPE):
        queued(church)  # both churches' webhook queues exist, as after their first deliveries
    sync_queue().empty()  # the site's queue: the wake-up job of the new queues
    worker = make_worker(simple=True)
    worker.work(burst=True, max_jobs=1)  # one church's first slice
    first = next(c for c, r in runs.items() if run_row(c, r).progress_done == 1)
    other = HOPE if first == GRACE else GRACE
    deliver(sliced, other, 1)

    worker.work(burst=True, max_jobs=1)  # the next church's turn: its delivery first

    assert queued(other) == 0
    assert run_row(first, runs[first]).status == "queued"  # its next slice waits its turn
    assert run_row(first, runs[first]).progress_done == 1


def test_only_the_latest_slice_s_job_may_carry_the_run_on(sliced: Flask) -> None:
    add_people(GRACE)
    add_people(HOPE)
    runs = {GRACE: push(GRACE), HOPE: push(HOPE)}
    make_worker(simple=True).work(burst=True, max_jobs=1)
    first = next(c for c, r in runs.items() if run_row(c, r).progress_done == 1)

    with use_organization(first):
        # RQ's retry of the first slice's job, had its worker died after queuing the next
        assert claim_run(current_pco(), runs[first], f"pco-church-{first}-push-people") is None
        assert claim_run(current_pco(), runs[first], run_row(first, runs[first]).job_id)


def test_a_lost_slice_then_a_new_push_leaves_no_duplicate(
    sliced: Flask, two_organizations: SandboxServer
) -> None:
    names, runs = grace_after_its_first_slice()
    continuation = run_row(GRACE, runs[GRACE]).job_id
    Job.fetch(continuation, connection=sync_queue().connection).delete()  # Redis lost it

    with use_organization(GRACE):
        rerun = start_sync("push", "people", mode="inline", trigger="cli")

    assert run_row(GRACE, runs[GRACE]).status == "failed"  # released: its job is gone
    assert run_row(GRACE, rerun.id).status == "succeeded"
    assert pco_people(two_organizations, GRACE, names) == [(name, 2) for name in sorted(names)]


def test_a_slice_ends_as_soon_as_its_own_church_s_deliveries_wait(site: Flask) -> None:
    sync_queue().empty()
    with use_organization(GRACE):
        state = current_pco()
        slicer = BudgetSlicer(state, state.client())
        assert not slicer.due()  # alone, its budget fresh, its slice young

        deliver(site, GRACE, 1)

        assert slicer.due()


def test_a_slice_leaves_its_church_s_deliveries_a_few_requests(site: Flask) -> None:
    sync_queue().empty()
    deliver(site, HOPE, 1)  # another church's work waits
    with use_organization(GRACE):
        state = current_pco()
        limiter = state.client().limiter
        slicer = BudgetSlicer(state, state.client())
        for _ in range(limiter.limit - (RESERVE + DELIVERY_RESERVE)):
            limiter.acquire()
        assert not slicer.due()  # a record's worth left, past the deliveries' share

        limiter.acquire()

        assert slicer.due()
        assert slicer.rest > 0  # the church's runs rest; its deliveries have their share


def spend_budget(church: str) -> None:
    """Take the church's budget down to what it keeps for its deliveries, less one."""
    with use_organization(church):
        limiter = current_pco().client().limiter
        for _ in range(limiter.limit - (RESERVE + DELIVERY_RESERVE) + 1):
            limiter.acquire()


def window_moves_on(connection: Redis) -> None:
    """What 20 s would do: every church's moving window empties and its rest ends."""
    for key in [*connection.scan_iter("*window*"), *connection.scan_iter("flask_pco:resting:*")]:
        connection.delete(key)


def test_a_slice_with_budget_left_begins_while_another_church_waits(site: Flask) -> None:
    sync_queue().empty()
    deliver(site, HOPE, 1)
    with use_organization(GRACE):
        state = current_pco()
        assert not BudgetSlicer(state, state.client()).wait_first()


def test_a_slice_on_a_spent_budget_waits_before_it_begins_while_another_church_waits(
    site: Flask,
) -> None:
    sync_queue().empty()
    spend_budget(GRACE)
    with use_organization(GRACE):
        state = current_pco()
        slicer = BudgetSlicer(state, state.client())
        assert not slicer.wait_first()  # alone: it goes on at the budget's pace

        deliver(site, HOPE, 1)

        assert slicer.wait_first()
        assert slicer.rest > 0


def test_a_slice_alone_on_a_spent_budget_waits_for_room_in_short_naps(site: Flask) -> None:
    sync_queue().empty()
    spend_budget(GRACE)
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            window_moves_on(state.redis())

    with use_organization(GRACE):
        state = current_pco()
        slicer = BudgetSlicer(state, state.client(), sleep=nap)

        assert not slicer.due()  # alone: it goes on once its budget has room
    assert len(naps) == 3 and max(naps) <= POLL


def test_a_slice_waiting_alone_gives_its_worker_back_when_another_church_s_work_comes(
    site: Flask,
) -> None:
    sync_queue().empty()
    spend_budget(GRACE)
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        deliver(site, HOPE, 1)  # meanwhile, another church's delivery

    with use_organization(GRACE):
        state = current_pco()
        slicer = BudgetSlicer(state, state.client(), sleep=nap)

        assert slicer.due()
        assert (slicer.reason, len(naps)) == ("budget spent", 1)
        assert slicer.rest > 0


def test_a_run_on_a_spent_budget_gives_its_worker_back_without_a_request(
    sliced: Flask, two_organizations: SandboxServer
) -> None:
    names = add_people(GRACE)
    add_people(HOPE)
    runs = {GRACE: push(GRACE), HOPE: push(HOPE)}  # Hope's slices: other work, waiting
    spend_budget(GRACE)
    grace_pco = two_organizations.control_for(ORGANIZATIONS[GRACE])
    grace_pco.clear_requests()
    worker = make_worker(simple=True)
    while run_row(GRACE, runs[GRACE]).job_id == f"pco-church-{GRACE}-push-people":
        worker.work(burst=True, max_jobs=1)

    waiting = run_row(GRACE, runs[GRACE])
    assert (waiting.status, waiting.progress_done, waiting.started_at) == ("queued", 0, None)
    assert waiting.job_id.startswith(f"pco-church-{GRACE}-push-people-")
    assert grace_pco.requests() == []  # not even its people index

    window_moves_on(sync_queue().connection)
    make_worker(simple=True).work(burst=True)

    assert run_row(GRACE, runs[GRACE]).status == "succeeded"
    assert pco_people(two_organizations, GRACE, names) == [(name, 2) for name in sorted(names)]


def people_listings(sandbox: SandboxServer, church: str) -> list[str]:
    """The church's GETs of PCO's people listing, their queries decoded."""
    log = sandbox.control_for(ORGANIZATIONS[church]).requests()
    paths = [unquote(r["path"]) for r in log if r["method"] == "GET"]
    return [path for path in paths if path.startswith("/people/v2/people?")]


def test_a_push_in_slices_lists_pco_s_people_once_then_only_who_changed(
    sliced: Flask, two_organizations: SandboxServer
) -> None:
    add_people(GRACE)
    add_people(HOPE)
    runs = {GRACE: push(GRACE), HOPE: push(HOPE)}
    two_organizations.control_for(ORGANIZATIONS[GRACE]).clear_requests()

    make_worker(simple=True).work(burst=True)

    assert run_row(GRACE, runs[GRACE]).status == "succeeded"
    listings = people_listings(two_organizations, GRACE)
    assert len([path for path in listings if "where[" not in path]) == 1
    assert len([path for path in listings if "where[updated_at][gte]" in path]) == PEOPLE - 1


def test_a_person_created_in_pco_between_slices_is_linked_not_duplicated(
    sliced: Flask, two_organizations: SandboxServer
) -> None:
    names, runs = grace_after_its_first_slice()
    last = names[-1]  # pushed in a later slice; staff add them in PCO meanwhile
    grace_pco = two_organizations.control_for(ORGANIZATIONS[GRACE])
    pco_id = grace_pco.add_person(first_name="Ann", last_name=last, emails=[f"{last}@example.org"])

    make_worker(simple=True).work(burst=True)

    assert run_row(GRACE, runs[GRACE]).status == "succeeded"
    assert pco_people(two_organizations, GRACE, names) == [(name, 2) for name in sorted(names)]
    linked = churches_db.session.scalar(select(Member.pco_id).where(Member.last_name == last))
    assert linked == pco_id


def test_what_a_sliced_run_carried_goes_when_it_ends(sliced: Flask) -> None:
    _, runs = grace_after_its_first_slice()
    connection = sync_queue().connection
    assert list(connection.scan_iter(f"flask_pco:carried:{GRACE}:{runs[GRACE]}:*"))

    make_worker(simple=True).work(burst=True)

    assert run_row(GRACE, runs[GRACE]).status == "succeeded"
    assert list(connection.scan_iter("flask_pco:carried:*")) == []
