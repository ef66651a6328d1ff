"""The checks of a fit: each diagnostic against its threshold, and the fix of a failure."""

from __future__ import annotations

import arviz as az
import numpy as np

from optimizer import fit_checks as fc
from optimizer.requests import FitRequest
from tests.api.cli.test_optimizer import hand_posterior

#: Diagnostics of a fit that passes every check.
GOOD = {"max_r_hat": 1.002, "min_ess_bulk": 900.0, "divergences": 0, "r2": 0.9,
        "holdout_weeks": 8, "holdout_mape": 0.05, "holdout_coverage_90": 0.875,
        "draws": 1000, "tune": 1000, "n_weeks": 96}


def by_name(checks: list[fc.Check]) -> dict[str, fc.Check]:
    """The checks by name."""
    return {c.name: c for c in checks}


def test_a_good_fit_passes_every_check():
    """Diagnostics within every threshold give passing checks without fixes."""
    found = by_name(fc.checks(GOOD))
    assert [c.state for c in found.values()] == ["pass"] * 7
    assert all(not c.fixes for c in found.values())


def test_failures_name_their_fixes():
    """R-hat 1.2 asks for twice the tuning and draws; ESS 100 of 1,000 draws asks for 5,000."""
    found = by_name(fc.checks({**GOOD, "max_r_hat": 1.2, "min_ess_bulk": 100.0,
                               "divergences": 3}, weak=("search",)))
    assert found["r_hat"].failed and found["ess"].failed and found["divergences"].failed
    assert found["r_hat"].fixes[0] == fc.Fix("tune", 2000)
    # 1,000 x 400 / 100 x 1.25 = 5,000 draws
    assert found["ess"].fixes[0] == fc.Fix("draws", 5000)
    for name in ("r_hat", "ess", "divergences"):
        assert found[name].fixes[-1] == fc.Fix("lift_tests", channels=("search",))


def test_fixes_stay_within_what_a_request_accepts():
    """Suggested draws and tuning never pass FitRequest's maximum."""
    found = by_name(fc.checks({**GOOD, "min_ess_bulk": 1.0, "max_r_hat": 2.0,
                               "draws": 15_000, "tune": 15_000}))
    FitRequest.build(draws=found["ess"].fixes[0].value, tune=found["r_hat"].fixes[0].value)
    assert found["ess"].fixes[0].value == found["r_hat"].fixes[0].value == 20_000


def test_missing_values_fail_and_no_holdout_is_suggested():
    """A diagnostic that could not be computed fails; no held-out weeks suggests some."""
    found = by_name(fc.checks({**GOOD, "max_r_hat": None, "holdout_weeks": 0, "n_weeks": 30}))
    assert found["r_hat"].failed
    assert found["holdout"].state == "none"
    assert found["holdout"].fixes == (fc.Fix("holdout", 6),)  # a fifth of 30 weeks
    assert "holdout_error" not in found


def test_held_out_weeks_are_judged():
    """A large held-out error and a low interval coverage fail and ask for controls."""
    found = by_name(fc.checks({**GOOD, "holdout_mape": 0.3, "holdout_coverage_90": 0.5}))
    assert found["holdout_error"].failed and found["holdout_coverage"].failed
    assert found["holdout_coverage"].fixes == (fc.Fix("controls"),)


def test_poorly_mixed_channels_are_named():
    """A channel whose chains sit apart is named; well-mixed ones are not."""
    idata = hand_posterior(3)
    beta = idata.posterior["beta"].values.copy()
    beta[:, :, 1] += np.arange(4)[:, None] * 0.5  # four chains at four levels
    shifted = az.from_dict(posterior={"beta": beta, "lam": idata.posterior["lam"].values})
    assert fc.poorly_mixed(shifted, ("a", "b", "c")) == ("b",)
    assert fc.poorly_mixed(idata, ("a", "b", "c")) == ()
