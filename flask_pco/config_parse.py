"""Reading one ``PCO_*`` value: each parser takes the raw setting (text from the environment
or a Python value from ``app.config``), checks it and raises a ``ConfigError`` whose one line
names the key and the fix. ``config`` says which key uses which parser.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_pco.exceptions import ConfigError
from flask_pco.redaction import redact_url

__all__ = [
    "MAX_TIMEOUT", "emails", "flag", "integer", "list_of", "optional_https_url", "optional_url",
    "redis_url", "seconds", "secrets", "string", "time_zone", "token_key", "url", "versions",
    "whole",
]  # fmt: skip


def token_key(config: Mapping[str, Any]) -> str:
    """PCO_TOKEN_KEY, which an OAuth app needs: tokens are never stored in the clear."""
    key = string(config, "PCO_TOKEN_KEY")
    if string(config, "PCO_OAUTH_CLIENT_ID") and not key:
        raise ConfigError(
            "PCO_TOKEN_KEY is not set: connecting Planning Center with OAuth stores tokens "
            'encrypted with it; make one with `python -c "from cryptography.fernet import '
            'Fernet; print(Fernet.generate_key().decode())"`'
        )
    if key:
        from cryptography.fernet import Fernet

        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                "PCO_TOKEN_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return key


#: One address as a mail set-up takes it: no display name, spaces, commas or angle brackets.
_EMAIL = re.compile(r"[^@\s,<>\"']+@[^@\s,<>\"'.]+(?:\.[^@\s,<>\"'.]+)+")


def emails(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """Email addresses, checked at start-up so a typo does not surface as a lost alert."""
    addresses = list_of(config, key)
    for address in addresses:
        if not _EMAIL.fullmatch(address):
            raise ConfigError(f"{key} must be email addresses separated by commas, got {address!r}")
    return addresses


def optional_https_url(config: Mapping[str, Any], key: str) -> str:
    """An https URL or nothing: a chat webhook's URL is its password, so it is never sent in
    clear, and the message names only its scheme."""
    value = string(config, key)
    parts = urlsplit(value)
    if value and (parts.scheme != "https" or not parts.netloc):
        given = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise ConfigError(f"{key} must be an https:// URL of a chat tool's webhook, got {given}")
    return value


def list_of(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A list setting given as a list or as one comma-separated string (the environment)."""
    value = config.get(key)
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise ConfigError(f"{key} must be a comma-separated string or a list of strings")


def string(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {type(value).__name__}")
    return value.strip()


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def flag(config: Mapping[str, Any], key: str) -> bool:
    """A bool, or its text as the environment gives it (``true``/``false``, ``1``/``0``,
    ``yes``/``no``, ``on``/``off``, any case)."""
    value = config.get(key)
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ConfigError(f"{key} must be true or false, got {value!r}")


def secrets(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(s.strip() for s in value.split(",") if s.strip())
    if isinstance(value, list | tuple) and all(isinstance(s, str) for s in value):
        return tuple(s.strip() for s in value if s.strip())
    raise ConfigError("PCO_WEBHOOK_SECRET must be a string, a comma-separated string or a list")


def url(config: Mapping[str, Any], key: str, schemes: tuple[str, ...]) -> str:
    value = string(config, key)
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ConfigError(f"{key} must be an absolute {allowed} URL, got {redact_url(value)!r}")
    return value.rstrip("/")


def optional_url(config: Mapping[str, Any], key: str) -> str:
    return url(config, key, ("http", "https")) if string(config, key) else ""


def redis_url(config: Mapping[str, Any]) -> str:
    if not string(config, "PCO_REDIS_URL"):
        return ""
    return url(config, "PCO_REDIS_URL", ("redis", "rediss", "unix"))


def integer(config: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = config.get(key)
    number = whole(value)
    if number is None or not low <= number <= high:
        raise ConfigError(f"{key} must be a whole number from {low} to {high}, got {value!r}")
    return number


def whole(value: Any) -> int | None:
    """An ``int``, or the text of one in ASCII digits (as the environment gives it); anything
    else (a bool, a float, ``"١٢"``, thousands of digits) is None, never a traceback."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
    return None


#: The longest PCO_TIMEOUT: a request PCO has not answered in ten minutes never will, and a
#: socket refuses a timeout too large for its clock.
MAX_TIMEOUT = 600.0


def seconds(config: Mapping[str, Any], key: str, high: float) -> float:
    """A finite number of seconds above 0 and at most ``high``: ``nan`` and ``inf`` parse as
    floats, and would make every request wait forever or fail in the socket layer."""
    value = config.get(key)
    number = -1.0
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with suppress(ValueError, OverflowError):
            number = float(value)
    if not (math.isfinite(number) and 0 < number <= high):
        raise ConfigError(
            f"{key} must be a number of seconds above 0 and at most {high:g}, got {value!r}"
        )
    return number


def versions(value: Any, defaults: Mapping[str, str]) -> Mapping[str, str]:
    merged = dict(defaults)
    if not isinstance(value, Mapping):
        raise ConfigError("PCO_API_VERSIONS must map a PCO app name to a YYYY-MM-DD version")
    merged.update(value)
    return merged


def time_zone(config: Mapping[str, Any]) -> str:
    """A tz database name, or "" for the organisation's own (``PcoState.time_zone``)."""
    name = string(config, "PCO_TIME_ZONE")
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"PCO_TIME_ZONE must be a tz database name such as 'America/New_York', got {name!r}"
        ) from None
    return name
