"""Who runs a run, and whether that process is gone: what lets a killed run go at once.

A run row records the process that runs it (``begin_run``; for an RQ job that is the work
horse, the forked child that really runs it). A run whose process no longer exists on this
host can never finish, so the next look at the slot releases it instead of waiting out
``PCO_RUN_STALE_AFTER``. A process on another host cannot be looked at from here: such runs
keep the heartbeat rule.

A pid alone proves little: pids are reused, and two containers can share a host name without
sharing their processes. On Linux the row also keeps ``<boot id>:<pid namespace>:<start
time>``. Another boot means the process is gone (a reboot ends them all), another pid
namespace means "cannot tell", another start time means the pid now belongs to someone else.
Without ``/proc`` only the pid is asked about (``os.kill(pid, 0)``), and on Windows nothing is:
signal 0 there would end the process.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Runner", "process_gone", "process_identity", "this_runner"]

#: ``/proc/<pid>/stat`` states of a process that has ended but was not reaped yet.
_ENDED = ("Z", "X")


@dataclass(frozen=True, slots=True)
class Runner:
    """The process running a run, as recorded on its row."""

    host: str
    pid: int
    #: ``<boot id>:<pid namespace>:<start time>`` on Linux; None where that cannot be read.
    process: str | None


def this_runner() -> Runner:
    """This process, as a run row records it."""
    pid = os.getpid()
    return Runner(host=socket.gethostname()[:255], pid=pid, process=process_identity(pid))


def process_identity(pid: int) -> str | None:
    """What tells process ``pid`` apart from a later one given the same pid (Linux only)."""
    machine, stat = _machine(), _stat(pid)
    if machine is None or stat is None:
        return None
    return f"{machine}:{stat[1]}"


def process_gone(host: str | None, pid: int | None, process: str | None) -> bool | None:
    """True if the recorded process surely no longer runs, False if it still does, None if
    this process cannot tell (another host, another container, nothing recorded)."""
    if not host or pid is None or host != socket.gethostname():
        return None
    here = _machine()
    if process is not None and here is not None:
        machine, _, started = process.rpartition(":")
        if machine.split(":")[0] != here.split(":")[0]:
            return True  # the machine rebooted since: every process of that boot has ended
        if machine != here:
            return None  # same host name, other pid namespace: another container's process
        stat = _stat(pid)
        return stat is None or stat[0] in _ENDED or stat[1] != started
    return _pid_gone(pid)


def _pid_gone(pid: int) -> bool | None:
    if os.name == "nt":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    except OSError:
        return None
    return False


@cache
def _machine() -> str | None:
    """``<boot id>:<pid namespace>`` of this process (the same for its forks), or None."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    digits = "".join(c for c in namespace if c.isdigit())
    return f"{boot}:{digits}" if boot and digits else None


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) from ``/proc/<pid>/stat``, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the name may hold spaces and parentheses
    return (fields[0], fields[19]) if len(fields) > 19 else None
