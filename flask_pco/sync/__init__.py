"""The sync engine: what moves between PCO and the local tables, and under which rules.

``pull/``, ``push/`` and ``webhooks/`` hold the three ways a change travels (``undo/`` reverts
what one of them journaled); beside them sit the
modules all three share: the run record (``runs``, ``cursors``, ``engine``, ``dry_run``),
matching and ownership (``matching``, ``policy``, ``rows``), and safety (``removals``,
``approvals``, ``holds``, ``busy``). It may import ``client``, ``mapping`` and the package's
base modules (``state``, ``models``, ``config``, ``exceptions``); never ``jobs``, ``web`` or
the CLI: what a run needs arrives as arguments (the state, a client, a session).
"""
