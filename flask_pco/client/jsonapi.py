"""JSON:API documents as PCO sends them, parsed into small frozen objects.

A page of 100 people with their emails and phones arrives as one document; ``Document.related``
resolves a resource's related records through an index of ``included`` keyed by ``(type, id)``,
so following a relationship is O(1) however large the page. A malformed record becomes a
``DocumentError`` in ``Document.skipped`` instead of failing the whole page: one bad record
must not stop a 50,000-person sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flask_pco.exceptions import DocumentError

__all__ = ["Document", "Identifier", "Resource", "parse_document", "parse_resource"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
#: The largest ``meta.total_count`` believed: far above any church's records, and a sum of a
#: run's listings still fits the 32-bit ``progress_total`` column.
MAX_TOTAL_COUNT = 10_000_000


@dataclass(frozen=True, slots=True)
class Identifier:
    """A ``{"type", "id"}`` reference; ids are always strings."""

    type: str
    id: str


@dataclass(frozen=True, slots=True)
class Resource:
    """One JSON:API resource object.

    ``relationships`` maps a name to ``None`` (empty to-one), an ``Identifier`` (to-one), a tuple
    of identifiers (to-many), or is missing when PCO sent only links for it.
    """

    type: str
    id: str
    attributes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    relationships: Mapping[str, Identifier | tuple[Identifier, ...] | None] = field(
        default_factory=lambda: _EMPTY
    )
    links: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def get(self, name: str, default: Any = None) -> Any:
        """An attribute's value, or ``default`` when PCO did not send it."""
        return self.attributes.get(name, default)

    def related_ids(self, name: str) -> tuple[Identifier, ...]:
        """The identifiers of a relationship, to-one or to-many, as a tuple."""
        value = self.relationships.get(name)
        if value is None:
            return ()
        if isinstance(value, Identifier):
            return (value,)
        return value

    def related_id(self, name: str) -> str | None:
        """The id of a to-one relationship, or ``None``."""
        ids = self.related_ids(name)
        return ids[0].id if ids else None


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed JSON:API document: a list of primary resources plus the included index."""

    data: tuple[Resource, ...]
    included: Mapping[tuple[str, str], Resource]
    meta: Mapping[str, Any]
    links: Mapping[str, Any]
    #: Records that could not be parsed, each with the reason.
    skipped: tuple[DocumentError, ...] = ()

    def related(self, resource: Resource, name: str) -> list[Resource]:
        """The included records a relationship points at, in PCO's order; unknown ones are left out."""
        found = (self.included.get((i.type, i.id)) for i in resource.related_ids(name))
        return [r for r in found if r is not None]

    @property
    def next_url(self) -> str | None:
        """The URL of the next page, absent on the last page."""
        value = self.links.get("next")
        return value if isinstance(value, str) and value else None

    @property
    def total_count(self) -> int | None:
        """How many records the listing holds, or None when PCO does not say or says something
        no listing could hold (not a whole number, negative, over ``MAX_TOTAL_COUNT``): it only
        sizes a progress bar, and an absurd value must not reach an integer column."""
        value = self.meta.get("total_count")
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        return value if 0 <= value <= MAX_TOTAL_COUNT else None


def parse_document(body: Any) -> Document:
    """Parse a decoded JSON:API body; raise ``DocumentError`` if the envelope itself is unusable."""
    if not isinstance(body, Mapping):
        raise DocumentError(f"expected a JSON object at the top level, got {type(body).__name__}")
    if "data" not in body:
        raise DocumentError("the document has no 'data' member")
    raw_data = body["data"]
    many = isinstance(raw_data, list)
    if not many and raw_data is not None and not isinstance(raw_data, Mapping):
        raise DocumentError(
            f"'data' must be an object, a list or null, got {type(raw_data).__name__}"
        )
    items = raw_data if many else ([] if raw_data is None else [raw_data])
    data, skipped = _parse_many(items, "data")
    if not many and skipped:
        raise skipped[0]
    included_raw = body.get("included") or []
    if not isinstance(included_raw, list):
        raise DocumentError("'included' must be a list")
    included, bad_included = _parse_many(included_raw, "included")
    return Document(
        data=tuple(data),
        included=MappingProxyType({(r.type, r.id): r for r in included}),
        meta=_mapping(body.get("meta")),
        links=_mapping(body.get("links")),
        skipped=tuple(skipped + bad_included),
    )


def parse_resource(raw: Any) -> Resource:
    """Parse one resource object; raise ``DocumentError`` saying what is wrong with it.

    A page holds ~800 resources and ~2,000 identifiers, so the checks test ``type(x) is dict``
    before the slower ``isinstance(x, Mapping)`` (an ABC check): same answers, a third of the CPU.
    """
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise DocumentError(f"a resource must be an object, got {type(raw).__name__}")
    type_, id_ = raw.get("type"), raw.get("id")
    if not isinstance(type_, str) or not type_:
        raise DocumentError(f"resource {id_!r} has no string 'type'")
    if type(id_) is str and id_:
        key = id_
    elif isinstance(id_, str | int) and not isinstance(id_, bool) and id_ != "":
        key = str(id_)
    else:
        raise DocumentError(f"{type_} resource has no usable 'id' (got {id_!r})")
    attributes = raw.get("attributes", _EMPTY)
    if attributes is None:
        attributes = _EMPTY
    elif type(attributes) is not dict and not isinstance(attributes, Mapping):
        raise DocumentError(f"{type_} {id_}: 'attributes' must be an object")
    relationships = raw.get("relationships")
    return Resource(
        type_,
        key,
        MappingProxyType(dict(attributes)) if attributes else _EMPTY,
        MappingProxyType(_parse_relationships(type_, key, relationships))
        if relationships is not None
        else _EMPTY,
        _mapping(raw.get("links")),
    )


def _parse_many(items: Iterable[Any], where: str) -> tuple[list[Resource], list[DocumentError]]:
    parsed: list[Resource] = []
    errors: list[DocumentError] = []
    for index, raw in enumerate(items):
        try:
            parsed.append(parse_resource(raw))
        except DocumentError as error:
            errors.append(DocumentError(f"{where}[{index}]: {error}"))
    return parsed, errors


def _parse_relationships(
    type_: str, id_: str, raw: Any
) -> dict[str, Identifier | tuple[Identifier, ...] | None]:
    if raw is None:
        return {}
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise DocumentError(f"{type_} {id_}: 'relationships' must be an object")
    result: dict[str, Identifier | tuple[Identifier, ...] | None] = {}
    for name, rel in raw.items():
        if (type(rel) is not dict and not isinstance(rel, Mapping)) or "data" not in rel:
            continue  # links-only relationship: nothing to resolve
        value = rel["data"]
        if value is None:
            result[name] = None
        elif isinstance(value, list):
            result[name] = tuple(_identifier(type_, id_, name, v) for v in value)
        else:
            result[name] = _identifier(type_, id_, name, value)
    return result


def _identifier(type_: str, id_: str, name: str, raw: Any) -> Identifier:
    if type(raw) is dict:
        kind, key = raw.get("type"), raw.get("id")
        if type(kind) is str and type(key) is str:
            return Identifier(kind, key)
    if (
        not isinstance(raw, Mapping)
        or not isinstance(raw.get("type"), str)
        or not isinstance(raw.get("id"), str | int)
    ):
        raise DocumentError(f"{type_} {id_}: relationship {name!r} holds a malformed identifier")
    return Identifier(raw["type"], str(raw["id"]))


def _mapping(value: Any) -> Mapping[str, Any]:
    if not value:
        return _EMPTY  # None, or an empty object: nothing to copy
    return MappingProxyType(dict(value)) if isinstance(value, Mapping) else _EMPTY
