"""What the collected tests need from the machine, and one line saying what is missing.

README's test command needs PostgreSQL, Redis, Chromium and (to build the admin page's htmx)
Node.js/npm. Without one of them every test that uses it would error on its own, dozens of
tracebacks for one missing package; ``tests/conftest.py`` checks before the first test runs,
only for what the collected tests use, and stops the run with a single line instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENDORED_HTMX = ROOT / "flask_pco" / "static" / "pco" / "vendor" / "htmx.min.js"

#: Fixtures that reach each service (any test using them needs it).
NEEDS_BY_FIXTURE = {
    "postgres_url": "postgresql",
    "redis_url": "redis",
    "redis_url_module": "redis",
    "redis_server": "redis-server",
    "chromium_path": "chromium",
}


def needed(items: Iterable[Any]) -> set[str]:
    """The services the collected test items use: by fixture, and PostgreSQL by parameter."""
    needs: set[str] = set()
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        needs.update(need for fixture, need in NEEDS_BY_FIXTURE.items() if fixture in names)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgresql" in params.values():
            needs.add("postgresql")
        if "chromium" in needs:
            needs.add("htmx")
    return needs


def missing(needs: Iterable[str], probes: Mapping[str, Callable[[], str | None]]) -> str | None:
    """One line naming every needed prerequisite whose probe reports a problem, or None."""
    problems = [problem for need in sorted(needs) if (problem := probes[need]())]
    if not problems:
        return None
    return "missing prerequisites (README, 'Set-up'): " + "; ".join(problems)


def probes(postgres_url: str, redis_url: str) -> dict[str, Callable[[], str | None]]:
    """The real checks: each returns what is wrong and how to fix it, or None."""
    return {
        "postgresql": lambda: _postgres(postgres_url),
        "redis": lambda: _redis(redis_url),
        "redis-server": _redis_server,
        "chromium": _chromium,
        "htmx": _htmx,
    }


def _postgres(url: str) -> str | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        where = make_url(url).render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        return (
            f"PostgreSQL at {where} ({reason}; Debian: apt-get install postgresql, then start it)"
        )
    finally:
        engine.dispose()
    return None


def _redis(url: str) -> str | None:
    import redis

    connection = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        connection.ping()
    except redis.RedisError as error:
        return f"Redis at {url} ({error}; Debian: apt-get install redis-server, then start it)"
    finally:
        connection.close()
    return None


def _redis_server() -> str | None:
    if shutil.which("redis-server"):
        return None
    return "redis-server is not on PATH (Debian: apt-get install redis-server)"


def _chromium() -> str | None:
    if shutil.which("chromium"):
        return None
    return "chromium is not on PATH (Debian: apt-get install chromium)"


def _htmx() -> str | None:
    if VENDORED_HTMX.exists():
        return None
    return (
        f"{VENDORED_HTMX.relative_to(ROOT)} was not built (Debian: apt-get install npm, "
        "then pip install -e '.[dev]' again)"
    )
