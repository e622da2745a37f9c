"""`flask pco undo --delivery ID`: a merge a webhook delivery carried out, reverted."""

from __future__ import annotations

from example_app.models import CheckIn, db
from flask_pco import current_pco
from flask_pco.jobs.undo import start_undo
from tests.sync.webhooks.conftest import deliveries
from tests.sync.webhooks.test_apply import created_locally
from tests.sync.webhooks.test_merges import merge_in_pco, people


def test_undo_of_a_delivery_s_merge_gives_the_removed_profile_s_row_its_data_back(church):
    keep = church.add_pco_person("Naomi", "Moab")
    remove = church.add_pco_person("Naomi", "Mara")
    church.post(church.person_event("created", keep))
    merged_id = created_locally(church, remove).id
    db.session.add(CheckIn(person_id=merged_id, security_code="A7"))
    db.session.commit()
    church.post(merge_in_pco(church, keep, remove)["merger created"])
    merger = deliveries(db)[-1]

    run = start_undo(delivery_id=merger.id, trigger="cli", mode="inline")

    db.session.expire_all()
    assert current_pco().db.session.get(type(run), run.id).status == "succeeded"
    merged = next(p for p in people() if p.id == merged_id)
    assert (merged.is_active, merged.pco_merged_into, merged.pco_removed_at) == (True, None, None)
    assert [c.person_id for c in db.session.scalars(db.select(CheckIn))] == [merged_id]


def _merge_removals() -> list[tuple[int | None, str]]:
    Removal = current_pco().models.Removal
    db.session.expire_all()
    query = db.select(Removal.delivery_id, Removal.status).where(Removal.action == "merge")
    return [(delivery, status) for delivery, status in db.session.execute(query)]


def _merged_by_a_delivery(church) -> int:
    """A delivery that merged two local profiles; its id."""
    keep = church.add_pco_person("Ruth", "Moab")
    remove = church.add_pco_person("Ruth", "Naomi")
    church.post(church.person_event("created", keep))
    created_locally(church, remove)
    church.post(merge_in_pco(church, keep, remove)["merger created"])
    return deliveries(db)[-1].id


def test_the_delivery_s_merge_removal_reads_undone_after_its_undo(church):
    delivery_id = _merged_by_a_delivery(church)
    assert _merge_removals() == [(delivery_id, "applied")]

    start_undo(delivery_id=delivery_id, trigger="cli", mode="inline")

    assert _merge_removals() == [(delivery_id, "undone")]


def test_undo_of_the_delivery_s_undo_marks_its_merge_applied_again(church):
    delivery_id = _merged_by_a_delivery(church)
    undone = start_undo(delivery_id=delivery_id, trigger="cli", mode="inline")

    redone = start_undo(run_id=undone.id, trigger="cli", mode="inline")

    assert current_pco().db.session.get(type(redone), redone.id).status == "succeeded"
    assert _merge_removals() == [(delivery_id, "applied")]
