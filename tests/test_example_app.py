"""The example church site: start-up errors, logins and who may see the PCO page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from example_app.models import User, db

ROOT = Path(__file__).resolve().parent.parent


def add_user(email: str, role: str) -> None:
    user = User(email=email, role=role)
    user.set_password("pw")
    db.session.add(user)
    db.session.commit()


def log_in(client, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": "pw"})
    assert response.status_code == 302


def flask_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PCO_", "SECRET_KEY"))}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "example_app", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def app(database_url):
    from tests.conftest import make_app

    application = make_app(database_url, WTF_CSRF_ENABLED=False)
    with application.app_context():
        yield application


def test_admin_sees_the_pco_page(app, client) -> None:
    add_user("admin@example.org", "admin")
    log_in(client, "admin@example.org")
    assert client.get("/admin/pco-sync/").status_code == 200


def test_staff_are_refused_the_pco_page(app, client) -> None:
    add_user("staff@example.org", "staff")
    log_in(client, "staff@example.org")
    assert client.get("/admin/pco-sync/").status_code == 403


def test_visitors_are_sent_to_log_in(app, client) -> None:
    response = client.get("/admin/pco-sync/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\\evil.example/x", "https://evil.example/x", "javascript:x"]
)
def test_login_never_sends_anyone_to_another_site(app, client, target: str) -> None:
    add_user("staff@example.org", "staff")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "staff@example.org", "password": "pw"},
    )
    assert response.headers["Location"] == "/people"


def test_login_returns_to_the_page_that_asked_for_it(app, client) -> None:
    add_user("staff@example.org", "staff")
    response = client.post(
        "/login",
        query_string={"next": "/admin/pco-sync/"},
        data={"email": "staff@example.org", "password": "pw"},
    )
    assert response.headers["Location"] == "/admin/pco-sync/"


def test_people_list_shows_synced_people(app, client) -> None:
    from example_app.models import Person

    add_user("staff@example.org", "staff")
    db.session.add(Person(first_name="Zoë", last_name="Müller", pco_id="90000101"))
    db.session.commit()
    log_in(client, "staff@example.org")
    page = client.get("/people").get_data(as_text=True)
    assert "Zoë Müller" in page and "90000101" in page


def test_missing_secret_key_is_one_line_at_start_up() -> None:
    result = flask_cli("pco", "config")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "example_app: SECRET_KEY is not set: export SECRET_KEY=<a long random string>"
    )


def test_malformed_api_url_is_one_line_at_start_up() -> None:
    result = flask_cli("pco", "config", SECRET_KEY="x", PCO_API_URL="not a url")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("example_app: PCO_API_URL must be an absolute")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("PCO_PER_PAGE", "0", "PCO_PER_PAGE must be a whole number from 1 to 100, got '0'"),
        ("PCO_TIMEOUT", "-1", "PCO_TIMEOUT must be a number of seconds above 0 and at most 600"),
        ("PCO_TIMEOUT", "nan", "PCO_TIMEOUT must be a number of seconds above 0 and at most 600"),
        ("PCO_MAX_REMOVALS_PERCENT", "101", "PCO_MAX_REMOVALS_PERCENT must be a whole number"),
    ],
)
def test_a_bad_pco_setting_in_the_environment_is_one_line_at_start_up(
    key: str, value: str, message: str
) -> None:
    result = flask_cli("pco", "config", SECRET_KEY="x", **{key: value})
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"example_app: {message}") and line.endswith(f"got {value!r}")


def test_every_pco_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from example_app import create_app

    monkeypatch.setenv("PCO_PER_PAGE", "25")
    monkeypatch.setenv("PCO_TIMEOUT", "7.5")
    monkeypatch.setenv("PCO_GROUPS_DEPARTMENT", "Small Groups")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    config = app.extensions["pco"].config
    assert (config.per_page, config.timeout, config.groups_department) == (25, 7.5, "Small Groups")


def test_create_admin_makes_a_login(tmp_path: Path) -> None:
    env = {"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite'}"}
    assert flask_cli("db", "upgrade", **env).returncode == 0
    result = flask_cli("create-admin", "pastor@example.org", "--password", "pw", **env)
    assert result.returncode == 0, result.stderr
    assert "admin login ready: pastor@example.org" in result.stdout


def test_demo_runs_a_real_full_sync_against_the_embedded_sandbox(tmp_path: Path) -> None:
    env = {"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}"}
    assert flask_cli("db", "upgrade", **env).returncode == 0
    first = flask_cli("demo", "--people", "25", **env)
    again = flask_cli("demo", "--people", "25", **env)
    assert first.returncode == 0, first.stderr
    assert "pull full succeeded" in first.stdout
    assert "this site now has 25 people" in first.stdout
    assert "pull full succeeded: 0 created, 0 updated" in again.stdout


@pytest.fixture
def sqlite_app(tmp_path: Path):
    from tests.conftest import make_app

    application = make_app(f"sqlite:///{tmp_path / 'church.sqlite'}")
    with application.app_context():
        yield application


def test_sqlite_connections_wait_30_seconds_for_another_writer(sqlite_app) -> None:
    assert db.session.execute(db.text("PRAGMA busy_timeout")).scalar() == 30_000


def test_a_sqlite_busy_timeout_in_the_settings_wins(tmp_path: Path) -> None:
    from tests.conftest import make_app

    options = {"connect_args": {"timeout": 0.5}}
    application = make_app(f"sqlite:///{tmp_path / 'c.sqlite'}", SQLALCHEMY_ENGINE_OPTIONS=options)
    with application.app_context():
        assert db.session.execute(db.text("PRAGMA busy_timeout")).scalar() == 500


def test_the_sqlite_database_uses_write_ahead_logging(sqlite_app) -> None:
    assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"


def test_sqlite_commits_do_not_wait_for_the_disk_as_wal_allows(sqlite_app) -> None:
    assert db.session.execute(db.text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_a_persons_page_shows_the_custom_fields_the_site_syncs(app, client) -> None:
    from datetime import date

    from example_app.models import Person

    add_user("staff@example.org", "staff")
    person = Person(first_name="Zoë", last_name="Müller", shirt_size="M")
    person.baptism_date = date(2001, 6, 17)
    db.session.add(person)
    db.session.commit()
    log_in(client, "staff@example.org")
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "<dt>T-shirt size</dt><dd>M</dd>" in page and "2001-06-17" in page
