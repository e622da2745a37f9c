"""The CLI on a site of many churches needs to be told the church a command is for."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from flask_pco.state import current_pco
from tests.churches_site import Member, churches_db


def test_a_sync_without_a_church_names_the_option_and_the_churches(site: Flask) -> None:
    result = site.test_cli_runner().invoke(args=["pco", "sync", "people"])

    assert result.exit_code == 2
    assert "flask pco --organization ID sync" in result.output
    assert "churches connected to Planning Center: 1, 2" in result.output


def test_a_sync_without_a_church_changes_nothing(site: Flask) -> None:
    site.test_cli_runner().invoke(args=["pco", "sync", "people"])

    state = current_pco()  # the whole site: no church's filter
    state.db.session.rollback()
    assert state.db.session.scalar(select(func.count()).select_from(state.models.SyncRun)) == 0
    assert churches_db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_a_command_of_the_whole_site_needs_no_church(site: Flask) -> None:
    result = site.test_cli_runner().invoke(args=["pco", "config"])

    assert result.exit_code == 0, result.output
