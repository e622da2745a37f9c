"""``flask pco sandbox``: serve a local PCO emulator until interrupted."""

from __future__ import annotations

import click

from flask_pco.sandbox.app import create_sandbox_app
from flask_pco.sandbox.testing import SandboxServer
from flask_pco.sandbox.webhooks import SITE_EVENT_NAMES


@click.command("sandbox", help="Run a local emulator of the Planning Center API.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5055, show_default=True, type=int, help="Port to listen on.")
@click.option("--people", default=500, show_default=True, type=int, help="People to generate.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed for generated data.")
@click.option("--app-id", default="sandbox", show_default=True, help="HTTP Basic user (app id).")
@click.option("--secret", default="sandbox-secret", show_default=True, help="HTTP Basic password.")
@click.option("--rate-limit", default=100, show_default=True, type=int, help="Requests per window.")
@click.option("--rate-period", default=20, show_default=True, type=int, help="Window in seconds.")
@click.option(
    "--webhook-url",
    "webhook_urls",
    multiple=True,
    help="Subscribe this URL to People and Groups membership events (repeatable); prints the "
    "signing secret.",
)
def sandbox_command(
    host: str,
    port: int,
    people: int,
    seed: int,
    app_id: str,
    secret: str,
    rate_limit: int,
    rate_period: int,
    webhook_urls: tuple[str, ...],
) -> None:
    app = create_sandbox_app(
        people=people, seed=seed, app_id=app_id, secret=secret,
        rate_limit=rate_limit, rate_period=rate_period,
    )  # fmt: skip
    server = SandboxServer(app, host=host, port=port)
    click.echo(f"PCO sandbox on {server.url} ({people} people, seed {seed})")
    click.echo(f"  PCO_API_URL={server.url} PCO_APP_ID={app_id} PCO_SECRET={secret}")
    with server:
        for url in webhook_urls:
            secret = server.control.subscribe(url, names=list(SITE_EVENT_NAMES))
            click.echo(f"  webhooks -> {url} secret {secret}")
        _wait_forever()


def _wait_forever() -> None:
    import threading

    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("stopping")
