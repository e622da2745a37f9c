"""``flask pco health``: the admin page's Health section on a terminal, for cron and monitoring.

Exit code 0 when healthy, 1 when degraded, failing or stale, so a check can alert on it.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from flask_pco.jobs.health import health
from flask_pco.state import current_pco

commands = AppGroup("pco")


@commands.command("health")
def health_command() -> None:
    """Say how the sync is doing: healthy, degraded, failing or stale, and why (exit 1 unless
    healthy)."""
    report = health(current_pco())
    click.echo(f"health: {report.state}")
    for reason in report.reasons:
        click.echo(f"  - {reason}")
    click.echo(f"last successful pull (UTC): {_when(report.last_pull)}")
    click.echo(f"last successful push (UTC): {_when(report.last_push)}")
    click.echo(f"last webhook delivery (UTC): {_when(report.last_delivery)}")
    for group in report.groups:
        ids = ", ".join(str(i.pco_id or f"#{i.local_id}") for i in group.issues[:5])
        more = f" and {group.count - 5} more" if group.count > 5 else ""
        click.echo(f"{group.label}\n    records: {ids}{more}")
    if not report.healthy:
        raise SystemExit(1)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(" ", "seconds") if moment is not None else "never"
