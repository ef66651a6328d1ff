"""Progress on standard error: plain lines when it is not a terminal, a bar redrawn with
``\\r`` when it is, nothing for a fast command or with ``--quiet``.

The display is driven by a fake clock; the commands run with :data:`DELAY` set to 0
so that their (fast) engines show what a slow run shows.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from api.cli import main
from api.cli import progress as cli_progress
from api.cli.progress import ProgressDisplay, duration, percent, showing
from optimizer.response_graph import DrawCounter
from optimizer.response_model import ResponseModel
from tests.api.cli.test_optimizer import hand_posterior, model_files  # noqa: F401 (fixture)
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures"
SAMPLE = FIXTURES / "sample_paths.csv"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def feed(display: ProgressDisplay, clock: Clock,
         steps: list[tuple[float, int, int, str]]) -> None:
    """Call ``display`` at each ``(time, done, total, note)``."""
    for at, done, total, note in steps:
        clock.now = at
        display(done, total, note)


def test_plain_lines_every_tenth_or_five_seconds():
    """Off a terminal: a line after the silent start, then at each further 10% or after
    5 s with news, with the time left at the pace since the first draw; one closing line."""
    clock, stream = Clock(), io.StringIO()
    display = ProgressDisplay("fit", "draws", stream=stream, clock=clock, wake=False)
    feed(display, clock, [(0, 0, 6000, "compiling the model"), (12, 600, 6000, "tuning"),
                          (13, 900, 6000, "tuning"), (16, 1200, 6000, "tuning"),
                          (22, 1500, 6000, "sampling"), (23, 1600, 6000, "sampling"),
                          (30, 6000, 6000, "sampling")])
    clock.now = 31
    display.close()
    assert stream.getvalue() == (
        "spendwise: fit: tuning, 600 of 6,000 draws (10%)\n"
        # 600 more of the 5,400 left after the first in 4 s: 4,800 more in 32 s
        "spendwise: fit: tuning, 1,200 of 6,000 draws (20%), about 32 s left\n"
        "spendwise: fit: sampling, 1,500 of 6,000 draws (25%), about 50 s left\n"
        "spendwise: fit: sampling, 6,000 of 6,000 draws (100%)\n"
        "spendwise: fit: 6,000 draws in 31 s\n")
    assert "\r" not in stream.getvalue()


def test_a_bar_redrawn_in_place_on_a_terminal(monkeypatch):
    """On a terminal one line is redrawn with a carriage return, at most ten times a
    second or when the note changes, and ended with the time taken."""
    monkeypatch.setenv("COLUMNS", "200")
    clock, stream = Clock(), Terminal()
    display = ProgressDisplay("fit", "draws", stream=stream, clock=clock, wake=False)
    feed(display, clock, [(0, 0, 6000, "compiling the model"), (3, 1200, 6000, "sampling"),
                          (3.05, 1300, 6000, "sampling"), (4, 3000, 6000, "sampling"),
                          (6, 6000, 6000, "sampling")])
    display.close()
    frames = stream.getvalue().split("\r")
    assert frames[0] == ""
    assert [f.rstrip() for f in frames[1:]] == [
        "spendwise: fit [####................]  20%  1,200/6,000 draws, sampling",
        # 1,800 of the 4,800 left after the first in 1 s: 3,000 more in 1.7 s
        "spendwise: fit [##########..........]  50%  3,000/6,000 draws, about 2 s left, "
        "sampling",
        "spendwise: fit [####################] 100%  6,000/6,000 draws, sampling",
        "spendwise: fit [####################] 100%  6,000/6,000 draws, sampling, in 6 s",
    ]
    assert stream.getvalue().endswith(", in 6 s\n")


def test_an_unfinished_bar_ends_its_line(monkeypatch):
    """A command that fails mid-way leaves the cursor on a new line for its error."""
    monkeypatch.setenv("COLUMNS", "200")
    clock, stream = Clock(), Terminal()
    display = ProgressDisplay("plan", "steps", stream=stream, clock=clock, eta=False,
                              wake=False)
    feed(display, clock, [(0, 0, 3, "building the convex program"),
                          (2.5, 1, 3, "solving with CLARABEL (attempt 1 of 3)")])
    display.close()
    assert stream.getvalue().endswith("1/3 steps, solving with CLARABEL (attempt 1 of 3)\n")
    assert "left" not in stream.getvalue()


def test_the_bar_fits_the_terminal(monkeypatch):
    """A line wider than the terminal is cut one column short of its width."""
    monkeypatch.setenv("COLUMNS", "40")
    clock, stream = Clock(), Terminal()
    display = ProgressDisplay("fit", "draws", stream=stream, clock=clock, wake=False)
    feed(display, clock, [(3, 1200, 6000, "sampling")])
    assert stream.getvalue() == "\rspendwise: fit [####................]  "  # 39 columns


def test_a_fast_run_prints_nothing():
    """Work that ends within the silent start leaves standard error empty."""
    for stream in (io.StringIO(), Terminal()):
        clock = Clock()
        display = ProgressDisplay("attribute", "replicates", stream=stream, clock=clock,
                                  wake=False)
        feed(display, clock, [(0.1, 25, 60, "markov: bootstrap"),
                              (0.3, 60, 60, "markov: bootstrap")])
        clock.now = 0.4
        display.close()
        assert stream.getvalue() == ""


def test_waking_shows_a_quiet_engine_once_the_start_is_over():
    """While the engine says nothing (a model compiling), the state shows after the delay."""
    clock, stream = Clock(), io.StringIO()
    display = ProgressDisplay("fit", "draws", stream=stream, clock=clock, wake=False)
    display(0, 500, "compiling the model")
    clock.now = 1.0
    display.wake()
    assert stream.getvalue() == ""
    clock.now = 2.5
    display.wake()
    display.wake()
    assert stream.getvalue() == "spendwise: fit: compiling the model, 0 of 500 draws (0%)\n"


def test_durations():
    """Seconds, then minutes and seconds, then hours and minutes."""
    assert [duration(s) for s in (0.4, 40, 200, 3_900)] == ["0 s", "40 s", "3 min 20 s",
                                                            "1 h 05 min"]


def test_percent_is_rounded_down():
    """100% only once everything is done."""
    assert [percent(done, 2_000) for done in (0, 1, 1_993, 2_000)] == [0, 0, 99, 100]
    assert percent(29, 100) == 29  # 0.29 * 100 is 28.999... in floating point


def test_quiet_gives_no_display():
    """--quiet hands the engine no callback at all."""
    with showing("fit", "draws", quiet=True) as progress:
        assert progress is None
    with showing("fit", "draws") as progress:
        assert isinstance(progress, ProgressDisplay)


# -- the commands ---------------------------------------------------------------------------


def run(argv: list[Any], capsys: Any) -> tuple[int, str, str]:
    """Run the CLI in process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def no_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Show progress from the first call, as a slow run would."""
    monkeypatch.setattr(cli_progress, "DELAY", 0.0)


def progress_lines(err: str, label: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"spendwise: {label}: ")]


def test_attribute_with_bootstrap_shows_replicates(no_delay, tmp_path, capsys):
    """attribute --bootstrap counts the replicates of every model; --quiet shows none."""
    out = tmp_path / "report.json"
    code, _, err = run(["attribute", SAMPLE, "--model", "markov", "--model", "linear",
                        "--bootstrap", 50, "-o", out], capsys)
    assert code == 0, err
    lines = progress_lines(err, "attribute")
    assert lines[0] == "spendwise: attribute: markov: fitting, 0 of 100 replicates (0%)"
    assert any(line.startswith("spendwise: attribute: linear: bootstrap, ") for line in lines)
    assert lines[-1].startswith("spendwise: attribute: 100 replicates in ")
    code, _, err = run(["attribute", SAMPLE, "--bootstrap", 50, "-o", out, "--quiet"], capsys)
    assert code == 0 and progress_lines(err, "attribute") == []


def test_attribute_without_bootstrap_shows_nothing(no_delay, tmp_path, capsys):
    """Without replicates there is no progress to show."""
    code, _, err = run(["attribute", SAMPLE, "-o", tmp_path / "r.json"], capsys)
    assert code == 0 and progress_lines(err, "attribute") == []


def test_plan_shows_the_convex_programs_steps_only(no_delay, model_files, capsys):  # noqa: F811
    """A CVaR plan runs the convex program and shows its steps; water filling does not."""
    code, _, err = run(["plan", model_files["good"], "--budget", 600_000, "--objective",
                        "cvar", "--alpha", "0.2"], capsys)
    assert code == 0, err
    lines = progress_lines(err, "plan")
    assert lines[0] == "spendwise: plan: building the convex program, 0 of 3 steps (0%)"
    assert lines[-1].startswith("spendwise: plan: 3 steps in ")
    assert not any("left" in line for line in lines)
    code, _, err = run(["plan", model_files["good"], "--budget", 600_000], capsys)
    assert code == 0 and err == ""
    code, _, err = run(["plan", model_files["good"], "--budget", 600_000, "--objective",
                        "cvar", "--quiet"], capsys)
    assert code == 0 and err == ""


def test_fit_shows_draws_instead_of_the_samplers_bar(no_delay, tmp_path, capsys,
                                                       monkeypatch):
    """fit hands the sampler a display counting chains x (tune + draws); --quiet none (the
    sampler is replaced by a hand-made posterior)."""
    given: list[Any] = []

    def fit(self: ResponseModel, data: Any, *, progress: Any = None) -> ResponseModel:
        given.append(progress)
        if progress is not None:
            counter = DrawCounter(progress, chains=self.chains, tune=self.tune,
                                  draws=self.draws)
            counter.start("compiling the model")
            counter.finish()
        settings = {k: v for k, v in self.settings().items() if k != "progressbar"}
        return ResponseModel.from_posterior(data, hand_posterior(data.n_channels), **settings)

    monkeypatch.setattr(ResponseModel, "fit", fit)
    argv = ["fit", "--spend", FIXTURES / "media_spend.csv", "--outcomes",
            FIXTURES / "media_outcomes.csv", "--draws", 100, "--tune", 150, "--chains", 2,
            "-o", tmp_path / "model.nc"]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    lines = progress_lines(err, "fit")
    assert lines[:2] == ["spendwise: fit: compiling the model, 0 of 500 draws (0%)",
                         "spendwise: fit: sampling, 500 of 500 draws (100%)"]
    assert len(lines) == 3 and lines[2].startswith("spendwise: fit: 500 draws in ")
    assert isinstance(given[0], ProgressDisplay)
    code, _, err = run([*argv, "--quiet"], capsys)
    assert code == 0 and given[1] is None and progress_lines(err, "fit") == []
    assert (tmp_path / "model.nc").is_file()
