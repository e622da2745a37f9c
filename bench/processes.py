"""Processes the chaos runs start and kill: RQ workers, the example app under waitress, and
the example app on a threaded server that can go away and come back (`Site`).

``python -m bench.processes`` is a worker's entry point; ``python -m bench.processes serve PORT
THREADS`` serves the app. Both read the app's config (JSON) from ``$PCO_BENCH_APP_CONFIG``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from bench.common import ROOT, build_app

#: Environment variable carrying a worker process's app config (JSON).
WORKER_CONFIG = "PCO_BENCH_APP_CONFIG"


class Workers:
    """``flask_pco.jobs.workers.make_worker`` processes, each its own session so SIGKILL takes the
    forked work horse too, as a machine dying would."""

    def __init__(
        self,
        config: dict[str, Any],
        count: int = 1,
        log_dir: Path | None = None,
        module: str = "bench.processes",
    ) -> None:
        self.module = module  # its ``__main__`` runs one worker of the app in $WORKER_CONFIG
        self.env = {**os.environ, WORKER_CONFIG: json.dumps(config), "PYTHONPATH": str(ROOT)}
        self._own_logs = log_dir is None  # a temporary folder, removed by stop()
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="pco-workers-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)  # --logs may name a new folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.started = 0
        for _ in range(count):
            self.processes.append(self._spawn())

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.started += 1
        with (self.log_dir / f"worker-{self.started}.log").open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", self.module],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def kill(self, index: int) -> None:
        """SIGKILL worker ``index`` and its work horse, then start a new one in its place."""
        process = self.processes[index]
        if process.poll() is None:
            kill_tree(process.pid)
        process.wait()
        self.processes[index] = self._spawn()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()  # a warm shut-down: RQ ends its work horse itself
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill_tree(process.pid)
                process.wait()
        if self._own_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and its descendants: RQ's work horse leaves the worker's process group
    (``setpgrp``), so killing the group would leave it running."""
    for victim in [*_descendants(pid), pid]:
        with suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    return found


def _serve_worker() -> None:
    """Entry point of a worker process: the app from ``$PCO_BENCH_APP_CONFIG``, one RQ worker."""
    from flask_pco.jobs.workers import run_worker

    app = build_app(json.loads(os.environ[WORKER_CONFIG]))
    with app.app_context():
        run_worker()  # as `flask pco worker`: waits out a Redis outage


@contextmanager
def waitress_process(config: dict[str, Any], threads: int = 4) -> Iterator[str]:
    """The example app under waitress in its own process on 127.0.0.1; yields its base URL."""
    import requests

    port = free_port()
    env = {**os.environ, WORKER_CONFIG: json.dumps(config), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bench.processes", "serve", str(port), str(threads)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with suppress(requests.RequestException):
                requests.get(url + "/", timeout=2)
                break
            if process.poll() is not None:
                raise RuntimeError("the waitress process ended at start-up")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _serve_http(port: int, threads: int) -> None:
    import logging

    from waitress import serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" on bursts
    serve(build_app(json.loads(os.environ[WORKER_CONFIG])), host="127.0.0.1", port=port,
          threads=threads)  # fmt: skip


class Site:
    """The example app behind a real HTTP server on a fixed port, which can go away and come
    back on the same address (PCO keeps posting to the URL it was given)."""

    def __init__(self, app: Any, port: int) -> None:
        self.app, self.port = app, port
        self.server: Any = None

    def up(self) -> None:
        self.server = make_server(
            "127.0.0.1", self.port, self.app, threaded=True, request_handler=_Quiet
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Quiet(WSGIRequestHandler):
    """No access log line per request: a chaos run posts hundreds."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        _serve_http(int(sys.argv[2]), int(sys.argv[3]))
    else:
        _serve_worker()
