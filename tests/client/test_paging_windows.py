"""Property: windowing past deep offsets yields every record exactly once, ties included."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from flask_pco.client import Document, parse_document
from flask_pco.client.paging import Paginator, render_query

PATH = "/people/v2/people"


class FakeListing:
    """PCO's offset paging over records ordered by updated_at, honouring where[...][gte]."""

    def __init__(self, stamps: list[int]) -> None:
        self.records = sorted(
            (
                {"id": str(i), "updated_at": f"2025-01-01T00:{s // 60:02d}:{s % 60:02d}Z"}
                for i, s in enumerate(stamps)
            ),
            key=lambda r: (r["updated_at"], int(r["id"])),
        )
        self.deepest = 0

    def fetch(self, url: str, query: Any) -> Document:
        params = (
            dict(query)
            if query is not None
            else {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        )
        offset, per_page = int(params.get("offset", 0)), int(params["per_page"])
        self.deepest = max(self.deepest, offset)
        since = params.get("where[updated_at][gte]", "")
        matching = [r for r in self.records if r["updated_at"] >= since]
        page = matching[offset : offset + per_page]
        links = {}
        if offset + per_page < len(matching):
            links["next"] = f"http://pco{PATH}?" + urlencode(
                {**params, "offset": offset + per_page}
            )
        data = [
            {"type": "Person", "id": r["id"], "attributes": {"updated_at": r["updated_at"]}}
            for r in page
        ]
        return parse_document({"data": data, "links": links, "meta": {}})


@settings(max_examples=150, deadline=None)
@given(
    stamps=st.lists(st.integers(min_value=0, max_value=40), max_size=60),
    per_page=st.integers(min_value=1, max_value=7),
    deep_offset=st.integers(min_value=1, max_value=20),
)
def test_windowed_paging_yields_every_record_exactly_once(
    stamps: list[int], per_page: int, deep_offset: int
) -> None:
    listing = FakeListing(stamps)
    query = render_query(per_page=per_page, order="updated_at")
    paginator = Paginator(listing.fetch, PATH, query, deep_offset=deep_offset)
    ids = [r.id for page in paginator for r in page.data]
    assert sorted(ids, key=int) == [str(i) for i in range(len(stamps))]
    if len(set(stamps)) == len(stamps):  # without ties every window moves forward
        assert listing.deepest <= deep_offset
