"""Runs in slices: a long run gives its worker back between batches, and goes on later.

On a site of many churches a few workers serve every church. A push of thousands of people is
mostly waiting for its church's rate budget, so a run that held its worker to the end would
leave the other churches' budgets idle. A run handed a ``Slicer`` (the RQ job of a church's
run is, ``flask_pco.jobs.slices``) asks it at each record boundary whether its slice is over;
when it is, the reporter commits the counts and the step's position, and ``SliceEnded`` ends
the job without closing the run: the run keeps its id and slot, and a continuation job of the
same run carries on from the position.

A step opts in by passing its position to ``RunReporter.checkpoint``: a position says "every
record up to here is done, whatever its outcome", so a continuation starts after it and never
goes through a failed or held record twice. A step that passes none is never sliced.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["POSITION_OPTION", "SliceEnded", "Slicer", "resume_after"]

#: The run option holding the position a continuation starts after.
POSITION_OPTION = "_slice_after"


class SliceEnded(Exception):
    """The run's slice is over: its progress is committed and a continuation goes on."""


class Slicer(Protocol):
    """Says when a run should give its worker back."""

    def due(self) -> bool:
        """Whether the slice is over (the church's budget is spent for now, or its time is up,
        and other work waits for a worker)."""
        ...

    def carry(self, name: str, text: str) -> None:
        """Keep ``text`` for the run's later slices (what a slice read and the next may reuse,
        such as the push's people index); best effort: a later slice may find nothing."""
        ...

    def carried(self, name: str) -> str | None:
        """What an earlier slice of the run kept under ``name``, if it is still there."""
        ...


def resume_after(options: dict[str, Any]) -> Any:
    """The position a continuation of the run starts after (None: from the start)."""
    return options.get(POSITION_OPTION)
