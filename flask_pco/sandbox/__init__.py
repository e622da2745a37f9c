"""A faithful local emulator of the Planning Center API (``flask pco sandbox``).

It imports nothing from the client, mapping or sync packages, so a misunderstanding on one
side cannot hide the same misunderstanding on the other.
"""

from __future__ import annotations

from .app import create_sandbox_app
from .testing import SandboxControl, SandboxServer
from .webhooks import sign_body

__all__ = ["SandboxControl", "SandboxServer", "create_sandbox_app", "sign_body"]
