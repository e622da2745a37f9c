"""The example site as a `flask pco worker` serves it, plus one event that kills its work horse.

``flask --app tests/sync/webhooks/worker_app.py pco worker --burst`` with the test's DATABASE_URL,
PCO_REDIS_URL and sandbox settings in the environment. A ``people.v2.events.crash.created``
delivery (``CRASH_EVENT`` in ``test_batch.py``) ends the work horse as a segfault or the kernel's OOM killer would, the first time
only: the file named by ``CRASH_MARKER`` records the crash, and a later try applies it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from example_app import create_app
from flask_pco.sync.webhooks.handlers import HANDLERS


def crash_once(ctx: Any, delivery: Any) -> tuple[str, str | None]:
    marker = Path(os.environ["CRASH_MARKER"])
    tries = marker.read_text() if marker.exists() else ""
    marker.write_text(tries + "x")
    if not tries:
        os._exit(1)
    return "applied", f"applied on try {len(tries) + 1}"


HANDLERS["crash"] = crash_once
app = create_app()
