"""Outbound: local people, families and group memberships → PCO, one module per kind of record.

Every push first looks PCO up (``remote_index``, ``matching``) so it links instead of creating a
duplicate, and reconciles a create whose outcome is unknown. It may import ``sync.pull`` (a
person pushed is matched as a pull would) and the shared ``sync`` modules, never
``sync.webhooks``, ``jobs`` or ``web``. Importing the package registers the steps.
"""

from __future__ import annotations

from flask_pco.sync.push import steps

__all__ = ["steps"]
