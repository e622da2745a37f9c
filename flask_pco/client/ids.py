"""PCO ids in URL paths.

A PCO id is a positive whole number sent as text ("12345"). Ids that come from outside (the CLI,
the admin form, a webhook payload, a column the host may write) are checked with ``is_pco_id``
before anything is asked of PCO, and every id that goes into a path goes through ``path_id``,
so ``../../x`` or ``4%2F2`` can never reach another endpoint than the one meant.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

__all__ = ["MAX_ID_DIGITS", "is_pco_id", "path_id"]

#: PCO ids fit a signed 64-bit integer: at most 19 digits.
MAX_ID_DIGITS = 19


def is_pco_id(value: Any) -> bool:
    """Whether ``value`` is a PCO id as text: ASCII digits, not starting with 0."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_DIGITS
        and value.isascii()
        and value.isdigit()
        and value[0] != "0"
    )


def path_id(value: Any) -> str:
    """``value`` as one URL path segment: every character that is not plain is escaped."""
    return quote(str(value), safe="")
