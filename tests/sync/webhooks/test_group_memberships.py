"""Groups membership events, applied within one delivery as the groups pull writes a membership;
duplicates and any order harmless; a member or group not local yet pulled, never skipped."""

from __future__ import annotations

from typing import Any

from rq import SimpleWorker
from sqlalchemy import func, select

from example_app.models import ChurchGroup, GroupMembership, Person, PersonEmail, db
from flask_pco.extension import current_pco
from flask_pco.jobs.queue import webhook_queue
from flask_pco.sync.engine import execute_run
from flask_pco.sync.runs import queue_run
from tests.sync.webhooks.conftest import deliveries, delivery_body

EARLIER, LATER = "2099-01-01T00:00:01Z", "2099-01-01T00:00:02Z"


def pull(church, *steps: str, people: int = 30) -> None:
    """Reset PCO to generated data (groups with members) and run these pulls."""
    church.sandbox.control.reset(people=people, seed=3)
    state = current_pco()
    for step in steps:
        execute_run(state, queue_run(state, step, "pull"), state.client())


def event(action: str, record: dict[str, Any], **options: Any) -> bytes:
    """A membership event as PCO sends it for ``record`` (a sandbox Membership); a destroy
    carries no attributes."""
    group_id, person_id = str(record["group_id"]), str(record["person_id"])
    resource: dict[str, Any] = {
        "type": "Membership",
        "id": record["id"],
        "relationships": {
            "group": {"data": {"type": "Group", "id": group_id}},
            "person": {"data": {"type": "Person", "id": person_id}},
        },
        "links": {"self": f"https://api.planningcenteronline.com/groups/v2/groups/{group_id}"},
    }
    if action != "destroyed":
        resource["attributes"] = {"role": record["role"], "joined_at": record.get("joined_at")}
    options.setdefault("event_time", LATER)
    return delivery_body(f"groups.v2.events.membership.{action}", resource, **options)


def membership(pco_id: str) -> Any:
    db.session.expire_all()
    return db.session.scalar(select(GroupMembership).where(GroupMembership.pco_id == pco_id))


def rows(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def last_status() -> str:
    return str(deliveries(db)[-1].status)


def local_group(church) -> str:
    """The PCO id of a group already pulled here."""
    return db.session.scalar(select(ChurchGroup.pco_id).where(ChurchGroup.kind == "group"))


def newcomer(church, group_id: str) -> str:
    """A local person (pulled) who is not a member of ``group_id`` in PCO."""
    members = {
        str(church.pco("Membership", m)["person_id"])
        for m in church.sandbox.sandbox.store.lookup("Membership", "group_id", group_id)
    }
    people = db.session.scalars(select(Person.pco_id).where(Person.pco_id.is_not(None)))
    return next(p for p in people if p not in members)


def joined(church, group_id: str, person_id: str, role: str = "member") -> dict[str, Any]:
    membership_id = church.sandbox.control.add_group_membership(group_id, person_id, role)
    return church.pco("Membership", membership_id)


def test_a_member_added_in_pco_is_applied_within_one_delivery(church):
    pull(church, "people", "groups")
    group_id = local_group(church)
    record = joined(church, group_id, newcomer(church, group_id), role="leader")

    church.post(event("created", record))

    row = membership(record["id"])
    assert last_status() == "applied"
    assert row.is_leader is True and row.pco_removed_at is None
    assert db.session.get(ChurchGroup, row.group_id).pco_id == group_id
    assert db.session.get(Person, row.person_id).pco_id == str(record["person_id"])


def test_a_role_change_in_pco_is_applied(church):
    pull(church, "people", "groups")
    record = church.sandbox.control.state()["records"]["Membership"][0]
    role = "member" if record["role"] == "leader" else "leader"
    church.sandbox.control.edit_group_membership(record["id"], role=role)

    church.post(event("updated", church.pco("Membership", record["id"])))

    assert last_status() == "applied"
    assert membership(record["id"]).is_leader is (role == "leader")


def test_a_member_who_left_in_pco_is_marked_removed_not_deleted(church):
    pull(church, "people", "groups")
    record = church.sandbox.control.state()["records"]["Membership"][0]
    before = rows(GroupMembership)
    church.sandbox.control.delete("group_memberships", record["id"])

    church.post(event("destroyed", record, event_time=None))

    assert last_status() == "applied"
    assert membership(record["id"]).pco_removed_at is not None
    assert rows(GroupMembership) == before


def test_a_redelivered_event_is_applied_once(church):
    pull(church, "people", "groups")
    group_id = local_group(church)
    record = joined(church, group_id, newcomer(church, group_id))
    raw = event("created", record, event_id="5f0c0c1e-0000-4000-8000-000000000001")

    church.post(raw)
    church.sandbox.control.clear_requests()
    church.post(raw)

    assert [d.status for d in deliveries(db)] == ["applied"]
    assert church.pco_requests() == []
    assert rows(GroupMembership) == len(church.sandbox.control.state()["records"]["Membership"])


def test_the_same_change_sent_twice_is_applied_once(church):
    pull(church, "people", "groups")
    group_id = local_group(church)
    record = joined(church, group_id, newcomer(church, group_id))

    church.post(event("created", record))
    church.post(event("created", record))

    assert [d.status for d in deliveries(db)] == ["applied", "ignored"]
    assert rows(GroupMembership) == len(church.sandbox.control.state()["records"]["Membership"])


def test_an_older_update_arriving_after_a_newer_one_is_ignored_without_a_request(church):
    pull(church, "people", "groups")
    record = church.sandbox.control.state()["records"]["Membership"][0]
    church.sandbox.control.edit_group_membership(record["id"], role="leader")
    older = event("updated", church.pco("Membership", record["id"]), event_time=EARLIER)
    church.sandbox.control.edit_group_membership(record["id"], role="member")
    newer = event("updated", church.pco("Membership", record["id"]), event_time=LATER)

    church.post(newer)
    church.sandbox.control.clear_requests()
    church.post(older)

    assert deliveries(db)[-1].status == "ignored"
    assert "stale" in deliveries(db)[-1].error_message
    assert church.pco_requests() == []
    assert membership(record["id"]).is_leader is False


def test_an_update_arriving_after_the_destroy_does_not_bring_the_member_back(church):
    pull(church, "people", "groups")
    record = church.sandbox.control.state()["records"]["Membership"][0]
    church.sandbox.control.delete("group_memberships", record["id"])

    church.post(event("destroyed", record, event_time=None))
    church.sandbox.control.clear_requests()
    church.post(event("updated", record, event_time=LATER))

    assert [d.status for d in deliveries(db)] == ["applied", "ignored"]
    assert church.pco_requests() == []
    assert membership(record["id"]).pco_removed_at is not None


def test_a_created_arriving_after_the_destroy_adds_nobody(church):
    pull(church, "people", "groups")
    group_id = local_group(church)
    record = joined(church, group_id, newcomer(church, group_id))
    church.sandbox.control.delete("group_memberships", record["id"])

    church.post(event("destroyed", record, event_time=None))  # nothing local yet: ignored
    church.post(event("created", record))  # PCO answers 404: the membership is gone

    assert [d.status for d in deliveries(db)] == ["ignored", "ignored"]
    assert membership(record["id"]) is None


def test_an_unknown_member_is_pulled_with_one_request_not_skipped(church):
    pull(church, "people", "groups")
    group_id = local_group(church)
    person_id = church.add_pco_person("Ruth", "Moab", emails=["ruth@example.org"])
    record = joined(church, group_id, person_id)
    church.sandbox.control.clear_requests()

    church.post(event("created", record))

    person = church.local(person_id)
    assert last_status() == "applied"
    assert (person.first_name, [e.email for e in person.emails]) == ("Ruth", ["ruth@example.org"])
    assert membership(record["id"]).person_id == person.id
    asked = [r.split("?")[0] for r in church.pco_requests()]
    assert sorted(r for r in asked if r != "GET /people/v2") == sorted(
        [
            f"GET /groups/v2/groups/{group_id}/memberships/{record['id']}",
            "GET /people/v2/person_mergers",  # a kept profile relinks its removed one's row
            f"GET /people/v2/people/{person_id}",
        ]
    )


def test_an_unknown_member_who_exists_unlinked_here_is_linked_not_duplicated(church):
    pull(church, "people", "groups")
    local = Person(first_name="Ruth", last_name="Moab")
    db.session.add(local)
    db.session.flush()
    db.session.add(PersonEmail(person_id=local.id, email="ruth@example.org", is_primary=True))
    db.session.commit()
    people = rows(Person)
    group_id = local_group(church)
    person_id = church.add_pco_person("Ruth", "Moab", emails=["RUTH@example.org"])

    church.post(event("created", joined(church, group_id, person_id)))

    assert rows(Person) == people
    assert church.local(person_id).id == local.id
    assert last_status() == "applied"


def test_a_membership_of_a_group_not_local_yet_pulls_the_group(church):
    pull(church, "people")
    record = church.sandbox.control.state()["records"]["Membership"][0]
    church.sandbox.control.edit_group_membership(record["id"], role="leader")

    church.post(event("updated", church.pco("Membership", record["id"])))

    group = db.session.scalar(select(ChurchGroup).where(ChurchGroup.pco_id == record["group_id"]))
    area = db.session.get(ChurchGroup, group.parent_id)
    assert last_status() == "applied"
    group_type = str(church.pco("Group", record["group_id"])["group_type_id"])
    assert (area.kind, area.pco_id) == ("area", "type:" + group_type)
    assert membership(record["id"]).is_leader is True


def test_membership_events_are_queued_and_batched_like_people_events(queued):
    pull(queued, "people", "groups")
    group_id = local_group(queued)
    person_id = queued.add_pco_person("Ruth", "Moab")
    record = joined(queued, group_id, person_id)
    queued.post(event("created", record))  # before the person's own event: pulled on demand
    queued.post(queued.person_event("created", person_id))
    assert webhook_queue().count == 2

    queue = webhook_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1)

    assert [d.status for d in deliveries(db)] == ["applied", "ignored"]  # one job, both
    assert membership(record["id"]).person_id == queued.local(person_id).id
    assert rows(Person) == len(queued.sandbox.control.state()["records"]["Person"])
