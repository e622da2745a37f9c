"""Per-field sync rules, on built-in and custom fields alike, and their start-up check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from flask_pco import ConfigError, current_pco
from flask_pco.sandbox.testing import SandboxControl
from tests.fields_site import fields_app, fields_db
from tests.sync.custom.conftest import parishioner, run


def person_in_pco(sandbox: SandboxControl, pco_id: str) -> dict[str, Any]:
    return next(p for p in sandbox.state()["records"]["Person"] if p["id"] == pco_id)


def shirt_in_pco(sandbox: SandboxControl, pco_id: str) -> list[str]:
    data = sandbox.state()["records"].get("FieldDatum", [])
    return [d["value"] for d in data if d["person_id"] == pco_id and d["field_option_id"]]


def edit_both_sides(sandbox: SandboxControl, pco_id: str, local: str, pco: str) -> None:
    """Change Ada's first name and T-shirt size on the site and, differently, in PCO."""
    row = parishioner(pco_id)
    row.given_name, row.shirt_size = local, local[:1]
    fields_db.session.commit()
    sandbox.edit_person(pco_id, first_name=pco)
    [datum] = [d for d in sandbox.state()["records"]["FieldDatum"] if d["person_id"] == pco_id]
    sandbox.edit("field_data", datum["id"], value=pco[:1])


def conflicts() -> list[str]:
    Conflict = current_pco().models.Conflict
    return [c.field for c in fields_db.session.scalars(select(Conflict))]


@pytest.fixture
def ada(sandbox: SandboxControl) -> str:
    return sandbox.add_person(first_name="Ada", custom_fields={"T-shirt size": "M"})


def test_local_wins_keeps_the_sites_value_and_pushes_it(
    site: Callable[..., Any], sandbox: SandboxControl, ada: str
) -> None:
    site(rules={"first_name": "local_wins", "shirt_size": "local_wins"})
    run("pull")
    edit_both_sides(sandbox, ada, local="Sam", pco="Lou")

    run("pull")
    run("push")

    assert (parishioner(ada).given_name, parishioner(ada).shirt_size) == ("Sam", "S")
    assert person_in_pco(sandbox, ada)["first_name"] == "Sam"
    assert shirt_in_pco(sandbox, ada) == ["S"]
    assert conflicts() == []


def test_pco_wins_takes_pcos_value_without_a_conflict(
    site: Callable[..., Any], sandbox: SandboxControl, ada: str
) -> None:
    site(rules={"first_name": "pco_wins", "shirt_size": "pco_wins"})
    run("pull")
    edit_both_sides(sandbox, ada, local="Sam", pco="Lou")

    run("pull")

    assert (parishioner(ada).given_name, parishioner(ada).shirt_size) == ("Lou", "L")
    assert conflicts() == []


def test_two_way_is_the_default_and_records_the_conflicts(
    site: Callable[..., Any], sandbox: SandboxControl, ada: str
) -> None:
    site()
    run("pull")
    edit_both_sides(sandbox, ada, local="Sam", pco="Lou")

    run("pull")

    assert (parishioner(ada).given_name, parishioner(ada).shirt_size) == ("Lou", "L")
    assert sorted(conflicts()) == ["first_name", "shirt_size"]


def test_pull_only_never_pushes_a_local_edit(
    site: Callable[..., Any], sandbox: SandboxControl, ada: str
) -> None:
    site(rules={"shirt_size": "pull_only"})
    run("pull")
    row = parishioner(ada)
    row.shirt_size = "XL"
    fields_db.session.commit()

    run("push")

    assert shirt_in_pco(sandbox, ada) == ["M"]
    assert parishioner(ada).shirt_size == "M"  # the push took PCO's value back


def test_push_only_never_pulls_and_makes_pco_follow_the_site(
    site: Callable[..., Any], sandbox: SandboxControl, ada: str
) -> None:
    site(rules={"shirt_size": "push_only"})
    run("pull")
    assert parishioner(ada).shirt_size is None  # not taken from PCO, even by a new row
    row = parishioner(ada)
    row.shirt_size = "S"
    fields_db.session.commit()

    run("push")

    assert shirt_in_pco(sandbox, ada) == ["S"]
    [datum] = [d for d in sandbox.state()["records"]["FieldDatum"] if d["person_id"] == ada]
    sandbox.edit("field_data", datum["id"], value="XL")
    run("pull")
    assert parishioner(ada).shirt_size == "S"


def test_ignore_neither_reads_nor_writes_the_field(
    site: Callable[..., Any], sandbox: SandboxControl, ada: str
) -> None:
    site(
        custom={"T-shirt size": "shirt_size"},
        rules={"shirt_size": "ignore", "first_name": "ignore"},
    )
    sandbox.clear_requests()
    run("pull")
    row = parishioner(ada)
    assert (row.shirt_size, row.given_name) == (None, "Ada")  # a new row still needs its name
    assert "shirt_size" not in row.pco_snapshot and "first_name" not in row.pco_snapshot
    paths = [entry["path"] for entry in sandbox.requests()]
    assert not any("field_data" in p or "field_definitions" in p for p in paths)


def test_keep_filled_never_lets_an_empty_value_clear_a_filled_one(
    site: Callable[..., Any], sandbox: SandboxControl, ada: str
) -> None:
    site(rules={"shirt_size": "two_way+keep_filled"})
    run("pull")
    [datum] = [d for d in sandbox.state()["records"]["FieldDatum"] if d["person_id"] == ada]
    sandbox.delete("field_data", datum["id"])

    run("pull")
    assert parishioner(ada).shirt_size == "M"

    row = parishioner(ada)
    row.shirt_size = None
    fields_db.session.commit()
    sandbox.add_person(first_name="Other")  # something else for the push to do
    run("push")
    assert parishioner(ada).shirt_size is None
    assert shirt_in_pco(sandbox, ada) == []


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"person": {"shoe_size": "pull_only"}}, "rule for person.shoe_size: no such synced field"),
        (
            {"person": {"shirt_size": "sometimes"}},
            "rule for person.shirt_size: 'sometimes' is not a rule",
        ),
        ({"group": {"name": "push_only"}}, "rules for 'group': rules apply to person"),
    ],
)
def test_a_bad_rule_stops_start_up_with_one_line(
    database_url: str, rules: dict[str, Any], message: str
) -> None:
    from flask_pco import PCO
    from tests.fields_site import CUSTOM, NAMES, Parishioner

    pco = PCO(fields_db)
    pco.register_models(
        person=Parishioner,
        fields={"person": NAMES},
        custom_fields={"person": CUSTOM},
        rules=rules,
    )
    app = fields_app.__globals__["Flask"](__name__)
    app.config.update(SECRET_KEY="x", SQLALCHEMY_DATABASE_URI=database_url)
    with pytest.raises(ConfigError) as raised:
        pco.init_app(app)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_custom_field_without_its_column_stops_start_up(database_url: str) -> None:
    with pytest.raises(ConfigError, match="Parishioner has no column 'shoe_size'"):
        fields_app(database_url, custom={"Shoe size": "shoe_size"})


def test_a_custom_field_on_a_column_already_synced_stops_start_up(database_url: str) -> None:
    with pytest.raises(ConfigError, match="custom field 'T-shirt size': column 'given_name'"):
        fields_app(database_url, custom={"T-shirt size": "given_name"})
