"""The vocabulary for describing a PCO resource once, so every endpoint is driven by a table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

ORGANIZATION_ID = "300001"


@dataclass(frozen=True)
class Relation:
    """How one record reaches related records.

    ``one``: ``key`` is a foreign key on this record. ``many``: ``key`` is a foreign key on the
    target pointing back here. ``through``: ``key`` is a foreign key on the ``via`` link record
    pointing here, and ``via_key`` on that link record points at the target.
    """

    target: str
    kind: str
    key: str
    via: str | None = None
    via_key: str | None = None
    builtin: bool = False

    def index_keys(self) -> tuple[str, str] | None:
        """The (table, column) index this relation needs to answer in O(1)."""
        if self.kind == "many":
            return (self.target, self.key)
        if self.kind == "through":
            return (str(self.via), self.key)
        return None


@dataclass(frozen=True)
class ResourceSpec:
    """One PCO resource type as the sandbox stores, renders, queries and writes it."""

    table: str
    type: str
    self_path: str
    attributes: Mapping[str, Any]
    types: Mapping[str, str] = field(default_factory=dict)
    relations: Mapping[str, Relation] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    can_include: tuple[str, ...] = ()
    can_query_by: tuple[str, ...] = ()
    can_order_by: tuple[str, ...] = ()
    can_filter: tuple[str, ...] = ()
    create: frozenset[str] = frozenset()
    update: frozenset[str] = frozenset()
    required: tuple[str, ...] = ()
    extra_indexes: tuple[str, ...] = ()
    name: str = ""

    @property
    def key(self) -> str:
        """The registry name: the table, unless several specs share one table."""
        return self.name or self.table

    @cached_property
    def sorted_attributes(self) -> tuple[tuple[str, Any], ...]:
        """Attribute defaults in PCO's (alphabetical) order, sorted once rather than per render."""
        return tuple(sorted(self.attributes.items()))

    @cached_property
    def builtin_relations(self) -> tuple[tuple[str, Relation], ...]:
        return tuple((name, rel) for name, rel in self.relations.items() if rel.builtin)

    @cached_property
    def link_plan(self) -> tuple[tuple[str, bool, str], ...]:
        """(name, relative to self?, suffix or template) per association link."""
        return tuple(
            (name, template.startswith("{self}"), template.removeprefix("{self}"))
            for name, template in self.links.items()
        )

    def kind_of(self, attr: str) -> str:
        """The PCO doc type of an attribute (``string`` unless declared)."""
        if attr in ("created_at", "updated_at"):
            return "date_time"
        return self.types.get(attr, "string")

    def assignable(self, creating: bool) -> frozenset[str]:
        return self.create if creating else self.update


def sub_links(*names: str) -> dict[str, str]:
    """Association links that live under the record's own URL."""
    return {name: "{self}/" + name for name in names}


def fields(text: str, default: Any = None) -> dict[str, Any]:
    """Attribute defaults from a space-separated list of names."""
    return dict.fromkeys(text.split(), default)


def names(text: str) -> tuple[str, ...]:
    """A tuple of names from a space-separated list (keeps the catalogs readable)."""
    return tuple(text.split())
