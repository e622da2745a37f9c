"""Factories for JSON:API documents, parsed the way the client parses PCO's answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flask_pco.client.jsonapi import Document, parse_document

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "pco_examples"


def example(name: str) -> Document:
    return parse_document(json.loads((EXAMPLES / name).read_text()))


def resource(
    type_: str, id_: str, relationships: dict[str, Any] | None = None, **attributes: Any
) -> dict[str, Any]:
    rels = {name: {"data": value} for name, value in (relationships or {}).items()}
    return {"type": type_, "id": id_, "attributes": attributes, "relationships": rels}


def ref(type_: str, id_: str) -> dict[str, str]:
    return {"type": type_, "id": id_}


def person_document(
    *,
    emails: list[dict[str, Any]] = (),
    phones: list[dict[str, Any]] = (),
    addresses: list[dict[str, Any]] = (),
    **attributes: Any,
) -> Document:
    """One Person with the given included contacts (each a dict of attributes)."""
    attrs = {"first_name": "Avery", "last_name": "Example", "status": "active", **attributes}
    included = [
        *(resource("Email", f"e{i}", **a) for i, a in enumerate(emails)),
        *(resource("PhoneNumber", f"p{i}", **a) for i, a in enumerate(phones)),
        *(resource("Address", f"a{i}", **a) for i, a in enumerate(addresses)),
    ]
    relationships = {
        "emails": [ref("Email", f"e{i}") for i in range(len(emails))],
        "phone_numbers": [ref("PhoneNumber", f"p{i}") for i in range(len(phones))],
        "addresses": [ref("Address", f"a{i}") for i in range(len(addresses))],
    }
    return parse_document(
        {"data": [resource("Person", "900", relationships, **attrs)], "included": included}
    )


@pytest.fixture
def people_page() -> Document:
    return example("people_list_page1.json")
