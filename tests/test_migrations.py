"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    name = f"flask_pco_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def migrated_app(empty_database_url: str):
    from example_app import create_app
    from example_app.models import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        yield app
        db.engine.dispose()  # before the database is dropped under its pooled connections


def test_migrations_and_models_agree(migrated_app) -> None:
    from example_app.models import db

    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert differences == []


def test_an_upgrade_run_in_process_leaves_the_sites_loggers_on(empty_database_url: str) -> None:
    import logging

    from example_app import create_app

    # The logger exists before the upgrade, as a running site's do.
    site_logger = logging.getLogger("flask_pco.jobs.alerts")
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        app.extensions["sqlalchemy"].engine.dispose()
    assert not site_logger.disabled


def test_migrations_downgrade_to_an_empty_database(migrated_app) -> None:
    from example_app.models import db

    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_rows_from_before_many_churches_belong_to_the_single_church(empty_database_url) -> None:
    from example_app import create_app
    from example_app.models import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="e8b4f1c2d6a7")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO pco_conflict (role, local_id, field, detected_at) "
                    "VALUES ('person', 1, 'last_name', '2026-12-01 10:00:00')"
                )
            )

        upgrade(revision="b1d3f5a7c9e2")

        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT organization FROM pco_conflict")).all() == [("",)]
        db.engine.dispose()
