"""The nightly sync: an admin-set switch and hour, kept in the database, run by RQ's cron.

``flask pco scheduler`` runs RQ's ``CronScheduler`` with one entry, the nightly incremental
full pull. Two things differ from a cron config file:

* The entry is re-read from the ``pco_setting`` table before every check (about once a
  minute), because the admin changes the switch and the hour on a web page; there is no
  scheduler to restart.
* The hour is in the church's time zone (``PCO_TIME_ZONE``), whatever the server's clock says.
  RQ matches cron fields against the scheduler's local clock, so the entry keeps the readable
  expression (``0 2 * * *``) but computes its next time in the church's zone. Across daylight
  saving changes the sync stays at the same wall-clock hour; an hour that does not exist that
  night (clocks jump from 2:00 to 3:00) runs at 3:00, and an hour that happens twice runs once,
  the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_pco.exceptions import ConfigError
from flask_pco.state import current_pco

__all__ = [
    "NIGHTLY_JOB_NAME",
    "QUIET_NOTE",
    "Schedule",
    "get_schedule",
    "next_nightly_run",
    "set_schedule",
]

SETTING_KEY = "nightly_sync"
NIGHTLY_JOB_NAME = "flask-pco nightly sync"
DEFAULT_HOUR = 2
QUIET_NOTE = (
    "Overnight syncs change records in Planning Center while nobody is watching: PCO "
    "automations, workflows and any 'send immediately' messages they trigger can go out in "
    "the middle of the night. Check them before switching this on."
)


@dataclass(frozen=True)
class Schedule:
    """The nightly sync setting: on or off, and the hour in the church's time zone."""

    enabled: bool
    hour: int
    time_zone: str

    @property
    def cron(self) -> str:
        """The entry as a cron expression on the church's clock."""
        return f"0 {self.hour} * * *"

    @property
    def quiet_note(self) -> str:
        return QUIET_NOTE

    def next_run(self, after: datetime | None = None) -> datetime:
        return next_nightly_run(self.hour, self.time_zone, after or datetime.now(UTC))

    def describe(self) -> str:
        state = "on" if self.enabled else "off"
        return f"nightly sync {state}: every day at {self.hour:02d}:00 {self.time_zone}"


def get_schedule() -> Schedule:
    """The nightly sync setting; off at 02:00 until an admin sets it."""
    state = current_pco()
    setting = state.db.session.get(state.models.Setting, state.setting_key(SETTING_KEY))
    value = setting.value if setting is not None and isinstance(setting.value, dict) else {}
    return Schedule(
        enabled=bool(value.get("enabled", False)),
        hour=int(value.get("hour", DEFAULT_HOUR)),
        time_zone=state.time_zone(),
    )


def set_schedule(enabled: bool | None = None, hour: int | None = None) -> Schedule:
    """Switch the nightly sync on or off and/or move it; ``None`` keeps the current value."""
    if hour is not None and (
        isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23
    ):
        raise ConfigError(
            f"the nightly sync hour must be a whole number from 0 to 23, got {hour!r}"
        )
    current = get_schedule()
    value = {
        "enabled": current.enabled if enabled is None else bool(enabled),
        "hour": current.hour if hour is None else hour,
    }
    state = current_pco()
    state.db.session.merge(state.models.Setting(key=state.setting_key(SETTING_KEY), value=value))
    state.db.session.commit()
    return get_schedule()


def next_nightly_run(hour: int, time_zone: str, after: datetime) -> datetime:
    """The first ``hour``:00 on the church's clock strictly after ``after``, in UTC."""
    zone = ZoneInfo(time_zone)
    day = after.astimezone(zone).date()
    while True:
        # fold=0: a repeated hour means its first occurrence; a skipped one maps an hour later.
        candidate = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=1)
