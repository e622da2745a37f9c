"""Checking the set-up: ``test-connection`` and ``config``; nothing here loads the queue."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from flask_pco.cli.common import one_line_errors
from flask_pco.client import test_connection
from flask_pco.redaction import redact_url
from flask_pco.state import current_pco

commands = AppGroup("pco")


@commands.command("test-connection")
def test_connection_command() -> None:
    """Check the PCO credentials: print the organisation and the rate-limit budget."""
    with one_line_errors():
        state = current_pco()
        info = test_connection(state.client())
        state.remember_time_zone(info.time_zone)
    click.echo(f"connected to {info.organization_name} (time zone {info.time_zone or 'unknown'})")
    if info.rate_limit:
        click.echo(
            f"rate limit: {info.rate_count or 0} of {info.rate_limit} requests used "
            f"in the current {info.rate_period}s window"
        )


@commands.command("config")
def config_command() -> None:
    """Show the effective flask-pco configuration, without secrets."""
    state = current_pco()
    config = state.config
    click.echo(f"PCO_API_URL      {redact_url(config.api_url)}")
    click.echo(f"credentials      {'configured' if config.has_credentials else 'not configured'}")
    if config.oauth_connect:
        connection = state.oauth_connection()
        shown = "not connected (admin page: Connect Planning Center)"
        if connection is not None:
            shown = f"{connection.organization_name} (organisation {connection.organization_id})"
            shown += f"; {connection.problem}" if connection.problem else ""
        click.echo(f"OAuth connection {shown}")
    click.echo(f"webhook secrets  {len(config.webhook_secrets)}")
    click.echo(f"PCO_REDIS_URL    {redact_url(config.redis_url) or '(none: jobs run inline)'}")
