"""Fixtures for the sandbox tests: one real sandbox server per session, reset before each test,
an authenticated ``requests`` session, and a local webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from flask_pco.sandbox import SandboxControl, SandboxServer, create_sandbox_app

APP_ID, SECRET = "sandbox", "sandbox-secret"
BEARER = "test-bearer-token-123"
PEOPLE = 20


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture(scope="session")
def server() -> Iterator[SandboxServer]:
    app = create_sandbox_app(
        people=PEOPLE, seed=1, bearer_tokens=(BEARER,), webhook_retry_delays=(0.05, 0.1)
    )
    with SandboxServer(app) as running:
        yield running


@pytest.fixture
def control(server: SandboxServer) -> SandboxControl:
    """The control client, with the sandbox back to its starting state."""
    control = server.control
    control.reset(people=PEOPLE, seed=1)
    control.set_rate_limit(10_000, 20)
    control.set_faults()
    control.set_webhook_chaos()
    control.clear_requests()
    return control


@pytest.fixture
def url(server: SandboxServer, control: SandboxControl) -> str:
    return server.url


@pytest.fixture
def api(control: SandboxControl) -> Iterator[requests.Session]:
    """A session authenticated with the sandbox's default app id and secret."""
    with requests.Session() as session:
        session.auth = (APP_ID, SECRET)
        yield session


@dataclass
class Receiver:
    """A local webhook endpoint recording raw bodies and headers; answers from ``statuses``."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.received.append({"body": request.get_data(), "headers": dict(request.headers)})
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    httpd: BaseWSGIServer = make_server(
        "127.0.0.1", 0, receiver, threaded=True, request_handler=_Quiet
    )
    receiver.url = f"http://127.0.0.1:{httpd.server_port}/hooks"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield receiver
    httpd.shutdown()
    thread.join()
    httpd.server_close()
