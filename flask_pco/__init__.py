"""flask-pco: two-way, real-time sync between a Flask site and Planning Center Online."""

from __future__ import annotations

from flask_pco.config import settings_from_env
from flask_pco.exceptions import (
    ApiError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    DatabaseBusyError,
    DocumentError,
    NotFoundError,
    OrganizationUnknownError,
    PcoError,
    RateLimitError,
    ServerError,
    SyncCancelledError,
    SyncInProgressError,
    TransportError,
    ValidationError,
)
from flask_pco.extension import PCO
from flask_pco.models import PcoLinkedMixin, pco_id_index, pco_unlinked_index
from flask_pco.signals import (
    conflict_recorded,
    family_changed,
    membership_changed,
    person_deactivated,
    person_pulled,
    person_pushed,
    run_finished,
    run_started,
)
from flask_pco.state import PcoState, current_pco

__all__ = [
    "PCO",
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DatabaseBusyError",
    "DocumentError",
    "NotFoundError",
    "OrganizationUnknownError",
    "PcoError",
    "PcoLinkedMixin",
    "PcoState",
    "RateLimitError",
    "ServerError",
    "SyncCancelledError",
    "SyncInProgressError",
    "TransportError",
    "ValidationError",
    "conflict_recorded",
    "current_pco",
    "family_changed",
    "membership_changed",
    "pco_id_index",
    "pco_unlinked_index",
    "person_deactivated",
    "person_pulled",
    "person_pushed",
    "run_finished",
    "run_started",
    "settings_from_env",
]
