"""Run the sandbox in a thread (tests, the README demo) and drive its control surface."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, cast

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from flask_pco.sandbox.core import Sandbox
from flask_pco.sandbox.organizations import ORGANIZATION_HEADER


class SandboxControl:
    """A thin ``requests`` wrapper over ``/_sandbox/*``; close it (or use ``with``) when done."""

    def __init__(self, url: str, timeout: float = 30.0, organization: str | None = None) -> None:
        self.url = url.rstrip("/") + "/_sandbox"
        self.timeout = timeout
        self.session = requests.Session()
        if organization is not None:  # another church of a sandbox holding several
            self.session.headers[ORGANIZATION_HEADER] = organization

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(method, self.url + path, json=body, timeout=self.timeout)
        response.raise_for_status()
        return response.json() if response.content else None

    def _object(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return cast(dict[str, Any], self._call(method, path, body))

    def _list(self, path: str) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._call("GET", path))

    def reset(self, people: int = 0, seed: int = 1) -> dict[str, Any]:
        return self._object("POST", "/reset", {"people": people, "seed": seed})

    def load_scenario(self, scenario: dict[str, Any]) -> dict[str, Any]:
        return self._object("POST", "/scenario", scenario)

    def add_person(self, **attributes: Any) -> str:
        return str(self._call("POST", "/people", attributes)["id"])

    def add_campus(self, name: str, **attributes: Any) -> str:
        return str(self._call("POST", "/campuses", {"name": name, **attributes})["id"])

    def add_address(self, person_id: str, **attributes: Any) -> str:
        """Give a person one more address "in PCO" (``street_line_1=..., location="Work"``)."""
        return str(self._call("POST", f"/people/{person_id}/addresses", attributes)["id"])

    def add_household(
        self, people: list[str], name: str = "Household", primary_contact: str | None = None
    ) -> str:
        body = {"people": people, "name": name, "primary_contact": primary_contact}
        return str(self._call("POST", "/households", body)["id"])

    def add_household_member(self, household_id: str, person_id: str) -> str:
        """Join a household "in PCO" (bumps the household, not the person)."""
        body = {"person_id": person_id}
        return str(self._call("POST", f"/households/{household_id}/members", body)["id"])

    def add_group_membership(self, group_id: str, person_id: str, role: str = "member") -> str:
        """Join a Groups group "in PCO" (one ``membership.created`` webhook)."""
        body = {"person_id": person_id, "role": role}
        return str(self._call("POST", f"/groups/{group_id}/memberships", body)["id"])

    def set_field(self, person_id: str, field: str, value: Any) -> list[str]:
        """Give a person a custom field's value "in PCO" (a list checks several boxes); the
        value is stored as given, valid for the field's type or not. The FieldDatum ids."""
        body = {"field": field, "value": value}
        return [str(i) for i in self._call("POST", f"/people/{person_id}/field_data", body)["ids"]]

    def edit(self, kind: str, record_id: str, **changes: Any) -> dict[str, Any]:
        return self._object("PATCH", f"/{kind}/{record_id}", changes)

    def edit_person(self, person_id: str, **changes: Any) -> dict[str, Any]:
        return self.edit("people", person_id, **changes)

    def edit_email(self, email_id: str, **changes: Any) -> dict[str, Any]:
        return self.edit("emails", email_id, **changes)

    def edit_phone_number(self, phone_id: str, **changes: Any) -> dict[str, Any]:
        return self.edit("phone_numbers", phone_id, **changes)

    def edit_household(self, household_id: str, **changes: Any) -> dict[str, Any]:
        return self.edit("households", household_id, **changes)

    def edit_group_membership(self, membership_id: str, **changes: Any) -> dict[str, Any]:
        return self.edit("group_memberships", membership_id, **changes)

    def delete(self, kind: str, record_id: str) -> None:
        self._call("DELETE", f"/{kind}/{record_id}")

    def delete_person(self, person_id: str) -> None:
        self.delete("people", person_id)

    def merge_people(self, keep_id: str, remove_id: str) -> str:
        return str(self._call("POST", "/merge", {"keep_id": keep_id, "remove_id": remove_id})["id"])

    def state(self, records: bool = True) -> dict[str, Any]:
        return self._object("GET", "/state" + ("" if records else "?records=0"))

    def requests(self) -> list[dict[str, Any]]:
        return self._list("/requests")

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def set_rate_limit(self, limit: int, period: int) -> None:
        self._call("POST", "/rate_limit", {"limit": limit, "period": period})

    def set_faults(
        self,
        latency_ms: int = 0,
        error_rate: float = 0.0,
        timeout_rate: float = 0.0,
        storm_seconds: float = 0,
        timeout_seconds: float = 3.0,
        lost_answer_rate: float = 0.0,
        lost_answer_seconds: float = 0.0,
        slow_read_seconds: float = 0.0,
        seed: int | None = None,
        error_methods: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Replace every fault switch (the defaults are all off); returns what is now in force.

        ``lost_answer_rate``: share of successful writes carried out in full whose answer is
        replaced by a 504 (after ``lost_answer_seconds``). ``slow_read_seconds``: how long
        every GET's answer is held after PCO read its records. ``seed`` makes the dice repeatable.
        ``error_methods`` limits ``error_rate`` to those methods (``("PATCH", "POST")``: reads
        work, writes fail).
        """
        body = {"latency_ms": latency_ms, "error_rate": error_rate, "timeout_rate": timeout_rate,
                "storm_seconds": storm_seconds, "timeout_seconds": timeout_seconds,
                "lost_answer_rate": lost_answer_rate, "lost_answer_seconds": lost_answer_seconds,
                "slow_read_seconds": slow_read_seconds, "seed": seed,
                "error_methods": list(error_methods)}  # fmt: skip
        return dict(self._call("POST", "/faults", body))

    def set_clock(self, at: str | None) -> None:
        """Stamp every change with ``at`` (ISO 8601), or with the real time again (None)."""
        self._call("POST", "/clock", {"at": at})

    def set_denied_apps(self, *apps: str) -> None:
        """Make the credential's user lack access to these apps (``"groups"``, ``"check-ins"``)."""
        self._call("POST", "/access", {"denied_apps": list(apps)})

    def subscribe(self, url: str, names: list[str] | None = None) -> str:
        """Active subscriptions for ``url``; returns their shared authenticity secret."""
        return str(
            self._call("POST", "/webhooks/subscribe", {"url": url, "names": names})["secret"]
        )

    def edit_subscription(self, subscription_id: str, **changes: Any) -> dict[str, Any]:
        """Change a subscription as PCO would: ``active=False`` (PCO gave up on it), or a new
        ``authenticity_secret`` (rotated in PCO's UI; ``None`` draws a fresh random one)."""
        return self.edit("subscriptions", subscription_id, **changes)

    def delete_subscription(self, subscription_id: str) -> None:
        """Remove a subscription, as someone deleting it in PCO's UI."""
        self.delete("subscriptions", subscription_id)

    def flush_webhooks(self, timeout: float = 15.0) -> None:
        self._call("POST", "/webhooks/flush", {"timeout": timeout})

    def set_webhook_chaos(
        self, duplicate_rate: float = 0.0, shuffle: bool = False, delay_ms: int = 0
    ) -> None:
        body = {"duplicate_rate": duplicate_rate, "shuffle": shuffle, "delay_ms": delay_ms}
        self._call("POST", "/webhooks/chaos", body)

    def deliveries(self) -> list[dict[str, Any]]:
        return self._list("/webhooks/deliveries")

    def oauth_counts(self) -> dict[str, int]:
        """Codes exchanged and refreshes granted so far, and access tokens not revoked."""
        return cast(dict[str, int], self._call("GET", "/oauth"))

    def set_oauth(
        self,
        auto_approve: bool,
        access_seconds: float = 7200,
        refresh_delay: float = 0.0,
        organization: str | None = None,
    ) -> None:
        """Approve authorize requests without the consent page (for ``organization``, else the
        first); access-token lifetime; how long a refresh takes."""
        body = {"auto_approve": auto_approve, "access_seconds": access_seconds,
                "refresh_delay": refresh_delay, "organization": organization}  # fmt: skip
        self._call("POST", "/oauth", body)

    def expire_access_tokens(self) -> None:
        self._call("POST", "/oauth/expire")

    def revoke_all_grants(self) -> None:
        self._call("POST", "/oauth/revoke_all")

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _QuietHandler(WSGIRequestHandler):
    """No per-request access log: the sandbox keeps its own request log."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class SandboxServer:
    """A threaded werkzeug server for a sandbox app on 127.0.0.1 (a free port unless given)."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://{host}:{self._server.server_port}"
        for sandbox in cast(dict[str, Sandbox], app.extensions["pco_sandboxes"]).values():
            sandbox.settings.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="pco-sandbox",
            daemon=True,
        )
        self._control: SandboxControl | None = None
        self._controls: dict[str, SandboxControl] = {}

    @property
    def sandbox(self) -> Sandbox:
        return cast(Sandbox, self.app.extensions["pco_sandbox"])

    @property
    def control(self) -> SandboxControl:
        if self._control is None:
            self._control = SandboxControl(self.url)
        return self._control

    def control_for(self, organization: str) -> SandboxControl:
        """The control surface of one organisation of a sandbox holding several."""
        if organization not in self._controls:
            self._controls[organization] = SandboxControl(self.url, organization=organization)
        return self._controls[organization]

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, then stop the webhook thread; safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
        self.sandbox.webhooks.stop()
        if self._control is not None:
            self._control.close()
            self._control = None
        for other in self._controls.values():
            other.close()
        self._controls.clear()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.stop()
