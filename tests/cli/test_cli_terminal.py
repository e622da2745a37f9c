"""`flask pco sync` on a real terminal (a pseudo-terminal): a progress bar per step.

The command runs in its own process, as a church admin types it, against the live sandbox,
which answers slowly enough (``latency_ms``) for the command's looks at the run, every 0.5 s,
to see the pages the test is about.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_pco.sandbox.testing import SandboxServer

PEOPLE = 250
FLASK = [sys.executable, "-m", "flask", "--app", "example_app"]


@pytest.fixture
def site_env(tmp_path: Path, sandbox_server: SandboxServer) -> Iterator[dict[str, str]]:
    """The example site's environment: its own SQLite file, pointed at a slow sandbox."""
    control = sandbox_server.control
    control.reset(people=PEOPLE, seed=2)
    env = {
        **os.environ,
        "SECRET_KEY": "terminal-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'church.sqlite'}",
        "PCO_API_URL": sandbox_server.url,
        "PCO_APP_ID": "sandbox",
        "PCO_SECRET": "sandbox-secret",
        "COLUMNS": "150",
    }
    subprocess.run([*FLASK, "db", "upgrade"], env=env, check=True, capture_output=True)
    yield env
    control.set_faults()


def on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as stdout; its exit status and all it wrote."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the command ended and closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=60), output.decode(errors="replace")


def test_a_pull_on_a_terminal_ends_on_a_full_progress_bar(site_env):
    # No latency: the run may end before the command first looks; the bar is drawn anyway.
    status, output = on_terminal([*FLASK, "pco", "sync", "people"], site_env)
    assert status == 0, output
    assert f"pull people  [{'#' * 36}]  {PEOPLE}/{PEOPLE}" in output
    assert f"pull people succeeded: {PEOPLE} created" in output


def test_the_bar_moves_with_the_pages_as_they_are_written(site_env, sandbox_server):
    # Five pages, each request taking 1.2 s, more than twice the time between looks: the
    # bar is drawn part-way before the full one (which page shows depends on the pages
    # fetched ahead racing the first page's one-off reads, such as the campuses it names).
    sandbox_server.control.set_faults(latency_ms=1200)
    _, output = on_terminal([*FLASK, "pco", "sync", "people"], {**site_env, "PCO_PER_PAGE": "50"})
    full = output.find(f"{PEOPLE}/{PEOPLE}")
    part_way = [output.find(f"{done}/{PEOPLE}") for done in range(50, PEOPLE, 50)]
    assert any(0 <= at < full for at in part_way), output


def test_a_full_pull_names_the_step_its_bar_is_for(site_env, sandbox_server):
    sandbox_server.control.set_faults(latency_ms=250)  # the step still outlasts a look
    status, output = on_terminal([*FLASK, "pco", "sync", "full"], site_env)
    assert status == 0, output
    assert f"pull full [people]  [{'#' * 36}]  {PEOPLE}/{PEOPLE}" in output
