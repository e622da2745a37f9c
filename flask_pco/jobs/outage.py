"""Redis may be down at any moment: how the page, the CLI and the workers say so.

Redis holds only the queue and the shared rate-limit budget; the runs, deliveries and their
outcomes live in the database. So a Redis outage delays work but loses none of it: a queued
run keeps its slot until a worker can take its job, and every look at RQ that is only advisory
(is this run's job still alive?) treats "Redis does not answer" as "cannot tell", never as
"the job is gone".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from flask_pco.config import url_without_password

if TYPE_CHECKING:
    from flask_pco.state import PcoState

__all__ = [
    "redis_down_message",
    "redis_problem",
    "redis_unreachable",
]


def redis_unreachable(state: PcoState, error: BaseException | None = None) -> str:
    """Which Redis (password masked) does not answer, and how it failed."""
    where = url_without_password(state.config.redis_url)
    detail = str(error).splitlines()[0] if error is not None and str(error) else ""
    return f"Redis at {where} does not answer" + (f" ({detail})" if detail else "")


def redis_down_message(state: PcoState, error: BaseException | None = None) -> str:
    """One line: which Redis does not answer, what waits meanwhile, and what to do."""
    return (
        f"{redis_unreachable(state, error)}: queued runs wait, and nothing new can be queued "
        "until it is back; start Redis or fix PCO_REDIS_URL"
    )


def redis_problem(state: PcoState) -> str | None:
    """``redis_down_message`` if Redis is configured and does not answer a PING, else None."""
    redis = state.redis()
    if redis is None:
        return None
    try:
        redis.ping()
    except RedisError as error:
        return redis_down_message(state, error)
    return None
