"""The one ``limits`` internal the shared budget relies on still looks as we patch it."""

from __future__ import annotations

from limits.storage import RedisStorage

from flask_pco.client import ratelimit


def test_limits_still_expires_its_moving_window_with_a_whole_second_expire() -> None:
    assert b"redis.call('expire', KEYS[1], expiry)" in RedisStorage.SCRIPT_ACQUIRE_MOVING_WINDOW


def test_the_fractional_window_patch_applies() -> None:
    assert ratelimit._FRACTIONAL_REDIS
