"""Progress callbacks of the engines: what they count, in which order, up to which total.

Unit tests count without MCMC (the draw counter is fed as PyMC and nutpie feed
it); the two tests marked ``slow`` run a tiny seeded fit with each sampler.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from attribution.bootstrap import bootstrap
from attribution.markov import Markov
from attribution.paths import PathTable
from attribution.requests import AttributionRequest
from attribution.run import attribute
from optimizer.allocator import PLAN_STEPS, BudgetAllocator
from optimizer.response_graph import DrawCounter, _nutpie_counts
from optimizer.response_model import ResponseModel
from spendwise.progress import fraction, ignore, part, seconds_left
from tests.optimizer.conftest import random_draws
from tests.optimizer.conftest_model import synthetic_media

#: The ``Draw`` PyMC hands its ``pm.sample(callback=...)`` (pymc.sampling.parallel.Draw).
Draw = namedtuple("Draw", ["chain", "is_last", "draw_idx", "tuning", "stats", "point"])


class Calls(list[tuple[int, int, str]]):
    """A progress callback that keeps its calls."""

    def __call__(self, done: int, total: int, note: str = "") -> None:
        self.append((done, total, note))


def assert_well_formed(calls: list[tuple[int, int, str]], total: int) -> None:
    """One total throughout, ``done`` never decreasing, ending at the total."""
    assert calls, "no progress was reported"
    assert {t for _, t, _ in calls} == {total}
    done = [d for d, _, _ in calls]
    assert done == sorted(done)
    assert done[-1] == total


# -- the neutral helpers ------------------------------------------------------------------


def test_part_maps_a_sub_task_into_its_share_of_the_parent():
    """The units of a sub-task become its span of the parent's units, ends included."""
    calls = Calls()
    third = part(calls, 400, 200, 600)
    for done in (0, 50, 100, 200):
        third(done, 100, "bootstrap")
    assert calls == [(400, 600, "bootstrap"), (500, 600, "bootstrap"),
                     (600, 600, "bootstrap"), (600, 600, "bootstrap")]


def test_part_of_an_empty_sub_task_is_its_whole_span():
    """A sub-task of no units counts as done."""
    calls = Calls()
    part(calls, 3, 2, 10)(0, 0)
    assert calls == [(5, 10, "")]


def test_fraction_and_seconds_left():
    """The share done is clipped to [0, 1]; the time left follows the pace so far."""
    assert fraction(1_200, 6_000) == 0.2
    assert fraction(7, 5) == 1.0 and fraction(0, 0) == 1.0
    assert seconds_left(10.0, 0.2) == pytest.approx(40.0)
    assert seconds_left(30.0, 0.25) == pytest.approx(90.0)
    assert seconds_left(12.0, 1.0) == 0.0
    assert seconds_left(12.0, 0.0) is None
    assert seconds_left(float("nan"), 0.5) is None


def test_ignore_accepts_a_call():
    """The default callback takes the three arguments and returns nothing."""
    assert ignore(1, 2, "x") is None


# -- attribution ---------------------------------------------------------------------------


def test_bootstrap_reports_replicates_after_each_batch(small_paths: PathTable):
    """60 replicates in batches of 25 report 25, 50 and 60 of 60."""
    calls = Calls()
    bootstrap(Markov().fit(small_paths), small_paths, replicates=60, seed=1, progress=calls)
    assert calls == [(25, 60, "bootstrap"), (50, 60, "bootstrap"), (60, 60, "bootstrap")]


def test_attribution_counts_replicates_across_models(small_paths: PathTable):
    """Two models with 30 replicates each: 60 replicates in all, model by model."""
    request = AttributionRequest.build(models=("markov", "linear"),
                                       settings={"bootstrap": 30, "seed": 2})
    calls = Calls()
    attribute(small_paths, request, calls)
    assert calls == [(0, 60, "markov: fitting"), (25, 60, "markov: bootstrap"),
                     (30, 60, "markov: bootstrap"), (30, 60, "linear: fitting"),
                     (55, 60, "linear: bootstrap"), (60, 60, "linear: bootstrap")]
    assert_well_formed(calls, 60)


def test_attribution_without_bootstrap_counts_models(small_paths: PathTable):
    """Without intervals each fitted model is one unit."""
    request = AttributionRequest.build(models=("markov", "first_touch", "last_touch"))
    calls = Calls()
    attribute(small_paths, request, calls)
    assert calls == [(1, 3, "markov"), (2, 3, "first_touch"), (3, 3, "last_touch")]


def test_progress_does_not_change_the_intervals(small_paths: PathTable):
    """Listening to the bootstrap leaves its seeded intervals as they were."""
    model = Markov().fit(small_paths)
    quiet = bootstrap(model, small_paths, replicates=40, seed=3)
    heard = bootstrap(model, small_paths, replicates=40, seed=3, progress=Calls())
    assert quiet.by_channel == heard.by_channel


# -- budget plans --------------------------------------------------------------------------


def test_convex_plan_reports_build_solve_and_certify():
    """A CVaR plan (the convex program) goes through its three steps, then is certified."""
    draws = random_draws(40, 3, seed=4)
    allocator = BudgetAllocator(draws, objective="cvar", alpha=0.2, horizon_weeks=4)
    calls = Calls()
    plan = allocator.plan(allocator.request(4 * float(draws.current.sum())), progress=calls)
    assert plan.certificate.certified
    assert calls == [(0, PLAN_STEPS, "building the convex program"),
                     (1, PLAN_STEPS, "solving with CLARABEL (attempt 1 of 3)"),
                     (2, PLAN_STEPS, "certifying the plan"),
                     (3, PLAN_STEPS, "certified")]


def test_water_filling_plan_reports_its_steps():
    """A steady-state conversions plan (water filling) has no program to build."""
    draws = random_draws(20, 3, seed=5)
    allocator = BudgetAllocator(draws, horizon_weeks=4)
    calls = Calls()
    allocator.plan(allocator.request(4 * float(draws.current.sum())), progress=calls)
    assert calls == [(1, PLAN_STEPS, "water filling"), (2, PLAN_STEPS, "certifying the plan"),
                     (3, PLAN_STEPS, "certified")]


# -- response-model fits: counting without MCMC ---------------------------------------------


def test_draw_counter_counts_pymc_draws_across_chains():
    """Two chains of 3 tuning and 2 kept draws, interleaved: 10 draws in all."""
    calls = Calls()
    counter = DrawCounter(calls, chains=2, tune=3, draws=2)
    counter.start("compiling the model")
    for index in range(5):
        for chain in (0, 1):
            counter.pymc(None, Draw(chain, index == 4, index, index < 3, {}, {}))
    counter.finish()
    assert counter.total == 2 * (3 + 2)
    assert [d for d, _, _ in calls] == list(range(11))
    # both chains have tuned once each has 3 draws: the 6th draw in all
    assert [n for _, _, n in calls] == ["compiling the model", *["tuning"] * 5,
                                        *["sampling"] * 5]
    assert_well_formed(calls, 10)


def test_draw_counter_reports_only_growth_and_caps_each_chain():
    """nutpie's counts per chain: repeats are not reported, a chain counts at most its
    tune + draws, and finish() reports the total once."""
    calls = Calls()
    counter = DrawCounter(calls, chains=3, tune=100, draws=50)
    counter.start("compiling the model")
    for counts in ([0, 0, 0], [40, 35, 60], [40, 35, 60], [120, 101, 150], [150, 150, 170]):
        counter.update(counts)
    counter.finish()
    assert calls == [(0, 450, "compiling the model"), (135, 450, "tuning"),
                     (371, 450, "sampling"), (450, 450, "sampling")]


def test_nutpie_counts_read_the_rows_of_each_chain():
    """The rows of each chain's Arrow batch (tuning included) are its draws so far."""

    class Trace:
        def get_arrow_trace(self) -> tuple[list[Any], list[Any]]:
            batches = [pa.record_batch({"x": np.zeros(rows)}) for rows in (7, 4)]
            return batches, batches

    class Sampler:
        def inspect(self) -> Trace:
            return Trace()

    class Running:
        _sampler = Sampler()

    assert _nutpie_counts(Running()) == [7, 4]
    assert _nutpie_counts(object()) is None


# -- response-model fits: sampled (slow) ----------------------------------------------------


@pytest.mark.slow
def test_a_sampled_fit_reports_every_draw_and_draws_the_same():
    """A tiny seeded nutpie fit reports chains x (tune + draws) = 2 x (40 + 30) draws,
    monotone from the compilation on, and draws what the same fit without a callback does
    (the command line and the service fit with one, Python callers often without)."""
    data, _ = synthetic_media(weeks=40, n_channels=2, seed=11)
    settings = {"draws": 30, "tune": 40, "chains": 2, "seed": 1, "fourier_order": 1}
    calls = Calls()
    heard = ResponseModel(**settings).fit(data, progress=calls)
    assert_well_formed(calls, 2 * (40 + 30))
    assert calls[0] == (0, 140, "compiling the model")
    assert {n for _, _, n in calls[1:]} <= {"tuning", "sampling"}
    assert heard.idata_.posterior.sizes["draw"] == 30
    quiet = ResponseModel(**settings).fit(data)
    np.testing.assert_array_equal(heard.response_draws().beta, quiet.response_draws().beta)
