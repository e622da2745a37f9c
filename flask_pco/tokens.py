"""The church's OAuth connection to PCO, stored encrypted in the settings table.

One ``pco_setting`` row holds the connected organisation (not secret: the page shows it) and
the token pair, encrypted with Fernet under ``PCO_TOKEN_KEY``, so a copied database or backup
does not hand over the church's PCO account.

PCO rotates the refresh token on every refresh: the old one stops working. Every process
(web, CLI, each RQ worker) therefore refreshes under one lock (Redis when there is one, else a
lock on the setting row itself) and reads the stored token again once it holds the lock: if
another process refreshed meanwhile, its token is adopted instead of spending a dead one.

Sits beside the client (it never talks HTTP) and below the state, which wires it in.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from flask_pco.exceptions import AuthenticationError, ConfigError
from flask_pco.models import utcnow

if TYPE_CHECKING:
    from redis import Redis
    from sqlalchemy import Engine

__all__ = ["RECONNECT", "SETTING_KEY", "OAuthConnection", "TokenStore"]

#: The setting row of the connection.
SETTING_KEY = "oauth:connection"

#: What every failure that only a new connection can cure tells the admin to do.
RECONNECT = "reconnect Planning Center on the admin page"

#: Longest a refresh may hold the lock; PCO answers a refresh in well under this.
LOCK_SECONDS = 60


@dataclass(frozen=True, slots=True)
class OAuthConnection:
    """What the admin page shows of the connection; no secret in it."""

    organization_id: str
    organization_name: str
    connected_at: str
    #: Why PCO stopped honouring the connection (a revoked or expired refresh token), or "".
    problem: str = ""

    @property
    def connected_since(self) -> datetime | None:
        """``connected_at`` as a time, for the page's own formatting."""
        try:
            return datetime.fromisoformat(self.connected_at)
        except ValueError:
            return None


class TokenStore:
    """Reads and writes the connection row; ``refresh_lock`` serialises refreshes."""

    def __init__(
        self,
        engine: Engine,
        setting: Any,
        key: str,
        redis: Redis | None,
        setting_key: str = SETTING_KEY,
    ) -> None:
        if not key:
            raise ConfigError("PCO_TOKEN_KEY is not set: OAuth tokens are stored encrypted with it")
        # The engine itself, not ``db``: the client refreshes from threads with no app context
        # (the pull's page prefetcher).
        self._engine = engine
        self._table = setting.__table__
        #: The setting row: one per church on a site of many (``PcoState.setting_key``).
        self._setting_key = setting_key
        from cryptography.fernet import Fernet  # a site without OAuth never loads it

        self._fernet = Fernet(key)
        self._redis = redis
        #: The connection holding the row lock, per thread, while a refresh runs under it.
        self._held = threading.local()

    # -- reading -----------------------------------------------------------------------------

    def connection(self) -> OAuthConnection | None:
        """The connection as stored now (another process may have changed it)."""
        row = self._row()
        if row is None:
            return None
        return OAuthConnection(
            organization_id=str(row.get("organization_id", "")),
            organization_name=str(row.get("organization_name", "")),
            connected_at=str(row.get("connected_at", "")),
            problem=str(row.get("problem") or ""),
        )

    def token(self) -> dict[str, Any] | None:
        """The stored token pair, decrypted; None when there is none or it cannot be read."""
        from cryptography.fernet import InvalidToken

        row = self._row()
        if row is None or not row.get("token"):
            return None
        try:
            value = json.loads(self._fernet.decrypt(str(row["token"]).encode()))
        except InvalidToken:
            raise ConfigError(
                f"the stored PCO token does not decrypt with PCO_TOKEN_KEY (was the key "
                f"changed?): {RECONNECT}"
            ) from None
        return value if isinstance(value, dict) else None

    # -- writing -----------------------------------------------------------------------------

    def connect(self, token: Mapping[str, Any], organization_id: str, name: str) -> None:
        """Store a new connection, replacing any other."""
        row = {
            "organization_id": organization_id,
            "organization_name": name,
            "connected_at": datetime.now(UTC).isoformat(),  # also tells two connects apart
            "problem": "",
            "token": self._encrypt(token),
        }
        self._write(row, replace=True)

    def save_token(self, token: Mapping[str, Any]) -> None:
        """Keep a refreshed pair at once: the refresh token it replaces is already dead."""
        row = self._row()
        if row is not None:
            self._write({**row, "token": self._encrypt(token), "problem": ""})

    def refused(self, error: AuthenticationError) -> None:
        """Remember that PCO refused the refresh token: runs stop, the page asks to reconnect."""
        row = self._row()
        if row is not None:
            self._write({**row, "problem": str(error).splitlines()[0]})

    def delete(self) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(self._table).where(self._table.c.key == self._setting_key))

    # -- the refresh lock --------------------------------------------------------------------

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        """Held by one process (and one thread) at a time around read-stored-then-refresh."""
        if self._redis is not None:
            lock = self._redis.lock(
                f"pco:oauth-refresh:{self._setting_key}",
                timeout=LOCK_SECONDS,
                blocking_timeout=LOCK_SECONDS,
            )
            with lock:
                yield
            return
        with self._row_lock():
            yield

    @contextmanager
    def _row_lock(self) -> Iterator[None]:
        """Without Redis: an UPDATE of the row takes its lock (PostgreSQL) or the database's
        write lock (SQLite) until commit. What is written under it commits even when the
        refresh fails, so a refusal is remembered."""
        connection = self._engine.connect()
        transaction = connection.begin()
        try:
            connection.execute(
                update(self._table)
                .where(self._table.c.key == self._setting_key)
                .values(updated_at=utcnow())
            )
            self._held.connection = connection
            yield
        finally:
            self._held.connection = None
            try:
                transaction.commit()
            finally:
                connection.close()

    # -- rows --------------------------------------------------------------------------------

    def _encrypt(self, token: Mapping[str, Any]) -> str:
        return str(self._fernet.encrypt(json.dumps(dict(token)).encode()).decode())

    def _row(self) -> dict[str, Any] | None:
        query = select(self._table.c.value).where(self._table.c.key == self._setting_key)
        held: Connection | None = getattr(self._held, "connection", None)
        if held is not None:
            value = held.execute(query).scalar()
        else:
            with self._engine.connect() as connection:
                value = connection.execute(query).scalar()
        return value if isinstance(value, dict) else None

    def _write(self, row: dict[str, Any], *, replace: bool = False) -> None:
        held: Connection | None = getattr(self._held, "connection", None)
        if held is not None:
            _put(held, self._table, self._setting_key, row, replace)
            return
        with self._engine.begin() as connection:
            _put(connection, self._table, self._setting_key, row, replace)


def _put(connection: Connection, table: Any, key: str, row: dict[str, Any], replace: bool) -> None:
    where = table.c.key == key
    if replace:
        connection.execute(delete(table).where(where))
        connection.execute(insert(table).values(key=key, value=row, updated_at=utcnow()))
        return
    connection.execute(update(table).where(where).values(value=row, updated_at=utcnow()))
