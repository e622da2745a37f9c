"""Inbound: PCO → local tables, one module per pull step (people, families, groups, calendar).

Steps read PCO through the client, map with ``mapping`` and write through ``sync.rows`` under
the ownership policy. They may import the shared ``sync`` modules beside this package, never
``sync.push``, ``sync.webhooks``, ``jobs`` or ``web``. Importing the package registers the steps.
"""

from __future__ import annotations

from flask_pco.sync.pull import calendar, campuses, families, groups, people

__all__ = ["calendar", "campuses", "families", "groups", "people"]
