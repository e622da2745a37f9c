"""``flask_pco.redaction``: what every message goes through before a person can read it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from flask_pco.redaction import (
    RedactedError,
    first_line,
    raise_redacted,
    redact,
    redact_url,
    redacted_traceback,
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://user:hunter2@cache/1", "redis://user:***@cache/1"),
        ("https://app:hunter2@api.example.org/people", "https://app:***@api.example.org/people"),
        (
            "https://api.example.org/x?access_token=hunter2&a=1",
            "https://api.example.org/x?access_token=***&a=1",
        ),
        ("https://api.planningcenteronline.com", "https://api.planningcenteronline.com"),
        ("", ""),
    ],
)
def test_redact_url_masks_passwords_and_tokens_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def refused_insert(database_url: str) -> DBAPIError:
    """A real driver error for a row holding a member's name and birthdate."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TEMPORARY TABLE member (name TEXT UNIQUE, born TEXT)"))
            row = {"name": "Ann Plantedname", "born": "1980-02-03"}
            connection.execute(text("INSERT INTO member VALUES (:name, :born)"), row)
            connection.execute(text("INSERT INTO member VALUES (:name, :born)"), row)
    except DBAPIError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError("the second insert was not refused")


def test_a_database_error_keeps_its_reason_without_the_row(database_url: str) -> None:
    error = refused_insert(database_url)
    assert "Plantedname" in str(error)  # what the driver and SQLAlchemy put in the message

    message = redact(error)

    assert "Plantedname" not in message and "1980-02-03" not in message
    assert "unique" in message.lower()


def test_first_line_is_redacted() -> None:
    assert (
        first_line(ValueError("GET https://a:pw@x/y failed\nmore"))
        == "GET https://a:***@x/y failed"
    )


def test_raise_redacted_re_raises_an_error_with_nothing_to_hide() -> None:
    original = ValueError("plain")
    with pytest.raises(ValueError) as raised:
        raise_redacted(original)
    assert raised.value is original


def test_raise_redacted_replaces_an_error_that_quotes_a_password() -> None:
    with pytest.raises(RedactedError, match=r"ValueError: redis://:\*\*\*@cache") as raised:
        raise_redacted(ValueError("redis://:hunter2@cache refused"))
    assert "hunter2" not in str(raised.value) and raised.value.__cause__ is None


#: Only in a variable: a traceback shows source lines, and a password belongs in config, not code.
SECRET = "".join(reversed("2retnuh"))


def fail_with(message: str) -> None:
    raise ValueError(message)


def test_redacted_traceback_names_the_frames_not_the_values() -> None:
    try:
        fail_with(f"redis://:{SECRET}@cache refused")
    except ValueError as error:
        report = redacted_traceback(error)
    assert "in fail_with" in report
    assert SECRET not in report
