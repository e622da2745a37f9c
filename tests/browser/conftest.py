"""A real Chromium (Debian's, via Playwright) against the example site and the sandbox, both live.

No Redis: syncs started from the page run in a thread of the web process, as on a small host.
Chromium missing is a failure, not a skip: CI installs it, and a silently skipped browser suite
would hide a broken page.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from flask_pco.sandbox import SandboxServer, create_sandbox_app
from tests.conftest import make_app
from tests.helpers import sandbox_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VENDORED_HTMX = Path(__file__).resolve().parents[2] / "flask_pco/static/pco/vendor/htmx.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_EMAIL = "admin@church.example"
ADMIN_PASSWORD = "correct horse battery"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LiveServer:
    """The example site served by werkzeug on 127.0.0.1, threaded, on a free port."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "chromium is not on PATH: install Debian's chromium package (apt-get install chromium)"
        )
    if not VENDORED_HTMX.exists():
        pytest.fail(
            f"{VENDORED_HTMX} is missing: run `pip install -e .` (it runs npm ci and copies htmx)"
        )
    return path


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(create_sandbox_app(people=30, seed=11)) as server:
        yield server


def serve_site(tmp_path: Path, sandbox: SandboxServer, **config: Any) -> LiveServer:
    """The example site on a SQLite file, talking to the sandbox, with one admin login."""
    settings = {
        "TESTING": False,
        **sandbox_settings(sandbox.url),
        "PCO_PER_PAGE": 5,
        "PCO_PUBLIC_URL": "https://church.example.org",
        "PCO_READONLY_CACHE_SECONDS": 0,
        **config,
    }
    app = make_app(f"sqlite:///{tmp_path / 'church.sqlite'}", **settings)
    with app.app_context():
        from example_app.models import User, db

        admin = User(email=ADMIN_EMAIL, role="admin")
        admin.set_password(ADMIN_PASSWORD)
        db.session.add(admin)
        db.session.commit()
    return LiveServer(app)


@pytest.fixture
def site(tmp_path: Path, sandbox: SandboxServer) -> Iterator[LiveServer]:
    with serve_site(tmp_path, sandbox) as server:
        yield server


@pytest.fixture
def broken_site(tmp_path: Path, sandbox: SandboxServer) -> Iterator[LiveServer]:
    """The same site with a wrong PCO secret: every sync fails with PCO's 401."""
    with serve_site(tmp_path, sandbox, PCO_SECRET="not-the-secret") as server:
        yield server


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def log_in(page: Any, site: LiveServer, next_path: str = "/admin/pco-sync/") -> None:
    """Through the example site's login form, as an admin would."""
    page.goto(f"{site.url}{next_path}")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}{next_path}")


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
