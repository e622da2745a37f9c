"""A faithful local emulator of the Planning Center API (``flask pco sandbox``).

It imports nothing from the client, mapping or sync packages, so a misunderstanding on one
side cannot hide the same misunderstanding on the other.
"""

from __future__ import annotations

from flask_pco.sandbox.app import create_sandbox_app
from flask_pco.sandbox.testing import SandboxControl, SandboxServer
from flask_pco.sandbox.webhooks import sign_body

__all__ = ["SandboxControl", "SandboxServer", "create_sandbox_app", "sign_body"]
