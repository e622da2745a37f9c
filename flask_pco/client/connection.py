"""``test_connection``: one request that tells an admin whether the PCO settings work.

It asks ``GET /people/v2`` for the organisation and turns every failure into a ``PcoError``
whose message is one line saying what to fix: the credentials, the network, or the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_pco.client.session import PcoClient
from flask_pco.exceptions import (
    ApiError,
    AuthenticationError,
    ConfigError,
    DocumentError,
    PcoError,
    RateLimitError,
    ServerError,
    TransportError,
)

__all__ = ["ConnectionInfo", "test_connection"]


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What PCO said about the organisation and the rate budget."""

    organization_name: str
    time_zone: str
    rate_limit: int | None
    rate_period: int | None
    rate_count: int | None


def test_connection(client: PcoClient) -> ConnectionInfo:
    """Fetch the organisation; raise a ``PcoError`` with a one-line reason if that fails."""
    try:
        document = client.get("/people/v2")
    except AuthenticationError as exc:
        raise AuthenticationError(
            exc.status, exc.errors, message=f"bad credentials: {exc}"
        ) from exc
    except TransportError as exc:
        raise TransportError(f"cannot reach {client.base_url}: {exc}") from exc
    except ServerError as exc:
        # PCO's own trouble, not a wrong URL: the settings may be fine.
        raise ServerError(
            exc.status,
            exc.errors,
            message=f"PCO answered HTTP {exc.status}, a problem on its side that is usually "
            "brief; the settings may be right: try again in a minute",
        ) from exc
    except RateLimitError as exc:
        raise RateLimitError(
            exc.status,
            exc.errors,
            retry_after=exc.retry_after,
            message="PCO's rate limit for these credentials is used up by other work right "
            "now; try again in a minute",
        ) from exc
    except (DocumentError, ApiError) as exc:
        raise _not_pco(client, str(exc)) from exc
    organization = next((r for r in document.data if r.type == "Organization"), None)
    if organization is None:
        raise _not_pco(client, "GET /people/v2 returned no Organization")
    info = client.rate_info
    return ConnectionInfo(
        organization_name=str(organization.get("name") or ""),
        time_zone=str(organization.get("time_zone") or ""),
        rate_limit=info.limit if info else None,
        rate_period=info.period if info else None,
        rate_count=info.count if info else None,
    )


def _not_pco(client: PcoClient, reason: str) -> PcoError:
    return ConfigError(
        f"{client.base_url} does not answer like the PCO API ({reason}); check PCO_API_URL"
    )


# pytest would otherwise collect this function wherever a test module imports it.
test_connection.__test__ = False  # type: ignore[attr-defined]
