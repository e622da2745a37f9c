"""The three-way merge under each field rule (``flask_pco.field_rules``)."""

from __future__ import annotations

from typing import Any

import pytest

from flask_pco.field_rules import FieldRule, parse_rule
from flask_pco.sync.policy import merge

BASE = {"size": "M"}


def decide(rule: str, local: Any, pco: Any, base: dict[str, Any] | None = BASE) -> tuple[Any, ...]:
    result = merge(base, {"size": local}, {"size": pco}, ("size",), {"size": parse_rule(rule)})
    return result.to_local, result.to_pco, [c.field for c in result.conflicts]


@pytest.mark.parametrize(
    ("rule", "outcome"),
    [
        ("two_way", ({"size": "L"}, {}, ["size"])),
        ("pco_wins", ({"size": "L"}, {}, [])),
        ("local_wins", ({}, {"size": "S"}, [])),
        ("pull_only", ({"size": "L"}, {}, [])),
        ("push_only", ({}, {"size": "S"}, [])),
        ("ignore", ({}, {}, [])),
    ],
)
def test_both_sides_changed(rule: str, outcome: tuple[Any, ...]) -> None:
    assert decide(rule, local="S", pco="L") == outcome


def test_pull_only_takes_pcos_value_even_when_only_the_site_changed() -> None:
    assert decide("pull_only", local="S", pco="M") == ({"size": "M"}, {}, [])


def test_push_only_sends_the_sites_value_even_when_only_pco_changed() -> None:
    assert decide("push_only", local="M", pco="L") == ({}, {"size": "M"}, [])


def test_keep_filled_drops_an_empty_value_either_way() -> None:
    assert decide("two_way+keep_filled", local="M", pco=None) == ({}, {}, [])
    assert decide("two_way+keep_filled", local="", pco="M") == ({}, {}, [])
    assert decide("two_way+keep_filled", local="M", pco="L") == ({"size": "L"}, {}, [])


def test_without_a_base_pcos_value_wins_unless_the_site_is_the_source() -> None:
    assert decide("local_wins", local="S", pco="L", base=None) == ({"size": "L"}, {}, [])
    assert decide("push_only", local="S", pco="L", base=None) == ({}, {"size": "S"}, [])


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("local_wins", FieldRule("local_wins")),
        ("push_only+keep_filled", FieldRule("push_only", keep_filled=True)),
        (("pco_wins", "keep_filled"), FieldRule("pco_wins", keep_filled=True)),
        ("keep_filled", FieldRule("two_way", keep_filled=True)),
    ],
)
def test_rules_are_written_as_words(written: Any, rule: FieldRule) -> None:
    assert parse_rule(written) == rule


@pytest.mark.parametrize("written", ["sometimes", "pull_only+push_only", ("two_way", "always")])
def test_anything_else_is_not_a_rule(written: Any) -> None:
    with pytest.raises(ValueError, match="is not a rule"):
        parse_rule(written)
