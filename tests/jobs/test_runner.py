"""Whether the process recorded on a run row still runs: this host's processes only."""

from __future__ import annotations

import os
import socket

import pytest

from flask_pco.sync import runner as runner_module
from flask_pco.sync.runner import process_gone, process_identity, this_runner
from tests.helpers import dead_runner

linux_only = pytest.mark.skipif(process_identity(os.getpid()) is None, reason="needs /proc")


def test_this_process_is_not_gone() -> None:
    me = this_runner()
    assert (me.host, me.pid) == (socket.gethostname(), os.getpid())
    assert process_gone(me.host, me.pid, me.process) is False


def test_a_process_that_ended_is_gone() -> None:
    ended = dead_runner()
    assert process_gone(ended.host, ended.pid, ended.process) is True


def test_a_process_that_ended_is_gone_even_without_its_identity() -> None:
    ended = dead_runner()
    assert process_gone(ended.host, ended.pid, None) is True


def test_a_process_on_another_host_cannot_be_judged() -> None:
    ended = dead_runner()
    assert process_gone("another-host.example", ended.pid, ended.process) is None
    assert process_gone(None, ended.pid, None) is None


@linux_only
def test_a_reused_pid_is_not_taken_for_the_recorded_process() -> None:
    me = this_runner()
    machine, _, started = str(me.process).rpartition(":")
    earlier = f"{machine}:{int(started) - 1}"  # another process had this pid before
    assert process_gone(me.host, me.pid, earlier) is True


@linux_only
def test_a_process_of_an_earlier_boot_is_gone() -> None:
    me = this_runner()
    _, namespace, started = str(me.process).split(":")
    assert process_gone(me.host, me.pid, f"another-boot:{namespace}:{started}") is True


@linux_only
def test_a_process_of_another_container_with_the_same_host_name_cannot_be_judged() -> None:
    me = this_runner()
    boot, _, started = str(me.process).split(":")
    assert process_gone(me.host, me.pid, f"{boot}:1:{started}") is None


def test_without_proc_only_the_pid_is_asked_about(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "_machine", lambda: None)
    ended, me = dead_runner(), this_runner()
    assert me.process is None
    assert process_gone(ended.host, ended.pid, ended.process) is True
    assert process_gone(me.host, me.pid, None) is False
