"""The push's people index carried from one slice of a run to the next (``index_carry``):
what the next slice gets back, brought up to date from PCO, and when it must read again."""

from __future__ import annotations

from flask import Flask

from flask_pco.extension import current_pco
from flask_pco.models import utcnow
from flask_pco.sandbox import SandboxControl
from flask_pco.sync.push.index_carry import CARRY_NAME, carried_index, carry_index
from flask_pco.sync.push.remote_index import index_includes, load_people_index

INCLUDES = index_includes(None)


class KeptInMemory:
    """A slicer's carry, as the RQ side keeps it in Redis, for one run."""

    def __init__(self) -> None:
        self.kept: dict[str, str] = {}

    def due(self) -> bool:
        return False

    def carry(self, name: str, text: str) -> None:
        self.kept[name] = text

    def carried(self, name: str) -> str | None:
        return self.kept.get(name)


def seed(sandbox: SandboxControl) -> None:
    sandbox.add_person(
        first_name="Ann", last_name="Lee", birthdate="1980-02-03",
        emails=["ann@example.org"], phone_numbers=["+15555550123"],
    )  # fmt: skip
    sandbox.add_person(first_name="Bo", last_name="Kim", emails=["bo@example.org"])


def test_the_next_slice_gets_the_index_back_as_read(app: Flask, sandbox: SandboxControl) -> None:
    seed(sandbox)
    client, slicer = current_pco().client(), KeptInMemory()
    index = load_people_index(client)
    carry_index(slicer, index, utcnow(), INCLUDES)

    carried = carried_index(slicer, client, INCLUDES, overlap=300)

    assert carried is not None
    assert carried[0].people == index.people
    assert [p.id for p in carried[0].with_email("ann@example.org")] == [
        p.id for p in index.with_email("ann@example.org")
    ]


def test_the_next_slice_sees_who_was_added_in_pco_since(
    app: Flask, sandbox: SandboxControl
) -> None:
    seed(sandbox)
    client, slicer = current_pco().client(), KeptInMemory()
    carry_index(slicer, load_people_index(client), utcnow(), INCLUDES)
    added = sandbox.add_person(first_name="Cy", last_name="Ray", emails=["cy@example.org"])

    carried = carried_index(slicer, client, INCLUDES, overlap=300)

    assert carried is not None
    assert [p.id for p in carried[0].with_email("cy@example.org")] == [added]


def test_an_index_read_with_other_includes_is_read_again(
    app: Flask, sandbox: SandboxControl
) -> None:
    seed(sandbox)
    client, slicer = current_pco().client(), KeptInMemory()
    carry_index(slicer, load_people_index(client), utcnow(), INCLUDES)

    assert carried_index(slicer, client, (*INCLUDES, "addresses"), overlap=300) is None


def test_an_unreadable_carry_is_read_again(app: Flask, sandbox: SandboxControl) -> None:
    slicer = KeptInMemory()
    slicer.carry(CARRY_NAME, '{"v": 1, "people": "not a list"')

    assert carried_index(slicer, current_pco().client(), INCLUDES, overlap=300) is None
