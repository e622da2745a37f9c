"""The run and the organisation a log record belongs to, as structured fields.

Every record a ``flask_pco`` logger writes while a run runs carries ``pco_run_id`` and
``pco_organization`` (None and "" outside a run): a JSON log formatter (python-json-logger,
structlog's stdlib bridge) ships them as fields, and a plain format can name them
(``%(pco_run_id)s``). Context variables, so threads and the run's nested steps each see
their own. Installed by ``PCO.init_app`` through the log-record factory, the hook the
``logging`` documentation gives for contextual fields; only flask-pco's records are touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["install", "log_context"]

_RUN: ContextVar[int | None] = ContextVar("pco_run_id", default=None)
_ORGANIZATION: ContextVar[str] = ContextVar("pco_organization", default="")
_PREFIX = "flask_pco"


@contextmanager
def log_context(run_id: int | None, organization: str) -> Iterator[None]:
    """Stamp flask-pco's log records with this run and organisation until the block ends."""
    run_token, organization_token = _RUN.set(run_id), _ORGANIZATION.set(organization)
    try:
        yield
    finally:
        _RUN.reset(run_token)
        _ORGANIZATION.reset(organization_token)


def install() -> None:
    """Wrap the log-record factory once per process (a second call changes nothing)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_pco_fields", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        if record.name == _PREFIX or record.name.startswith(_PREFIX + "."):
            record.pco_run_id = _RUN.get()
            record.pco_organization = _ORGANIZATION.get()
        return record

    factory._pco_fields = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
