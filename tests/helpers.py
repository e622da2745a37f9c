"""Helpers shared by test modules and by the subprocesses some tests start."""

from __future__ import annotations

from typing import Any

#: The sandbox's default credentials (``create_sandbox_app`` defaults).
SANDBOX_CREDENTIALS = {"PCO_APP_ID": "sandbox", "PCO_SECRET": "sandbox-secret"}
#: A budget no test reaches, for tests about data rather than rate.
NO_RATE_LIMIT = {"PCO_RATE_LIMIT": 100_000, "PCO_RATE_PERIOD": 1}
#: Apps ``make_app`` made during the current test (here, not in conftest: pytest imports the
#: root conftest as ``conftest`` while test modules import it as ``tests.conftest``).
APPS_MADE: list[Any] = []


def sandbox_settings(url: str, **config: Any) -> dict[str, Any]:
    """PCO_* settings pointing the example app at a sandbox, plus any overrides."""
    return {"PCO_API_URL": url, **SANDBOX_CREDENTIALS, **config}


def dead_runner() -> Any:
    """A process of this host that has ended, as the run row it ran would have recorded it."""
    import socket
    import subprocess
    import sys

    from flask_pco.sync.runner import Runner, process_identity

    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        return Runner(socket.gethostname(), process.pid, process_identity(process.pid))
    finally:
        process.kill()
        process.wait()
