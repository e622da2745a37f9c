"""Runs and webhook applications in a thread of this process, and waiting for a run to end.

``mode="thread"`` (the CLI; a site without Redis) runs work in a daemon thread with its own app
context. The CLI follows such a run and learns it ended when its thread does, not on a poll.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import current_app

from flask_pco.exceptions import PcoError
from flask_pco.redaction import first_line, redact, redacted_traceback
from flask_pco.state import current_pco
from flask_pco.tenancy import use_organization

__all__ = ["in_thread", "run_in_thread", "wait_for_run"]

#: The queue's logger, where these messages were logged before they moved here.
log = logging.getLogger("flask_pco.jobs.queue")


def in_thread(function: Any, *args: Any) -> threading.Thread:
    """Run ``function(*args)`` in a daemon thread with its own app context; whatever it
    raises is logged (without member data), its row having recorded it already."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A thread does not inherit context variables: it works for the caller's church.
    organization = current_pco().organization

    def target() -> None:
        with app.app_context(), use_organization(organization):
            try:
                function(*args)
            except PcoError as error:  # recorded on the run row or the delivery already
                log.info("flask-pco background work ended: %s", redact(error))
            except Exception as error:  # recorded on its row too; no member data in logs
                log.warning("flask-pco background work failed: %s", first_line(error))
                log.debug("%s", redacted_traceback(error))

    thread = threading.Thread(target=target, name="flask-pco", daemon=True)
    thread.start()
    return thread


#: The thread of each run this process runs in one (``mode="thread"``). An ended thread
#: stays until a wait sees it ended or the next run starts, so a run that ends before its
#: watcher looks is still known to have ended.
_run_threads: dict[int, threading.Thread] = {}


def run_in_thread(run_id: int, thread: threading.Thread) -> None:
    """Note the thread running ``run_id`` (and forget those that ended unwatched)."""
    for ended, old in list(_run_threads.items()):
        if not old.is_alive():
            _run_threads.pop(ended, None)
    _run_threads[run_id] = thread


def wait_for_run(run_id: int, timeout: float) -> None:
    """Return as soon as the run this process runs in a thread ends, or after ``timeout``.

    The CLI learns a run ended the moment its thread does, instead of on its next look at
    the run row. A run of another process just waits ``timeout``.
    """
    thread = _run_threads.get(run_id)
    if thread is None:
        time.sleep(timeout)
        return
    thread.join(timeout)
    if not thread.is_alive():
        _run_threads.pop(run_id, None)
