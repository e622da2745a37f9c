"""flask-pco: two-way, real-time sync between a Flask site and Planning Center Online."""

from __future__ import annotations

from .config import settings_from_env
from .exceptions import (
    ApiError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    DatabaseBusyError,
    DocumentError,
    NotFoundError,
    PcoError,
    RateLimitError,
    ServerError,
    SyncCancelledError,
    SyncInProgressError,
    TransportError,
    ValidationError,
)
from .extension import PCO, PcoState, current_pco
from .models import PcoLinkedMixin, pco_id_index, pco_unlinked_index

__all__ = [
    "PCO",
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DatabaseBusyError",
    "DocumentError",
    "NotFoundError",
    "PcoError",
    "PcoLinkedMixin",
    "PcoState",
    "RateLimitError",
    "ServerError",
    "SyncCancelledError",
    "SyncInProgressError",
    "TransportError",
    "ValidationError",
    "current_pco",
    "pco_id_index",
    "pco_unlinked_index",
    "settings_from_env",
]
