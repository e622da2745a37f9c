"""Keeping secrets and member data out of what flask-pco writes for people to read.

Every message that leaves the package (the CLI, logs, run and delivery rows, issue reasons, the
admin page) goes through ``redact``: passwords and tokens inside URLs become ``***``, and a
database error keeps its first line only, without the statement, its parameters or PostgreSQL's
``DETAIL`` (``Key (email)=(ann@example.org) already exists``, ``Failing row contains (...)``).
"""

from __future__ import annotations

import re
import traceback
from typing import NoReturn

__all__ = [
    "RedactedError",
    "first_line",
    "raise_redacted",
    "redact",
    "redact_url",
    "redacted_traceback",
]

#: ``scheme://user:password@`` (or ``scheme://:password@``): the password part.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):([^/\s@]+)@")
#: ``password=...``, ``token=...`` and the like, in a query string or a message.
_SECRET_PARAMETER = re.compile(
    r"(?i)\b((?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token"
    r"|api_key|apikey)=)([^&\s'\"]+)"
)
#: Where SQLAlchemy starts appending the statement and its parameters to a message.
_STATEMENT = re.compile(r"\s*\[(?:SQL|parameters): ", re.S)
#: PostgreSQL's detail and hint lines, which quote the row's values.
_DETAIL = re.compile(r"(?m)^\s*(?:DETAIL|HINT|CONTEXT):.*$\n?")
MASK = "***"


def redact_url(url: object) -> str:
    """``url`` with any password or token shown as ``***``; the rest as configured."""
    return _SECRET_PARAMETER.sub(rf"\1{MASK}", _URL_PASSWORD.sub(rf"\1:{MASK}@", str(url or "")))


def redact(message: object) -> str:
    """A message safe to show or store: no credentials, no database statement or values."""
    text = str(message or "")
    statement = _STATEMENT.search(text)
    if statement is not None:
        text = text[: statement.start()]
    return redact_url(_DETAIL.sub("", text)).strip()


def redacted_traceback(error: BaseException) -> str:
    """Where ``error`` was raised (the frames carry no values) and its redacted message, for a
    log that must still help a developer."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"Traceback (most recent call last):\n{frames}{type(error).__name__}: {redact(error)}"


def first_line(error: object) -> str:
    """The redacted first line of an error: what a person needs to read."""
    text = redact(error)
    return text.splitlines()[0] if text else type(error).__name__


class RedactedError(Exception):
    """Raised in place of an error whose message quoted secrets or a database row's values."""


def raise_redacted(error: BaseException) -> NoReturn:
    """Raise ``error`` again, or a ``RedactedError`` saying the same without what it quoted:
    for the edge of a job, whose exception RQ writes to the worker's log."""
    message = redact(error)
    if message == str(error).strip():
        raise error
    raise RedactedError(f"{type(error).__name__}: {message}") from None
