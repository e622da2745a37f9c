"""``X-PCO-API-Version`` handling: each app has its own dated versions (REFERENCE §1.8)."""

from __future__ import annotations

import re

from flask_pco.sandbox.errors import unsupported_version

DEFAULT_VERSION = "2018-08-01"
APP_VERSIONS: dict[str, tuple[str, ...]] = {
    "people": (
        "2018-08-01", "2019-02-01", "2019-09-09", "2020-02-03", "2021-08-17", "2022-07-14",
        "2023-02-15", "2023-03-21", "2024-09-12", "2025-07-17", "2025-11-10",
    ),
    "groups": ("2018-08-01", "2023-07-10"),
    "check-ins": ("2018-08-01", "2019-07-17", "2023-04-05", "2024-09-03", "2024-11-07", "2025-05-28"),
    "calendar": ("2018-08-01", "2020-04-08", "2021-07-20", "2022-07-07"),
    "webhooks": ("2018-08-01", "2022-10-20"),
}  # fmt: skip
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def processed_version(app: str, requested: str | None) -> str:
    """The version that serves a request: the newest one not after the requested date."""
    versions = APP_VERSIONS.get(app, (DEFAULT_VERSION,))
    if not requested:
        return DEFAULT_VERSION
    if requested.strip().upper() == "LATEST":
        return versions[-1]
    if not DATE.match(requested.strip()) or requested.strip() < DEFAULT_VERSION:
        raise unsupported_version(requested)
    return [v for v in versions if v <= requested.strip()][-1]
