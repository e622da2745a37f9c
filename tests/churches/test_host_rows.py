"""While flask-pco works for a church, its queries on the host's models see only that
church's rows, and the rows it creates are that church's; the host's own code sees all."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select, update

from flask_pco.tenancy import use_organization
from tests.churches_site import Member, churches_db

from .conftest import GRACE, HOPE


def add_people() -> None:
    """Two people per church, with the same PCO ids in both (as two sandboxes hand out)."""
    for church in (1, 2):
        for pco_id in ("101", "102"):
            churches_db.session.add(
                Member(church_id=church, first_name="A", last_name=f"C{church}", pco_id=pco_id)
            )
    churches_db.session.commit()


def test_counts_see_only_the_church_s_rows(site: Flask) -> None:
    add_people()
    with use_organization(GRACE):
        count = churches_db.session.scalar(select(func.count()).select_from(Member))
    assert count == 2


def test_a_look_up_by_pco_id_finds_the_church_s_own_row(site: Flask) -> None:
    add_people()
    with use_organization(HOPE):
        found = churches_db.session.scalars(select(Member).where(Member.pco_id == "101")).all()
    assert [(row.church_id, row.last_name) for row in found] == [(2, "C2")]


def test_another_church_s_row_is_not_found_by_its_id(site: Flask) -> None:
    add_people()
    grace_row = churches_db.session.scalars(select(Member.id).where(Member.church_id == 1)).first()
    churches_db.session.expire_all()
    churches_db.session.close()
    with use_organization(HOPE):
        assert churches_db.session.get(Member, grace_row) is None


def test_a_bulk_update_changes_only_the_church_s_rows(site: Flask) -> None:
    add_people()
    with use_organization(GRACE):
        churches_db.session.execute(
            update(Member).values(last_name="Changed").execution_options(synchronize_session=False)
        )
        churches_db.session.commit()
    names = churches_db.session.execute(select(Member.church_id, Member.last_name)).all()
    assert sorted(set(names)) == [(1, "Changed"), (2, "C2")]


def test_a_new_row_gets_the_church_s_id(site: Flask) -> None:
    with use_organization(HOPE):
        row = Member(first_name="New", last_name="Person")
        churches_db.session.add(row)
        churches_db.session.commit()
    assert row.church_id == 2


def test_the_host_s_own_queries_see_every_church(site: Flask) -> None:
    add_people()
    assert churches_db.session.scalar(select(func.count()).select_from(Member)) == 4
