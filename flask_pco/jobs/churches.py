"""Jobs on a site of many churches: the church each job carries, and the churches the site's
own jobs (hourly housekeeping) run for: every church that has connected Planning Center, or,
on a single-church site, that church; and whether a church can talk to PCO at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flask_pco.state import PcoState
from flask_pco.tenancy import organization_key, organization_of_key
from flask_pco.tokens import SETTING_KEY

__all__ = [
    "ORGANIZATION_META",
    "can_reach_pco",
    "connected_churches",
    "each_church",
    "job_meta",
    "refused_connection",
]

#: The job meta key naming the church a job works for.
ORGANIZATION_META = "pco_organization"


def job_meta(state: PcoState) -> dict[str, Any]:
    """What a job carries besides its arguments: the church it works for (the worker uses
    it, ``AppWorker.perform_job``), on a site of many."""
    return {} if state.organization is None else {ORGANIZATION_META: state.organization}


def connected_churches(state: PcoState) -> list[str]:
    """Every church of a site of many with a stored OAuth connection, by its id."""
    Setting = state.models.Setting
    suffix = f":{SETTING_KEY}"
    pattern = f"{organization_key('')}%{suffix}"
    keys = state.db.session.scalars(select(Setting.key).where(Setting.key.like(pattern))).all()
    found = (organization_of_key(key.removesuffix(suffix)) for key in keys)
    return sorted({church for church in found if church is not None})


def each_church(state: PcoState) -> list[str | None]:
    """``[None]`` (the site's own church) unless the site serves many."""
    if state.extension._organization_loader is None:
        return [None]
    return list(connected_churches(state))


def can_reach_pco(state: PcoState) -> bool:
    """Whether the church's client has a credential: the site's configured one (its own
    church only), or the church's stored OAuth connection (a church of a site of many has
    only that, and so may a single church)."""
    if state.organization is None and state.config.has_credentials:
        return True
    return state.config.oauth_connect and state.oauth_connection() is not None


def refused_connection(state: PcoState) -> str:
    """Why PCO refuses the church's stored OAuth connection (its grant revoked, its refresh
    token expired: it says "reconnect Planning Center"), or "" while it does not."""
    if not state.config.oauth_connect:
        return ""
    connection = state.oauth_connection()
    return connection.problem if connection is not None else ""
