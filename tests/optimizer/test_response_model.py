"""Tests of the response model: design, priors, diagnostics, draws, persistence.

Unit tests build posteriors by hand with ``arviz.from_dict``; only the tests
marked ``slow`` run NUTS, on small seeded data.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pytensor
import pytest
from scipy import stats

from optimizer import diagnostics as dx
from optimizer.allocator import BudgetAllocator
from optimizer.curves import curve
from optimizer.data import MediaData
from optimizer.design import Design, predict, weekly
from optimizer.errors import InputError, NotConvergedError, NotFittedError, ParameterError
from optimizer.priors import (
    PRIORS,
    attribution_concentration,
    attribution_shares,
    value_per_conversion_from_report,
    value_per_kpi,
)
from optimizer.response_model import BASELINE_WEEKS, ResponseModel, build_model
from optimizer.response_summary import STATS
from tests.optimizer.conftest_model import synthetic_media

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

CHAINS, DRAWS = 2, 40


@pytest.fixture(scope="module")
def media() -> tuple[MediaData, dict[str, Any]]:
    """60 weeks, 3 channels, with truth."""
    return synthetic_media(weeks=60, n_channels=3, seed=4)


def hand_posterior(n_channels: int, *, fourier_order: int = 2, n_controls: int = 0,
                   seed: int = 0, chains: int = CHAINS, draws: int = DRAWS,
                   divergences: int = 0) -> Any:
    """A plausible posterior in scaled units, made by hand."""
    rng = np.random.default_rng(seed)
    size = (chains, draws)
    post = {
        "intercept": rng.normal(0.6, 0.02, size),
        "trend": rng.normal(0.05, 0.01, size),
        "season": rng.normal(0.0, 0.02, (*size, 2 * fourier_order)),
        "beta": rng.uniform(0.1, 0.3, (*size, n_channels)),
        "lam": rng.uniform(0.5, 2.0, (*size, n_channels)),
        "alpha": rng.uniform(0.1, 0.5, (*size, n_channels)),
        "sigma": rng.uniform(0.02, 0.04, size),
    }
    if n_controls:
        post["control"] = rng.normal(0.0, 0.05, (*size, n_controls))
    diverging = np.zeros(size, dtype=bool)
    diverging.flat[:divergences] = True
    return az.from_dict(posterior=post, sample_stats={"diverging": diverging})


@pytest.fixture
def fitted(media: tuple[MediaData, dict[str, Any]]) -> ResponseModel:
    """A model fitted from a hand-built posterior."""
    data, _ = media
    return ResponseModel.from_posterior(data, hand_posterior(3), value_per_conversion=50.0)


# -- design and scaling -------------------------------------------------------------------


def test_scaling_round_trip(media):
    """Scaled KPI and spend times their scales give back the data."""
    data, _ = media
    design = Design.of(weekly(data, "conversions", 0), 8, 2)
    np.testing.assert_allclose(design.y * design.scales.kpi, data.conversions)
    np.testing.assert_allclose(design.spend * np.asarray(design.scales.spend), data.spend)
    assert design.y.mean() == pytest.approx(1.0)
    on = np.where(data.spend > 0, design.spend, np.nan)
    np.testing.assert_allclose(np.nanmean(on, axis=0), 1.0)


@pytest.mark.parametrize("name", ["exponential", "michaelis_menten", "log"])
def test_curves_scale_with_lam(name):
    """s(x / m; lam') = s(x; lam' m): why lam in spend units is lam' times the spend scale."""
    family = curve(name)
    x, m, lam = np.linspace(0, 5e4, 30), 1.7e4, 0.8
    np.testing.assert_allclose(family.numpy(x / m, lam), family.numpy(x, lam * m), rtol=1e-12)


def test_holdout_scales_use_fit_weeks_only(media):
    """The KPI scale is the mean of the fit weeks, not of the held-out ones."""
    data, _ = media
    design = Design.of(weekly(data, "conversions", 10), 8, 2)
    assert design.scales.kpi == pytest.approx(data.conversions[:-10].mean())
    assert design.trend[:50].mean() == pytest.approx(0.0, abs=1e-12)


def test_daily_data_are_summed_to_weeks(media):
    """Daily data are fitted on Monday-to-Sunday weeks."""
    data, _ = media
    days = pd.date_range("2023-01-02", periods=7 * 60, freq="D")
    daily = MediaData(days, "D", data.channels, np.repeat(data.spend, 7, axis=0) / 7,
                      np.repeat(data.conversions, 7) / 7)
    series = weekly(daily, "conversions", 0)
    np.testing.assert_allclose(series.spend, data.spend)
    np.testing.assert_allclose(series.kpi, data.conversions)


def test_padding_assumes_the_first_weeks_mean(media):
    """Spend before the first week is each channel's mean over the first max_lag weeks."""
    data, _ = media
    design = Design.of(weekly(data, "conversions", 0), 4, 0)
    np.testing.assert_allclose(design.padded_spend[:3], np.tile(design.spend[:4].mean(0), (3, 1)))


# -- priors and the PyMC model ------------------------------------------------------------


def test_priors_are_in_the_docstring_table():
    """Every prior of the table in code appears in the documented table."""
    import optimizer.priors as module

    for name, (dist, _) in PRIORS.items():
        assert f"``{name}``" in module.__doc__
        assert dist in module.__doc__


def test_model_has_the_documented_priors(media):
    """The PyMC model's free variables use the distributions of PRIORS."""
    data, _ = media
    inputs = ResponseModel().prepare(data)
    model = build_model(inputs.design, "exponential")
    free = {rv.name: rv.owner.op.name for rv in model.free_RVs}
    for name in ("trend", "season", "lam", "alpha", "sigma", "media_share", "efficiency"):
        assert free[name].lower().replace("_", "") == PRIORS[name][0].lower(), name
    assert "intercept_prior" in {p.name for p in model.potentials}


def _logp(model: Any, point: dict[str, np.ndarray], variables: Any = None) -> float:
    """The model's log density at ``point`` (of ``variables`` only, without Jacobians)."""
    logp = model.logp(vars=variables, jacobian=variables is None)
    fn = pytensor.function(model.value_vars, logp, on_unused_input="ignore",
                           mode="FAST_COMPILE")
    return float(fn(*[point[v.name] for v in model.value_vars]))


def _constrained(model: Any, point: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = ["intercept", "trend", "season", "beta", "lam", "alpha", "sigma"]
    if "control" in model.named_vars:
        names.append("control")
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    fn = pytensor.function(model.value_vars, outputs, on_unused_input="ignore",
                           mode="FAST_COMPILE")
    values = fn(*[point[v.name] for v in model.value_vars])
    return {n: np.asarray(v)[None] for n, v in zip(names, values, strict=True)}


@pytest.mark.parametrize("curve_name", ["exponential", "michaelis_menten", "log"])
def test_pytensor_model_matches_the_numpy_forward_pass(media, curve_name):
    """At a random point the model's logp is finite and its likelihood equals the numpy one."""
    data, _ = media
    controls = pd.DataFrame({"price": np.linspace(1, 2, 60) ** 2}, index=data.dates)
    data = MediaData(data.dates, "W", data.channels, data.spend, data.conversions,
                     data.revenue, controls)
    design = ResponseModel().prepare(data).design
    model = build_model(design, curve_name)
    rng = np.random.default_rng(1)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
    assert np.isfinite(_logp(model, point))
    params = _constrained(model, point)
    mu, _ = predict(design, curve_name, params)
    expected = stats.norm.logpdf(design.y, mu[0], params["sigma"][0]).sum()
    observed = _logp(model, point, [model["y"]])
    assert observed == pytest.approx(expected, rel=1e-9)


def test_lift_tests_add_a_likelihood_term(media):
    """Each lift test is a Normal observation of beta (s(after) - s(before))."""
    data, truth = media
    family = curve("exponential")
    lift = truth["beta"][0] * (family.numpy(9_000, truth["lam"][0])
                               - family.numpy(6_000, truth["lam"][0]))
    tests = pd.DataFrame({"channel": ["ch0"], "spend_before": [6_000.0],
                          "spend_after": [9_000.0], "lift": [lift], "lift_sd": [5.0]})
    data = MediaData(data.dates, "W", data.channels, data.spend, data.conversions,
                     data.revenue, lift_tests=tests)
    inputs = ResponseModel().prepare(data)
    model = build_model(inputs.design, "exponential", inputs.lift)
    rng = np.random.default_rng(2)
    point = {k: v + rng.normal(0, 0.2, np.shape(v)) for k, v in model.initial_point().items()}
    params = _constrained(model, point)
    m, ybar = inputs.design.scales.spend[0], inputs.design.scales.kpi
    mean = params["beta"][0, 0] * (family.numpy(9_000 / m, params["lam"][0, 0])
                                   - family.numpy(6_000 / m, params["lam"][0, 0]))
    expected = stats.norm.logpdf(lift / ybar, mean, 5.0 / ybar)
    observed = _logp(model, point, [model["lift"]])
    assert observed == pytest.approx(expected, rel=1e-9)


def test_lift_tests_on_unknown_channels_are_refused(media):
    """A lift test naming a channel without spend raises InputError naming it."""
    data, _ = media
    tests = pd.DataFrame({"channel": ["tv"], "spend_before": [1.0], "spend_after": [2.0],
                          "lift": [1.0], "lift_sd": [1.0]})
    data = MediaData(data.dates, "W", data.channels, data.spend, data.conversions,
                     lift_tests=tests)
    with pytest.raises(InputError, match="unknown channels tv"):
        ResponseModel().prepare(data)


# -- attribution prior --------------------------------------------------------------------


REPORT = {"model": "markov", "channels": [
    {"channel": "ch0", "conversions": 30.0, "value": 3000.0, "share": 0.3},
    {"channel": "ch1", "conversions": 50.0, "value": 4000.0, "share": 0.5},
    {"channel": "ch2", "conversions": 10.0, "value": 1500.0, "share": 0.1},
    {"channel": "email", "conversions": 10.0, "value": 500.0, "share": 0.1},
]}


def test_attribution_shares_from_a_report_renormalise(tmp_path):
    """Shares of a report, its path or a list are renormalised over the model's channels."""
    expected = np.array([0.3, 0.5, 0.1]) / 0.9
    path = tmp_path / "report.json"
    path.write_text(json.dumps(REPORT), encoding="utf-8")
    for report in (REPORT, str(path), [REPORT], REPORT["channels"],
                   {"ch0": 3, "ch1": 5, "ch2": 1}):
        np.testing.assert_allclose(attribution_shares(report, ("ch0", "ch1", "ch2")), expected)


def test_attribution_prior_missing_channels_are_named():
    """Channels of the model missing from the report raise InputError naming them."""
    with pytest.raises(InputError, match="missing from the attribution report: tv, radio"):
        attribution_shares(REPORT, ("ch0", "tv", "radio"))


def test_attribution_report_with_several_models_is_refused():
    """A report of several models must be narrowed to one."""
    with pytest.raises(InputError, match="several models"):
        attribution_shares([REPORT, REPORT | {"model": "linear"}], ("ch0",))


def test_attribution_concentration_has_its_mode_at_the_shares():
    """Dirichlet(1 + p / width^2) has mode p and a share sd of about width sqrt(p(1-p))."""
    p = np.array([0.6, 0.3, 0.1])
    a = attribution_concentration(p, 0.1)
    np.testing.assert_allclose((a - 1) / (a - 1).sum(), p)
    sd = np.sqrt(stats.dirichlet.var(a))
    np.testing.assert_allclose(sd, 0.1 * np.sqrt(p * (1 - p)), rtol=0.05)
    with pytest.raises(ParameterError, match="prior_width"):
        attribution_concentration(p, 0.0)


def test_attribution_prior_adds_a_potential(media):
    """With an attribution prior the model has the Dirichlet potential on the shares."""
    data, _ = media
    inputs = ResponseModel(attribution_prior=REPORT, prior_width=0.2).prepare(data)
    np.testing.assert_allclose(inputs.concentration, 1 + inputs.shares / 0.04)
    model = build_model(inputs.design, "exponential", concentration=inputs.concentration)
    assert "attribution_prior" in {p.name for p in model.potentials}
    assert np.isfinite(_logp(model, model.initial_point()))


# -- value per conversion -----------------------------------------------------------------


def test_value_per_conversion_forms():
    """A number, a per-channel mapping, the data's revenue ratio, or ones."""
    channels = ("a", "b")
    conv, rev = np.array([10.0, 30.0]), np.array([500.0, 1500.0])
    assert value_per_kpi("conversions", channels, 7.0, conv, None)[0].tolist() == [7.0, 7.0]
    assert value_per_kpi("conversions", channels, {"a": 1, "b": 2, "c": 9}, conv,
                         None)[0].tolist() == [1.0, 2.0]
    assert value_per_kpi("conversions", channels, None, conv, rev)[0].tolist() == [50.0, 50.0]
    ones, source = value_per_kpi("conversions", channels, None, conv, None)
    assert ones.tolist() == [1.0, 1.0] and "conversions per unit of spend" in source
    assert value_per_kpi("revenue", channels, None, conv, rev)[0].tolist() == [1.0, 1.0]


def test_value_per_conversion_errors():
    """Missing channels are named; a value with KPI revenue is refused."""
    with pytest.raises(InputError, match="no value for channels b"):
        value_per_kpi("conversions", ("a", "b"), {"a": 1.0}, None, None)
    with pytest.raises(ParameterError, match="only meaningful"):
        value_per_kpi("revenue", ("a",), 3.0, None, None)
    with pytest.raises(InputError, match="non-negative"):
        value_per_kpi("conversions", ("a",), -3.0, None, None)


def test_value_per_conversion_from_an_attribution_report():
    """value / conversions per channel of a spendwise attribute report."""
    values = value_per_conversion_from_report(REPORT)
    assert values == {"ch0": 100.0, "ch1": 80.0, "ch2": 150.0, "email": 50.0}


# -- settings and errors ------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "match"), [
    ({"kpi": "clicks"}, "kpi must be"), ({"curve": "hill"}, "choose from"),
    ({"sampler": "stan"}, "sampler must be one of"), ({"max_lag": 0}, "max_lag"),
    ({"chains": True}, "chains"), ({"draws": 1.5}, "draws"), ({"prior_width": 2.0}, "width"),
])
def test_bad_settings_raise_parameter_error(media, setting, match):
    """Each bad setting raises ParameterError naming it."""
    with pytest.raises(ParameterError, match=match):
        ResponseModel(**setting).prepare(media[0])


def test_data_errors(media):
    """Too few weeks, a missing KPI, an idle channel and a flat control are InputErrors."""
    data, _ = media
    with pytest.raises(InputError, match="fewer than the 48"):
        ResponseModel(holdout_weeks=20).prepare(data)
    with pytest.raises(InputError, match="kpi='revenue' but the data have no revenue"):
        ResponseModel(kpi="revenue").prepare(MediaData(data.dates, "W", data.channels,
                                                       data.spend, data.conversions))
    spend = data.spend.copy()
    spend[:50, 1] = 0
    with pytest.raises(InputError, match="'ch1' has no spend in the fit weeks"):
        ResponseModel(holdout_weeks=10).prepare(MediaData(data.dates, "W", data.channels,
                                                          spend, data.conversions))
    flat = pd.DataFrame({"flag": np.ones(60)}, index=data.dates)
    with pytest.raises(InputError, match="constant over the fit weeks: flag"):
        ResponseModel().prepare(MediaData(data.dates, "W", data.channels, data.spend,
                                          data.conversions, controls=flat))


def test_using_an_unfitted_model_raises():
    """Results of an unfitted model raise NotFittedError."""
    for method in ("response_draws", "contributions", "curves", "require_converged"):
        with pytest.raises(NotFittedError, match="not fitted"):
            getattr(ResponseModel(), method)()


# -- diagnostics --------------------------------------------------------------------------


def test_diagnostics_of_a_good_posterior(fitted):
    """Independent draws of a hand-built posterior: r_hat near 1, no divergences."""
    r = fitted.result_
    assert r.max_r_hat < 1.1 and r.divergences == 0
    assert r.chains == CHAINS and r.draws == DRAWS
    assert r.status == "not_converged"  # 80 draws cannot reach an ESS of 400
    assert 0 < r.mape < 1 and np.isfinite(r.r2)
    assert r.holdout_mape is None and r.holdout_coverage_90 is None


def test_status_thresholds():
    """r_hat <= 1.01, bulk ESS >= 400 and no divergence: converged; else not."""
    assert dx.status(1.01, 400, 0) == "converged"
    assert dx.status(1.0101, 400, 0) == "not_converged"
    assert dx.status(1.0, 399.9, 0) == "not_converged"
    assert dx.status(1.0, 5000, 1) == "not_converged"
    assert dx.status(float("inf"), 5000, 0) == "not_converged"


def test_sampler_checks_on_hand_made_chains():
    """Disagreeing chains give a large r_hat; divergences are counted; ESS from arviz."""
    rng = np.random.default_rng(0)
    good = rng.normal(size=(2, 2000))
    bad = good + np.array([[0.0], [1.0]])
    diverging = np.zeros((2, 2000), dtype=bool)
    diverging[0, :3] = True
    idata = az.from_dict(posterior={"a": good, "b": bad}, sample_stats={"diverging": diverging})
    rhat, ess, div = dx.sampler_checks(idata, ["a"])
    assert rhat < 1.01 and ess > 1000 and div == 3
    rhat, _, _ = dx.sampler_checks(idata, ["a", "b"])
    assert rhat > 1.1
    constant = az.from_dict(posterior={"c": np.ones((2, 100))})
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert dx.sampler_checks(constant, ["c"])[0] == float("inf")  # r_hat undefined: fails


def test_divergences_mark_a_fit_not_converged(media):
    """One divergence makes the status not_converged and plans are refused."""
    data, _ = media
    model = ResponseModel.from_posterior(data, hand_posterior(3, draws=1000, divergences=1))
    assert model.result_.divergences == 1 and not model.converged
    with pytest.raises(NotConvergedError, match="1 divergences"):
        model.require_converged()
    model.require_converged(allow=True)
    assert model.response_draws().meta["converged"] is False


def test_holdout_diagnostics(media):
    """With held-out weeks the result has their MAPE and 90% interval coverage."""
    data, _ = media
    model = ResponseModel.from_posterior(data, hand_posterior(3), holdout_weeks=8)
    r = model.result_
    assert r.holdout_weeks == 8 and r.n_weeks == 52
    assert 0 <= r.holdout_coverage_90 <= 1 and r.holdout_mape > 0
    assert set(r.to_dict()) >= {"status", "converged", "max_r_hat", "min_ess_bulk",
                                "divergences", "r2", "mape", "holdout_mape",
                                "holdout_coverage_90", "thresholds"}


def test_interval_coverage_and_mape():
    """Coverage counts weeks inside the central interval; MAPE skips zero weeks."""
    draws = np.tile(np.arange(101, dtype=float)[:, None], (1, 3))
    assert dx.interval_coverage(np.array([50.0, 4.0, 96.0]), draws, 0.9) == pytest.approx(1 / 3)
    assert dx.mape(np.array([0.0, 2.0, 4.0]), np.array([1.0, 1.0, 5.0])) == pytest.approx(0.375)


# -- response draws, curves, contributions ------------------------------------------------


def test_response_draws_are_in_original_units(fitted, media):
    """beta in KPI per week, lam in spend per week; history, current and baseline as documented."""
    data, _ = media
    draws = fitted.response_draws()
    post = fitted.idata_.posterior
    scales = fitted.design_.scales
    beta = post["beta"].values.reshape(-1, 3) * scales.kpi
    np.testing.assert_allclose(draws.beta, beta)
    np.testing.assert_allclose(draws.lam, post["lam"].values.reshape(-1, 3)
                               * np.asarray(scales.spend))
    np.testing.assert_array_equal(draws.history, data.spend[-7:])
    np.testing.assert_allclose(draws.current, data.spend[-4:].mean(axis=0))
    np.testing.assert_allclose(draws.max_weekly_spend, data.spend.max(axis=0))
    np.testing.assert_allclose(draws.value_per_kpi, 50.0)
    assert draws.n_draws == CHAINS * DRAWS and draws.kpi == "conversions"
    d = fitted.design_
    intercept = post["intercept"].values.ravel()
    trend = post["trend"].values.ravel()
    season = post["season"].values.reshape(-1, 4)
    weeks = slice(60 - BASELINE_WEEKS, 60)
    base = intercept + trend * d.trend[weeks].mean() + season @ d.season[weeks].mean(axis=0)
    np.testing.assert_allclose(draws.baseline, base * scales.kpi)


def test_response_draws_reproduce_the_fitted_contribution(fitted):
    """The optimizer's plan_kpi over the data's spend equals the model's media parts
    once the carryover from before the first week is the same."""
    draws = fitted.response_draws()
    design = fitted.design_
    params = {k: v.values.reshape(CHAINS * DRAWS, *v.shape[2:])
              for k, v in fitted.idata_.posterior.items()}
    _, parts = predict(design, "exponential", params)
    history = design.padded_spend[:7] * np.asarray(design.scales.spend)
    from dataclasses import replace

    plan = replace(draws, history=history).plan_kpi(design.series.spend)
    np.testing.assert_allclose(plan, parts * design.scales.kpi, rtol=1e-10)


def test_response_draws_subsample_is_seeded(fitted):
    """n_draws picks the same draws for the same seed, other draws for another."""
    a, b = fitted.response_draws(30, seed=3), fitted.response_draws(30, seed=3)
    np.testing.assert_array_equal(a.beta, b.beta)
    assert a.n_draws == 30
    assert not np.array_equal(a.beta, fitted.response_draws(30, seed=4).beta)
    assert fitted.response_draws(500).n_draws == 500  # with replacement beyond the total


def test_curves_on_a_grid(fitted):
    """Weekly KPI and marginal ROMI quantiles per channel; ROMI = v beta s'(x)."""
    curves = fitted.curves()
    assert curves.spend.shape == (3, 41) and curves.kpi.shape == (3, 41, 4)
    assert np.all(np.diff(curves.kpi[..., 0], axis=1) > 0)
    draws = fitted.response_draws()
    grid = np.array([0.0, 1000.0, 5000.0])
    manual = 50.0 * draws.beta[:, :, None] * curve("exponential").derivative(
        grid[None, None, :], draws.lam[:, :, None])
    np.testing.assert_allclose(fitted.curves(grid).romi[..., 0], manual.mean(axis=0))
    frame = curves.to_frame()
    assert list(frame.columns) == ["channel", "spend", *[f"kpi_{s}" for s in STATS],
                                   *[f"romi_{s}" for s in STATS]]
    assert len(frame) == 3 * 41
    assert json.dumps(curves.to_dict())
    with pytest.raises(InputError, match="grid"):
        fitted.curves(np.ones((2, 5)))


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_curves(fitted, tmp_path, suffix, magic):
    """The chart is written as PNG or SVG; other formats are refused."""
    path = tmp_path / f"curves{suffix}"
    fitted.plot_curves(path)
    assert path.read_bytes().startswith(magic)
    with pytest.raises(ParameterError, match="png or svg"):
        fitted.plot_curves(tmp_path / "curves.pdf")


def test_contributions(fitted):
    """Totals over the fit weeks per channel, with shares of the media total."""
    contributions = fitted.contributions()
    draws = fitted.response_draws()
    history = fitted.design_.padded_spend[:7] * np.asarray(fitted.design_.scales.spend)
    from dataclasses import replace

    totals = replace(draws, history=history).plan_kpi(fitted.design_.series.spend).sum(axis=1)
    np.testing.assert_allclose(contributions.total[:, 0], totals.mean(axis=0))
    np.testing.assert_allclose(contributions.total[:, 2], np.median(totals, axis=0))
    np.testing.assert_allclose(contributions.share[:, 0].sum(), 1.0)
    assert list(contributions.to_frame()["channel"]) == ["ch0", "ch1", "ch2"]
    assert contributions.to_dict()["weeks"] == 60


# -- persistence --------------------------------------------------------------------------


def _assert_same(a: ResponseModel, b: ResponseModel) -> None:
    da, db = a.response_draws(), b.response_draws()
    for name in ("beta", "lam", "alpha", "baseline", "history", "current", "max_weekly_spend",
                 "value_per_kpi"):
        np.testing.assert_array_equal(getattr(da, name), getattr(db, name))
    assert da.channels == db.channels and da.meta == db.meta
    assert a.result_ == b.result_
    assert a.settings() == b.settings()
    np.testing.assert_array_equal(a.contributions().total, b.contributions().total)


def test_save_and_load_round_trip(media, tmp_path):
    """One NetCDF file gives back identical draws, diagnostics and settings."""
    data, _ = media
    controls = pd.DataFrame({"promo": np.arange(60) % 5 == 0}, index=data.dates).astype(float)
    data = MediaData(data.dates, "W", ("email", "search", "微信朋友圈"), data.spend,
                     data.conversions, data.revenue, controls)
    model = ResponseModel.from_posterior(
        data, hand_posterior(3, n_controls=1), holdout_weeks=6, max_lag=5,
        value_per_conversion={"email": 1.0, "search": 2.0, "微信朋友圈": 3.0},
        attribution_prior={"email": 1.0, "search": 1.0, "微信朋友圈": 2.0})
    path = tmp_path / "model.nc"
    model.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.nc"]
    loaded = ResponseModel.load(path)
    _assert_same(model, loaded)
    assert loaded.attribution_prior == {"email": 0.25, "search": 0.25, "微信朋友圈": 0.5}
    assert loaded.meta_["fingerprint"] == data.fingerprint
    loaded.save(tmp_path / "again.nc")
    _assert_same(model, ResponseModel.load(tmp_path / "again.nc"))


def test_loading_something_else_fails(tmp_path):
    """A file that is not a saved model raises InputError."""
    path = tmp_path / "x.nc"
    path.write_text("hello")
    with pytest.raises(InputError, match="not a saved ResponseModel"):
        ResponseModel.load(path)
    az.from_dict(posterior={"a": np.ones((1, 3))}).to_netcdf(str(path))
    with pytest.raises(InputError, match="not a saved ResponseModel"):
        ResponseModel.load(path)


# -- sampling (slow) ----------------------------------------------------------------------


@pytest.mark.slow
def test_recovers_the_fixture_truth_and_its_optimal_plan():
    """On the media fixture, 7 of 8 true contributions lie in the 90% intervals and the plan
    earns at least 97% of the true optimum's gain on the true curves."""
    files = ("media_spend.csv", "media_outcomes.csv", "media_controls.csv",
             "media_lift_tests.csv")
    data = MediaData.from_files(*(FIXTURES / name for name in files))
    truth = json.loads((FIXTURES / "media_truth.json").read_text(encoding="utf-8"))
    model = ResponseModel(seed=0).fit(data)
    assert model.result_.converged, model.result_.to_dict()
    true = np.array([truth["channels"][c]["total_contribution"] for c in data.channels])
    totals = model.contributions().total
    assert ((true >= totals[:, 1]) & (true <= totals[:, 3])).sum() >= 7, (true, totals)

    optimum = truth["optimum"]
    family = curve(truth["curve"])
    beta, lam = (np.array([truth["channels"][c][k] for c in data.channels])
                 for k in ("beta", "lam"))
    current = np.array([optimum["current"][c] for c in data.channels])
    caps = np.array([optimum["upper_bounds"][c] for c in data.channels])
    draws = replace(model.response_draws(), current=current, max_weekly_spend=caps / 1.5)
    plan = BudgetAllocator(draws, horizon_weeks=1).solve(optimum["budget"])
    gain = (beta * (family.numpy(plan.weekly_spend, lam) - family.numpy(current, lam))).sum()
    assert gain >= 0.97 * optimum["gain"], (gain, optimum["gain"], plan.weekly_spend)


@pytest.mark.slow
def test_fit_is_seeded_and_survives_save_and_load(tmp_path):
    """Two fits with one seed give the same draws; the saved fit loads back identically."""
    data, _ = synthetic_media(weeks=52, n_channels=2, seed=5)
    settings = {"draws": 200, "tune": 200, "seed": 3, "fourier_order": 1}
    first = ResponseModel(**settings).fit(data)
    second = ResponseModel(**settings).fit(data)
    np.testing.assert_array_equal(first.response_draws().beta, second.response_draws().beta)
    first.save(tmp_path / "fit.nc")
    _assert_same(first, ResponseModel.load(tmp_path / "fit.nc"))


@pytest.mark.slow
def test_fit_with_lift_tests_attribution_prior_and_holdout():
    """Lift tests, an attribution prior and held-out weeks all enter one sampled fit."""
    data, truth = synthetic_media(weeks=64, n_channels=3, seed=7)
    family = curve("exponential")
    lift = truth["beta"][1] * (family.numpy(2 * truth["lam"][1], truth["lam"][1])
                               - family.numpy(truth["lam"][1], truth["lam"][1]))
    tests = pd.DataFrame({"channel": ["ch1"], "spend_before": [truth["lam"][1]],
                          "spend_after": [2 * truth["lam"][1]], "lift": [lift],
                          "lift_sd": [0.1 * lift]})
    data = MediaData(data.dates, "W", data.channels, data.spend, data.conversions,
                     data.revenue, lift_tests=tests)
    shares = dict(zip(data.channels, truth["contribution"] / truth["contribution"].sum(),
                      strict=True))
    model = ResponseModel(draws=300, tune=300, holdout_weeks=8, attribution_prior=shares,
                          sampler="nutpie").fit(data)
    r = model.result_
    assert r.holdout_weeks == 8 and r.holdout_coverage_90 is not None
    assert r.holdout_mape < 0.2
    draws = model.response_draws()
    gain = draws.steady_kpi(2 * truth["lam"][1])[:, 1] - draws.steady_kpi(truth["lam"][1])[:, 1]
    assert np.quantile(gain, 0.05) < lift < np.quantile(gain, 0.95)

