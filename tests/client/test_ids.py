"""PCO ids: what counts as one, and how any id becomes exactly one URL path segment."""

from __future__ import annotations

import pytest

from flask_pco.client.ids import is_pco_id, path_id


@pytest.mark.parametrize("value", ["1", "12345", "90000104", "9" * 19])
def test_a_positive_whole_number_as_text_is_a_pco_id(value: str) -> None:
    assert is_pco_id(value)


@pytest.mark.parametrize(
    "value",
    ["", "0", "007", "-1", "+1", "1.5", " 12", "12 ", "abc", "../../x", "١٢", "9" * 20, 12, None],
)
def test_anything_else_is_not(value: object) -> None:
    assert not is_pco_id(value)


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("12345", "12345"),
        ("../../x", "..%2F..%2Fx"),
        ("4%2F2", "4%252F2"),
        ("12?include=emails", "12%3Finclude%3Demails"),
        ("12#x", "12%23x"),
        ("a b", "a%20b"),
    ],
)
def test_path_id_keeps_an_id_inside_its_path_segment(value: str, segment: str) -> None:
    assert path_id(value) == segment
