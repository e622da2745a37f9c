"""JSON:API sparse fieldsets, as PCO reads them: ``fields[Person]=first_name,updated_at``
(REFERENCE §1.6).

A ``fields[TYPE]`` parameter limits every resource of that type, in ``data`` and in
``included``, to the attributes and relationships it names; ``type``, ``id`` and ``links``
stay. Types not named are rendered whole. A name the type does not have is ignored. It is
applied after rendering, so what is included is decided by ``include`` alone, as JSON:API
says: a sync that only wants to know who changed asks for ``updated_at`` and gets a page a
few kilobytes long instead of hundreds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["apply_fieldsets", "requested_fieldsets"]

_FIELDS_KEY = re.compile(r"^fields\[(\w+)\]$")


def requested_fieldsets(args: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The fieldset of each type named in the query string (an empty value keeps nothing)."""
    fieldsets = {}
    for key, value in args.items():
        match = _FIELDS_KEY.match(key)
        if match:
            names = (name.strip() for name in str(value or "").split(","))
            fieldsets[match.group(1)] = frozenset(name for name in names if name)
    return fieldsets


def apply_fieldsets(
    document: dict[str, Any] | None, fieldsets: Mapping[str, frozenset[str]]
) -> None:
    """Cut the document's resources down to their types' fieldsets, in place."""
    if not document or not fieldsets:
        return
    data = document.get("data")
    resources: Iterable[Any] = data if isinstance(data, list) else [data] if data else []
    for resource in [*resources, *document.get("included", ())]:
        wanted = fieldsets.get(resource.get("type"))
        if wanted is None:
            continue
        for part in ("attributes", "relationships"):
            if part in resource:
                resource[part] = {k: v for k, v in resource[part].items() if k in wanted}
