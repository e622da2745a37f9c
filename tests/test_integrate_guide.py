"""docs/integrate.md works as written: its site is built from its code blocks and driven by its
commands, against the sandbox, on SQLite and PostgreSQL.

The guide's ```python blocks start with ``# stmarks/<file>.py`` and become that file; its
```console lines (``$ ...``) are run in order, in the site's folder, with the guide's
``export``s, except the ones that never end (the sandbox, the workers) or install packages. The
test only adds what a reader does by hand: data in the sandbox, a member typed into the site,
the development server for webhooks, and a staff login.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from flask_pco import ConfigError
from flask_pco.roles import DEFAULT_FIELDS, KINDS, ROLE_FIELDS
from flask_pco.sandbox.testing import SandboxControl, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "integrate.md"
#: Commands a reader starts and leaves running, or that install: not run here.
NOT_RUN = ("pip install", "pco sandbox", "pco worker", "pco scheduler")
#: Settings the test points elsewhere (its own database, sandbox and server) or leaves out.
OVERRIDDEN = {
    "FLASK_SQLALCHEMY_DATABASE_URI",
    "PCO_API_URL",
    "PCO_PUBLIC_URL",
    "PCO_REDIS_URL",
}


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def code_files() -> dict[str, str]:
    """``{"stmarks/models.py": source, ...}`` from the guide's python blocks."""
    files = {}
    for block in re.findall(r"```python\n(.*?)```", guide(), re.DOTALL):
        first = block.splitlines()[0]
        assert first.startswith("# stmarks/"), f"a python block without its file name: {first}"
        files[first[2:].strip()] = block
    return files


def console_lines() -> list[str]:
    """Every ``$`` line of the guide's console blocks, in order."""
    lines = []
    for block in re.findall(r"```console\n(.*?)```", guide(), re.DOTALL):
        lines += [line[2:].strip() for line in block.splitlines() if line.startswith("$ ")]
    return lines


def role_rows() -> list[str]:
    """The guide's table rows, as ``flask_pco.roles`` declares them."""
    rows = []
    for role, fields in ROLE_FIELDS.items():
        for field in fields:
            column = DEFAULT_FIELDS.get(role, {}).get(field.name, field.name)
            kind = f"id of the {field.references}" if field.references else KINDS[field.kind][1]
            need = "required" if field.required else "optional"
            rows.append(
                f"| `{role}` | `{field.name}` | `{column}` | {need} | {kind} | {field.written} |"
            )
    return rows


def test_the_guide_lists_every_field_of_every_role_as_the_code_declares_it() -> None:
    text = guide()
    missing = [row for row in role_rows() if row not in text]
    assert not missing, (
        "docs/integrate.md's role table differs from flask_pco.roles:\n" + "\n".join(missing)
    )


def test_readme_links_the_guide() -> None:
    assert "(docs/integrate.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


class GuideSite:
    """St Mark's, written out from the guide into ``folder`` and driven like a reader would."""

    def __init__(self, folder: Path, database_url: str, sandbox_url: str) -> None:
        self.folder = folder
        for name, source in code_files().items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(source, encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PCO_", "FLASK_"))}
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.overrides = {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "PCO_API_URL": sandbox_url,
        }
        self.env.update(self.overrides)
        self.outputs: dict[str, str] = {}

    def run(self, line: str) -> None:
        """One ``$`` line: an ``export`` sets variables, anything else runs in the folder."""
        words = shlex.split(line.split("  #")[0])
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                if name not in OVERRIDDEN:
                    self.env[name] = value
            return
        result = subprocess.run(
            words, cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        self.outputs[line] = result.stdout

    def point(self, name: str, value: str) -> None:
        self.overrides[name] = self.env[name] = value

    def app(self, monkeypatch: pytest.MonkeyPatch) -> Flask:
        """The site in this process, configured from the same environment."""
        for name, value in self.env.items():
            if name.startswith(("PCO_", "FLASK_")):
                monkeypatch.setenv(name, value)
        monkeypatch.syspath_prepend(str(self.folder))
        import stmarks  # type: ignore[import-not-found]

        return stmarks.create_app()  # type: ignore[no-any-return]


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxControl:
    control = sandbox_server.control
    control.reset(people=12, seed=5)
    control.set_faults()
    return control


@pytest.fixture
def forget_stmarks() -> Iterator[None]:
    """Each test imports the guide's package afresh (its folder is the test's own)."""
    yield
    for name in [n for n in sys.modules if n == "stmarks" or n.startswith("stmarks.")]:
        del sys.modules[name]


class LiveSite:
    """The site served on a free local port, as a reader's development server."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        with self.app.app_context():
            self.app.extensions["sqlalchemy"].engine.dispose()


def test_the_guides_start_up_error_is_the_one_a_site_gets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forget_stmarks: None
) -> None:
    GuideSite(tmp_path, "sqlite://", "http://127.0.0.1:9")
    monkeypatch.syspath_prepend(str(tmp_path))
    from stmarks.models import Member, db  # type: ignore[import-not-found]

    from flask_pco import PCO

    pco = PCO(db)
    pco.register_models(person=Member)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", SQLALCHEMY_DATABASE_URI="sqlite://")
    with pytest.raises(ConfigError) as failure:
        pco.init_app(app)
    shown = re.search(r"```text\nError: (.*?)\n```", guide())
    assert shown is not None
    assert str(failure.value) == shown.group(1)


def test_a_site_built_from_the_guide_pulls_pushes_takes_webhooks_and_shows_its_admin_page(
    tmp_path: Path,
    empty_database_url: str,
    sandbox_server: SandboxServer,
    sandbox: SandboxControl,
    monkeypatch: pytest.MonkeyPatch,
    forget_stmarks: None,
) -> None:
    riverside = sandbox.add_campus("Riverside")
    lydia = sandbox.add_person(
        first_name="Lydia",
        last_name="Thyatira",
        birthdate="1970-04-05",
        gender="F",
        nickname="Lyd",
        membership="Member",
        primary_campus_id=riverside,
        emails=["lydia@example.org"],
        phone_numbers=[{"number": "+15550104444", "location": "Work"}],
        custom_fields={"T-shirt size": "L"},
        addresses=[
            {"street_line_1": "1 Purple Row", "city": "Philippi", "zip": "11111"},
            {"street_line_1": "2 Dye Works", "city": "Thyatira", "location": "Work"},
        ],
    )
    sandbox.add_household([lydia], "Thyatira")
    site = GuideSite(tmp_path, empty_database_url, sandbox_server.url)
    live = None
    try:
        for line in console_lines():
            if any(skipped in line for skipped in NOT_RUN):
                continue
            if "db migrate" in line:  # as the guide says, a site without migrations yet:
                site.run("flask --app stmarks db init")
            if line.endswith("pco push full"):
                add_a_member_locally(site, monkeypatch)
            if "webhooks install" in line:
                live = LiveSite(site.app(monkeypatch))
                site.point("PCO_PUBLIC_URL", live.url)
            site.run(line)
        assert "connected to" in site.outputs["flask --app stmarks pco test-connection"]
        sandbox.edit_person(lydia, last_name="Philippi")
        sandbox.flush_webhooks()
        check_the_site(site, monkeypatch, sandbox, lydia)
    finally:
        if live is not None:
            live.stop()


def add_a_member_locally(site: GuideSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """A member typed into St Mark's own pages: the push creates them in PCO."""
    from datetime import date

    app = site.app(monkeypatch)
    from stmarks.models import Member, MemberEmail, db

    with app.app_context():
        dorcas = Member(
            given_name="Dorcas", surname="Joppa", birth_date=date(1980, 1, 2), shirt="S"
        )
        db.session.add(dorcas)
        db.session.flush()
        db.session.add(MemberEmail(member_id=dorcas.id, address="dorcas@example.org"))
        db.session.commit()
        db.engine.dispose()


def check_the_site(
    site: GuideSite, monkeypatch: pytest.MonkeyPatch, sandbox: SandboxControl, lydia: str
) -> None:
    app = site.app(monkeypatch)
    from stmarks.models import (
        Household,
        Member,
        MemberAddress,
        MemberEmail,
        MemberPhone,
        Site,
        Staff,
        db,
    )

    people = {p["id"]: p for p in sandbox.state()["records"]["Person"]}
    with app.app_context():
        # Pulled (and, for Lydia, changed by the webhook after the pull):
        member = db.session.scalar(select(Member).where(Member.pco_id == lydia))
        assert (member.given_name, member.surname, member.sex) == ("Lydia", "Philippi", "F")
        assert member.shirt == "L"  # PCO's "T-shirt size" custom field
        email = db.session.scalar(select(MemberEmail).where(MemberEmail.member_id == member.id))
        phone = db.session.scalar(select(MemberPhone).where(MemberPhone.member_id == member.id))
        assert (email.address, phone.number, phone.label) == (
            "lydia@example.org",
            "+15550104444",
            "Work",
        )
        # The more person fields, the campus and every address, under St Mark's own names:
        site = db.session.scalar(select(Site).where(Site.id == member.site_id))
        assert (member.preferred_name, member.membership_type, site.title) == (
            "Lyd",
            "Member",
            "Riverside",
        )
        lines = db.session.execute(
            select(MemberAddress.line1, MemberAddress.town, MemberAddress.label)
            .where(MemberAddress.member_id == member.id)
            .order_by(MemberAddress.line1)
        ).all()
        assert [tuple(line) for line in lines] == [
            ("1 Purple Row", "Philippi", "Home"),
            ("2 Dye Works", "Thyatira", "Work"),
        ]
        titles = set(db.session.scalars(select(Household.title)))
        assert "Thyatira" in titles
        # Pushed:
        dorcas = db.session.scalar(select(Member).where(Member.given_name == "Dorcas"))
        assert people[dorcas.pco_id]["last_name"] == "Joppa"
        data = sandbox.state()["records"]["FieldDatum"]
        assert [d["value"] for d in data if d["person_id"] == dorcas.pco_id] == ["S"]
        # Welcomed by the guide's person_pulled receiver: each member the pull brought in, once.
        from stmarks.welcome import WelcomeEmail  # type: ignore[import-not-found]

        welcomed = list(db.session.scalars(select(WelcomeEmail.member_id)))
        assert member.id in welcomed and dorcas.id not in welcomed
        assert len(welcomed) == len(set(welcomed))
        # The admin page, for the church office only:
        office = Staff(email="office@stmarks.example.org", is_admin=True)
        volunteer = Staff(email="volunteer@stmarks.example.org", is_admin=False)
        db.session.add_all([office, volunteer])
        db.session.commit()
        staff_ids = {staff.email: staff.id for staff in (office, volunteer)}
    # Outside the app context above: each request gets its own, as in a real server.
    pages = {email: admin_page(app, staff_id) for email, staff_id in staff_ids.items()}
    with app.app_context():
        db.engine.dispose()
    page = pages["office@stmarks.example.org"]
    assert page[0] == 200
    assert 'value="pull:full"' in page[1] and 'value="push:families"' in page[1]
    assert 'value="pull:groups"' not in page[1]
    assert "<code>shirt</code>" in page[1] and "two_way+keep_filled" in page[1]
    assert pages["volunteer@stmarks.example.org"][0] == 403


def admin_page(app: Flask, staff_id: int) -> tuple[int, str]:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(staff_id)
        session["_fresh"] = True
    response = client.get("/admin/pco-sync/")
    return response.status_code, response.get_data(as_text=True)
