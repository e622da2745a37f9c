"""``flask pco webhooks install|status``: this site's PCO webhook subscriptions."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from flask_pco.exceptions import PcoError
from flask_pco.jobs.churches import can_reach_pco
from flask_pco.state import current_pco
from flask_pco.sync.webhooks.subscriptions import (
    install_subscriptions,
    refresh_subscriptions,
    subscription_statuses,
    webhook_gap_due,
    webhook_overview,
    webhook_url,
)

commands = AppGroup("pco")


@commands.group("webhooks")
def webhooks_group() -> None:
    """PCO webhook subscriptions for this site."""


@webhooks_group.command("install")
def webhooks_install_command() -> None:
    """Create the missing PCO subscriptions for PCO_PUBLIC_URL and store their secrets."""
    state = current_pco()
    try:
        result = install_subscriptions(state)
    except PcoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"webhook URL  {webhook_url(state)}")
    for label, names in (
        ("created", result.created),
        ("reactivated", result.reactivated),
        ("already installed", result.existing),
        ("not offered by PCO", result.unavailable),
    ):
        for name in names:
            click.echo(f"{label:<19}{name}")


@webhooks_group.command("status")
@click.option(
    "--refresh/--no-refresh",
    default=True,
    help="Ask PCO which subscriptions are still active (PCO disables failing ones silently).",
)
def webhooks_status_command(refresh: bool) -> None:
    """List the subscriptions, whether each is active and its last delivery; warn of a gap."""
    state = current_pco()
    if refresh and can_reach_pco(state):
        try:
            refresh_subscriptions(state)
        except PcoError as error:
            click.echo(f"warning: could not ask PCO for the subscriptions ({error})", err=True)
    statuses = subscription_statuses(state)
    if not statuses:
        click.echo("no subscriptions installed: run `flask pco webhooks install`")
    for status in statuses:
        last = _when(status.last_delivery_at)
        click.echo(f"{status.name:<46}{'active' if status.active else 'INACTIVE':<10}{last}")
    click.echo(f"last delivery (UTC): {_when(webhook_overview(state).last_delivery_at)}")
    if webhook_gap_due(state):
        click.echo(
            "warning: no delivery for longer than PCO_WEBHOOK_GAP; the hourly housekeeping "
            "(`flask pco scheduler`) catches up, or run `flask pco sync people --incremental`",
            err=True,
        )


def _when(moment: object) -> str:
    return moment.isoformat(" ", "seconds") if moment is not None else "never"  # type: ignore[attr-defined]
