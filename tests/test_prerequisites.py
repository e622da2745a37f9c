"""A machine without what the tests need gets one line saying what, not an error per test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.prerequisites import missing, needed

ROOT = Path(__file__).resolve().parent.parent


def item(*fixtures: str, **params: str) -> SimpleNamespace:
    return SimpleNamespace(fixturenames=fixtures, callspec=SimpleNamespace(params=params))


def test_the_tests_collected_decide_what_is_needed() -> None:
    items = [item("app", database_url="sqlite"), item("db", database_url="postgresql")]
    assert needed(items) == {"postgresql"}
    assert needed([item("page", "chromium_path"), item("redis_url")]) == {
        "chromium",
        "htmx",
        "redis",
    }
    assert needed([item("client", database_url="sqlite")]) == set()


def test_everything_missing_is_named_in_one_line() -> None:
    probes = {
        "chromium": lambda: "chromium is not on PATH (Debian: apt-get install chromium)",
        "redis": lambda: None,
        "postgresql": lambda: "PostgreSQL at postgresql://x (refused)",
    }
    assert missing({"chromium", "redis", "postgresql"}, probes) == (
        "missing prerequisites (README, 'Set-up'): chromium is not on PATH (Debian: apt-get "
        "install chromium); PostgreSQL at postgresql://x (refused)"
    )
    assert missing({"redis"}, probes) is None


def test_a_run_without_chromium_and_redis_stops_with_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent),  # the venv only: no chromium
        "PCO_TEST_REDIS_URL": "redis://127.0.0.1:9/0",  # nothing listens there
    }
    tests = ["tests/browser/test_admin_page.py", "tests/jobs/test_schedule.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if "missing prerequisites" in line]
    assert result.returncode == 4, output
    assert len(lines) == 1, output
    assert "chromium is not on PATH (Debian: apt-get install chromium)" in lines[0]
    assert "Redis at redis://127.0.0.1:9/0" in lines[0]
    assert "apt-get install redis-server" in lines[0]
    assert "ERROR" not in output and "FAILED" not in output
