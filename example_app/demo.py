"""``flask --app example_app demo``: a real full sync against an embedded PCO sandbox.

The first thing a church developer runs: no credentials, no Redis, nothing to set up. The sandbox
serves generated people on a local port for the length of the command, the site's flask-pco
configuration is pointed at it, and the same code path as ``flask pco sync full`` does the rest.
"""

from __future__ import annotations

import dataclasses

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from flask_pco import current_pco

from .models import ChurchGroup, Family, Person, db


@click.command("demo")
@click.option("--people", default=300, show_default=True, help="People in the generated sandbox.")
@click.option("--seed", default=1, show_default=True, help="Seed for the generated data.")
@click.pass_context
@with_appcontext
def demo_command(ctx: click.Context, people: int, seed: int) -> None:
    """Pull a generated church from an embedded PCO sandbox into this site's database."""
    # Imported here: every other command of the site loads this module without needing them.
    from flask_pco.cli.runs import sync_command
    from flask_pco.sandbox import SandboxServer, create_sandbox_app

    state = current_pco()
    with SandboxServer(create_sandbox_app(people=people, seed=seed)) as server:
        state.config = dataclasses.replace(
            state.config,
            api_url=server.url,
            app_id="sandbox",
            secret="sandbox-secret",
            redis_url="",
        )
        state.cache.clear()  # drop any client built for the real PCO
        click.echo(f"PCO sandbox with {people} generated people at {server.url}")
        ctx.invoke(sync_command, sync_type="full")
    counts = {
        name: db.session.scalar(select(func.count()).select_from(model))
        for name, model in (("people", Person), ("families", Family), ("groups", ChurchGroup))
    }
    click.echo("this site now has " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    click.echo(
        "see them: flask --app example_app create-admin you@example.org, then flask --app example_app run"
    )
