"""Which church of a site of many a webhook delivery is for.

PCO posts every church's deliveries to the one webhook URL. Each subscription a church
installs (``flask pco --organization ID webhooks install``) has its own signing secret, so
the secret that verifies a delivery names its church. A delivery signed with a site-wide
``PCO_WEBHOOK_SECRET`` instead goes to the church whose OAuth connection is to the PCO
organisation the delivery names.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flask_pco.tenancy import ALL_ORGANIZATIONS, organization_of_key
from flask_pco.tokens import SETTING_KEY

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flask_pco.state import PcoState

__all__ = ["church_of_deliveries", "signing_church"]


def signing_church(site: PcoState, raw: bytes, signature: str | None) -> str | None:
    """The church whose subscription's secret signed ``raw``, or None."""
    from flask_pco.web.webhook import sign_body

    given = (signature or "").strip().lower().encode("utf-8", "replace")
    Subscription = site.models.WebhookSubscription
    query = (
        select(Subscription.organization, Subscription.secret)
        .where(Subscription.organization != "")
        .distinct()
        .execution_options(**{ALL_ORGANIZATIONS: True})
    )
    found = None
    for key, secret in site.db.session.execute(query).all():  # every secret costs the same
        if secret and given and hmac.compare_digest(sign_body(raw, secret).encode(), given):
            found = organization_of_key(key)
    return found


def church_of_deliveries(site: PcoState, deliveries: Sequence[Any]) -> str | None:
    """The church connected to the PCO organisation all ``deliveries`` name, or None."""
    named = {delivery.organization_id for delivery in deliveries}
    if len(named) != 1 or None in named:
        return None
    Setting = site.models.Setting
    rows = site.db.session.execute(
        select(Setting.key, Setting.value).where(Setting.key.like(f"%:{SETTING_KEY}"))
    ).all()
    for key, value in rows:
        if isinstance(value, dict) and str(value.get("organization_id")) in named:
            return organization_of_key(key.removesuffix(f":{SETTING_KEY}"))
    return None
