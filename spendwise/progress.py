"""Progress of long computations, counted in the units of work of the engine that runs them.

An engine that can run long (the NUTS sampler, the bootstrap, the convex
program) takes an optional ``progress`` callback and calls it as
``progress(done, total, note)``: ``done`` of ``total`` units (draws,
replicates, steps) are finished, and ``note`` says in a few words what runs
now (``"tuning"``, ``"markov: bootstrap"``). Within one run ``total`` stays
fixed, ``done`` never decreases and the last call has ``done == total``.

The engines know nothing of who listens: the job queue records the calls
(:meth:`api.jobs.JobContext.progress`) and the command line draws them
(:mod:`api.cli.progress`). Engines may call often (PyMC after every draw of
every chain), so a listener that does anything costly throttles itself.
"""

from __future__ import annotations

import math
from typing import Protocol


class Progress(Protocol):
    """A progress callback: ``done`` of ``total`` units finished, ``note`` what runs now.

    The arguments are positional, so any function of three arguments (the last
    one with a default) is a ``Progress``.
    """

    def __call__(self, done: int, total: int, note: str = "", /) -> None: ...


def ignore(done: int, total: int, note: str = "") -> None:
    """A progress callback that does nothing: what an engine calls when nobody listens."""


def part(progress: Progress, start: int, size: int, total: int, prefix: str = ""
         ) -> Progress:
    """Report a sub-task as the units ``start`` to ``start + size`` of a parent's ``total``.

    The sub-task's ``(done, sub_total, note)`` becomes
    ``(start + round(size * done / sub_total), total, prefix + note)``, so ``size``
    units of the parent stand for the whole sub-task, whatever it counts in.

    Examples
    --------
    The second of three models, each bootstrapped with 200 replicates:

    >>> seen = []
    >>> second = part(lambda d, t, n="": seen.append((d, t, n)), 200, 200, 600, "shapley: ")
    >>> second(50, 200, "bootstrap")
    >>> seen
    [(250, 600, 'shapley: bootstrap')]
    """

    def report(done: int, sub_total: int, note: str = "") -> None:
        within = size if sub_total <= 0 else round(size * min(done, sub_total) / sub_total)
        progress(start + within, total, prefix + note)

    return report


def fraction(done: float, total: float) -> float:
    """``done / total`` clipped to ``[0, 1]``; a task of no units is finished."""
    if total <= 0:
        return 1.0
    return min(max(done / total, 0.0), 1.0)


def seconds_left(elapsed: float, share: float) -> float | None:
    """Seconds still to go, if the work goes on at the pace it went so far.

    ``elapsed * (1 - share) / share`` for a ``share`` of the work done in
    ``elapsed`` seconds; ``0`` when all is done and ``None`` (unknown) before
    anything is.
    """
    if not (math.isfinite(share) and math.isfinite(elapsed)) or share <= 0 or elapsed < 0:
        return None
    if share >= 1:
        return 0.0
    return elapsed * (1.0 - share) / share
