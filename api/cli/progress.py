"""Progress of a long command on standard error: a bar in a terminal, plain lines otherwise.

A :class:`ProgressDisplay` is the progress callback an engine calls
(:mod:`spendwise.progress`). Nothing is shown for the first :data:`DELAY`
seconds, so a command that ends sooner stays silent; then the newest state is
shown, even if the engine is quiet for a while (a model compiling). After that:

* in a terminal (``stream.isatty()``), one line redrawn in place with ``\\r``,
  at most every :data:`REDRAW_SECONDS`::

      spendwise: fit [####................]  20%  1,200/6,000 draws, about 40 s left, sampling

* otherwise (a log file, a pipe, CI), a plain line whenever another 10% is
  done or :data:`LINE_SECONDS` have passed with something new::

      spendwise: fit: sampling, 1,200 of 6,000 draws (20%), about 40 s left

The time left assumes the work goes on at its pace since the first unit was
done (a fit's compilation is not counted as pace); it is shown as at least a
second. :meth:`ProgressDisplay.close` ends the bar's line, and says how long it
took if anything was shown.
"""

from __future__ import annotations

import math
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from spendwise.progress import fraction, seconds_left

#: Seconds of silence before anything is shown.
DELAY = 2.0
#: Least seconds between two redraws of the bar.
REDRAW_SECONDS = 0.1
#: Most seconds between two plain lines while something changes.
LINE_SECONDS = 5.0
#: Plain lines are also written each time this share more of the work is done.
LINE_STEP = 0.1
BAR_WIDTH = 20


def percent(done: int, total: int) -> int:
    """Whole percent done, rounded down: 100 only when all is done."""
    return math.floor(100 * fraction(done, total) + 1e-9)


def duration(seconds: float) -> str:
    """``"40 s"``, ``"3 min 20 s"``, ``"1 h 05 min"``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


class ProgressDisplay:
    """Shows the progress of one command on ``stream`` (default standard error).

    Parameters
    ----------
    label
        The command, as in ``spendwise: fit: ...``.
    unit
        What the engine counts, plural: ``"draws"``, ``"replicates"``, ``"steps"``.
    stream
        Where to write; a bar when its ``isatty()`` is true.
    eta
        Whether to estimate the time left (not for a few uneven steps).
    clock
        Seconds on a monotonic clock (tests pass a fake one).
    wake
        Show the state once :data:`DELAY` seconds have passed even if the engine
        calls no more (a timer thread); tests turn it off and call :meth:`wake`.
    """

    def __init__(self, label: str, unit: str, *, stream: TextIO | None = None,
                 eta: bool = True, clock: Callable[[], float] = time.monotonic,
                 wake: bool = True) -> None:
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.eta = eta
        self.clock = clock
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = clock()
        self.shown = False
        self.state = (0, 0, "")
        self._pace: tuple[float, int] | None = None  # (time, done) when units began to count
        self._last_time = -float("inf")
        self._last_state: tuple[int, int, str] | None = None
        self._last_share = 0.0
        self._width = 0
        self._lock = threading.Lock()
        self._closed = False
        self._timer: threading.Timer | None = None
        self._wakes = wake

    def __call__(self, done: int, total: int, note: str = "") -> None:
        """Take the engine's progress and show it if it is due."""
        with self._lock:
            now = self.clock()
            self.state = (int(done), int(total), note)
            if self._pace is None and done > 0:
                self._pace = (now, int(done))
            if self._wakes and self._timer is None and not self.shown:
                self._timer = threading.Timer(max(0.0, DELAY - (now - self.started)),
                                              self.wake)
                self._timer.daemon = True
                self._timer.start()
            if now - self.started < DELAY or self.state == self._last_state:
                return
            if self.tty:
                if now - self._last_time >= REDRAW_SECONDS or done >= total or \
                        note != self._last_state_note():
                    self._draw(now)
            elif self._line_due(now):
                self._line(now)

    def wake(self) -> None:
        """Show the newest state if nothing is shown yet and :data:`DELAY` has passed."""
        with self._lock:
            now = self.clock()
            if self._closed or self.shown or now - self.started < DELAY:
                return
            if self.tty:
                self._draw(now)
            else:
                self._line(now)

    # -- what is shown ------------------------------------------------------------------

    def text(self, now: float) -> str:
        """The progress in words: ``sampling, 1,200 of 6,000 draws (20%), about 40 s left``."""
        done, total, note = self.state
        parts = [note] if note else []
        parts.append(f"{done:,} of {total:,} {self.unit} ({percent(done, total)}%)")
        left = self.seconds_left(now)
        if left is not None and done < total:
            parts.append(f"about {duration(max(left, 1.0))} left")
        return ", ".join(parts)

    def seconds_left(self, now: float) -> float | None:
        """Seconds to go at the pace since the first unit was done; ``None`` if unknown."""
        done, total, _ = self.state
        if not self.eta or self._pace is None:
            return None
        since, first = self._pace
        if done <= first or total <= first:
            return None
        return seconds_left(now - since, (done - first) / (total - first))

    def bar(self, now: float) -> str:
        """The terminal line: label, bar, percentage, counts, time left and note."""
        done, total, note = self.state
        filled = BAR_WIDTH * percent(done, total) // 100
        parts = [f"spendwise: {self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
                 f"{percent(done, total):3d}%  {done:,}/{total:,} {self.unit}"]
        left = self.seconds_left(now)
        if left is not None and done < total:
            parts.append(f"about {duration(max(left, 1.0))} left")
        if note:
            parts.append(note)
        line = ", ".join(parts)
        columns = shutil.get_terminal_size((80, 24)).columns
        return line[:max(columns - 1, 20)]

    # -- writing ------------------------------------------------------------------------

    def _last_state_note(self) -> str:
        return "" if self._last_state is None else self._last_state[2]

    def _line_due(self, now: float) -> bool:
        done, total, _ = self.state
        share = fraction(done, total)
        return (not self.shown or share >= self._last_share + LINE_STEP
                or now - self._last_time >= LINE_SECONDS)

    def _line(self, now: float) -> None:
        self._write(f"spendwise: {self.label}: {self.text(now)}\n", now)
        self._last_share = fraction(self.state[0], self.state[1])

    def _draw(self, now: float) -> None:
        line = self.bar(now)
        self._write("\r" + line.ljust(self._width), now)
        self._width = len(line)

    def _write(self, text: str, now: float) -> None:
        self.stream.write(text)
        self.stream.flush()
        self.shown = True
        self._last_time = now
        self._last_state = self.state

    def close(self) -> None:
        """End the display: if anything was shown, the last state and how long it took."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if not self.shown:
                return
            now = self.clock()
            done, total, _ = self.state
            took = f"in {duration(now - self.started)}"
            if self.tty:
                self._draw(now)
                self.stream.write(f", {took}\n" if done >= total else "\n")
            elif done >= total:
                self.stream.write(f"spendwise: {self.label}: {done:,} {self.unit} {took}\n")
            self.stream.flush()
            self.shown = False


@contextmanager
def showing(label: str, unit: str, *, quiet: bool = False, eta: bool = True
          ) -> Iterator[ProgressDisplay | None]:
    """A display on standard error for the block, closed after it; ``None`` when ``quiet``."""
    if quiet:
        yield None
        return
    progress = ProgressDisplay(label, unit, eta=eta)
    try:
        yield progress
    finally:
        progress.close()
