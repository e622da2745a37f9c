"""The Webhooks card's action on the admin page: "Install webhooks", which does what
``flask pco webhooks install`` does. A route of the admin blueprint (its access check and
CSRF apply).
"""

from __future__ import annotations

from typing import Any

from flask_pco.exceptions import PcoError
from flask_pco.redaction import first_line
from flask_pco.state import current_pco
from flask_pco.web.admin import admin_blueprint, respond

__all__: list[str] = []


@admin_blueprint.post("/webhooks/install")
def install_webhooks_route() -> Any:
    """Create the missing subscriptions, reactivate the disabled ones, store their secrets."""
    from flask_pco.sync.webhooks.subscriptions import install_subscriptions, webhook_overview

    state = current_pco()
    try:
        result = install_subscriptions(state)
    except PcoError as error:
        message = f"Webhooks not installed: {first_line(error)}"
        return respond(message, "_webhook", level="error", webhook=webhook_overview(state))
    parts = [
        f"{len(names)} {label}"
        for label, names in (
            ("created", result.created),
            ("reactivated", result.reactivated),
            ("already installed", result.existing),
            ("not offered by PCO", result.unavailable),
        )
        if names
    ]
    message = f"Webhooks installed: {', '.join(parts) or 'nothing to do'}."
    return respond(message, "_webhook", "_health", level="success", webhook=webhook_overview(state))
