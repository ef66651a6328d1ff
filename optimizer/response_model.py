"""Bayesian media-mix model: weekly KPI from adstocked, saturating spend.

:class:`ResponseModel` follows the estimator contract: settings in
``__init__``, :meth:`~ResponseModel.fit` samples the posterior of a
:class:`~optimizer.data.MediaData` with NUTS and keeps ``idata_`` (arviz) and
``result_`` (:class:`~optimizer.diagnostics.FitResult`). Its layers:

* :mod:`optimizer.design`: weekly series, scaling, baseline features, numpy forward pass;
* :mod:`optimizer.priors`: the priors (a table), the attribution prior, value per conversion;
* :mod:`optimizer.response_graph`: the PyMC graph (the model's formula) and the samplers;
* :mod:`optimizer.diagnostics`: convergence and fit statistics;
* :mod:`optimizer.response_summary`: curves, contributions and the chart.

A fitted model hands the optimizer a :class:`~optimizer.posterior.ResponseDraws`
in original units (:meth:`~ResponseModel.response_draws`) and saves to one
NetCDF file (:meth:`~ResponseModel.save`, :meth:`~ResponseModel.load`).

Progress of a fit (``fit(data, progress=...)``) is counted in draws,
``chains x (tune + draws)`` in all, tuning included
(:class:`~optimizer.response_graph.DrawCounter`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from optimizer import diagnostics as dx
from optimizer.curves import CURVES
from optimizer.data import MediaData, minimum_periods
from optimizer.design import (
    Design,
    LiftTests,
    Scales,
    Series,
    baseline,
    lift_tests,
    predict,
    weekly,
)
from optimizer.errors import InputError, NotFittedError, ParameterError
from optimizer.posterior import ResponseDraws
from optimizer.priors import (
    NO_VALUE,
    attribution_concentration,
    attribution_shares,
    value_per_kpi,
)
from optimizer.requests import FIT_DEFAULTS, FitRequest
from optimizer.response_graph import (
    DEFAULT_SAMPLER,
    MONITORED,
    SAMPLERS,
    DrawCounter,
    build_model,
    posterior_params,
    sample,
)
from optimizer.response_summary import (
    Contributions,
    ResponseCurves,
    plot_response_curves,
    response_curves,
)
from spendwise.progress import Progress

Array = NDArray[np.float64]
#: ``ResponseDraws.baseline`` is the mean weekly baseline over the last this many fit weeks.
BASELINE_WEEKS = 52
#: ``ResponseDraws.current`` is the mean weekly spend of the last this many weeks.
CURRENT_WEEKS = 4
FORMAT_VERSION = 1


class Inputs(NamedTuple):
    """What :meth:`ResponseModel.prepare` builds from the data and the settings."""

    design: Design
    lift: LiftTests | None
    shares: Array | None
    concentration: Array | None
    value: Array
    value_source: str
    fingerprint: str


def _series_dataset(series: Series) -> Any:
    import xarray as xr

    return xr.Dataset(
        {"spend": (("week", "channel"), series.spend), "kpi": ("week", series.kpi),
         "controls": (("week", "control"), series.controls)},
        coords={"week": series.dates.to_numpy(), "channel": list(series.channels),
                "control": list(series.control_names)},
    )


class ResponseModel:
    """Fit weekly response curves to a ``MediaData`` with NUTS.

    Parameters
    ----------
    kpi
        ``"conversions"`` or ``"revenue"``.
    curve
        Saturation family of :mod:`optimizer.curves`.
    max_lag
        Adstock length in weeks.
    fourier_order
        Number of yearly Fourier pairs in the baseline.
    draws, tune, chains, seed
        NUTS settings: draws and tuning steps per chain (the defaults are those of
        :class:`~optimizer.requests.FitRequest`).
    sampler
        ``"nutpie"`` (default, fastest here), ``"pymc"`` or ``"numpyro"``.
    holdout_weeks
        Last weeks left out of the fit and used to score forecasts.
    value_per_conversion
        Revenue per conversion: a number, or ``channel -> value``; see
        :func:`optimizer.priors.value_per_kpi`.
    attribution_prior
        A ``spendwise attribute`` report (path or object) or ``channel -> share``.
    prior_width
        Width of the attribution prior (see
        :func:`optimizer.priors.attribution_concentration`).
    progressbar
        Show the sampler's progress bar.
    """

    def __init__(self, *, kpi: str = FIT_DEFAULTS.kpi, curve: str = FIT_DEFAULTS.curve,
                 max_lag: int = FIT_DEFAULTS.max_lag,
                 fourier_order: int = FIT_DEFAULTS.fourier_order,
                 draws: int = FIT_DEFAULTS.draws, tune: int = FIT_DEFAULTS.tune,
                 chains: int = FIT_DEFAULTS.chains, seed: int = FIT_DEFAULTS.seed,
                 sampler: str = DEFAULT_SAMPLER,
                 holdout_weeks: int = FIT_DEFAULTS.holdout_weeks,
                 value_per_conversion: float | Mapping[str, float] | None = None,
                 attribution_prior: Any = None,
                 prior_width: float = FIT_DEFAULTS.prior_width,
                 progressbar: bool = False) -> None:
        self.kpi = kpi
        self.curve = curve
        self.max_lag = max_lag
        self.fourier_order = fourier_order
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.seed = seed
        self.sampler = sampler
        self.holdout_weeks = holdout_weeks
        self.value_per_conversion = value_per_conversion
        self.attribution_prior = attribution_prior
        self.prior_width = prior_width
        self.progressbar = progressbar

    @classmethod
    def for_request(cls, request: FitRequest, *, sampler: str = DEFAULT_SAMPLER,
                    progressbar: bool = False) -> ResponseModel:
        """A model with the settings of ``request``; ``sampler`` and ``progressbar`` say how
        to sample, not what is estimated."""
        return cls(**request.model_dump(), sampler=sampler, progressbar=progressbar)

    # -- settings ---------------------------------------------------------------------------

    def _validate(self) -> None:
        if self.kpi not in ("conversions", "revenue"):
            raise ParameterError(f"kpi must be 'conversions' or 'revenue', got {self.kpi!r}")
        if self.curve not in CURVES:
            raise ParameterError(f"curve: unknown family {self.curve!r}; choose from "
                                 f"{', '.join(CURVES)}")
        if self.sampler not in SAMPLERS:
            raise ParameterError(f"sampler must be one of {', '.join(SAMPLERS)}, "
                                 f"got {self.sampler!r}")
        for name, low in (("max_lag", 1), ("fourier_order", 0), ("draws", 1), ("tune", 0),
                          ("chains", 1), ("holdout_weeks", 0), ("seed", 0)):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
                raise ParameterError(f"{name} must be an integer >= {low}, got {value!r}")
        attribution_concentration(np.ones(1), self.prior_width)  # checks the width

    def settings(self) -> dict[str, Any]:
        """The constructor's settings (the attribution prior as resolved shares)."""
        out = {name: getattr(self, name) for name in (
            "kpi", "curve", "max_lag", "fourier_order", "draws", "tune", "chains", "seed",
            "sampler", "holdout_weeks", "prior_width", "progressbar")}
        value = self.value_per_conversion
        out["value_per_conversion"] = dict(value) if isinstance(value, Mapping) else value
        return out

    # -- fitting ----------------------------------------------------------------------------

    def prepare(self, data: MediaData) -> Inputs:
        """Check the settings against ``data`` and build the model's inputs."""
        self._validate()
        series = weekly(data, self.kpi, self.holdout_weeks)
        needed = minimum_periods(len(series.channels), len(series.control_names),
                                 self.fourier_order)
        if series.n_fit < needed:
            raise InputError(f"{series.n_fit} fit weeks (after {self.holdout_weeks} held out) "
                             f"are fewer than the {needed} this model needs (minimum_periods)")
        design = Design.of(series, self.max_lag, self.fourier_order)
        shares = conc = None
        if self.attribution_prior is not None:
            shares = attribution_shares(self.attribution_prior, series.channels)
            conc = attribution_concentration(shares, self.prior_width)
        value, source = value_per_kpi(self.kpi, series.channels, self.value_per_conversion,
                                      data.conversions, data.revenue)
        return Inputs(design, lift_tests(data, design.scales), shares, conc, value, source,
                      data.fingerprint)

    def fit(self, data: MediaData, *, progress: Progress | None = None) -> Self:
        """Sample the posterior of ``data``; sets ``idata_`` and ``result_``.

        ``progress`` hears the draws done of ``chains x (tune + draws)``
        (:class:`DrawCounter`); when given, the sampler shows no bar of its own.
        """
        inputs = self.prepare(data)
        model = build_model(inputs.design, self.curve, inputs.lift, inputs.concentration)
        start = time.perf_counter()
        counter = None if progress is None else \
            DrawCounter(progress, chains=self.chains, tune=self.tune, draws=self.draws)
        idata = sample(model, sampler=self.sampler, draws=self.draws, tune=self.tune,
                       chains=self.chains, seed=self.seed, progressbar=self.progressbar,
                       counter=counter)
        return self._adopt(inputs, idata, time.perf_counter() - start)

    @classmethod
    def from_posterior(cls, data: MediaData, idata: Any, **settings: Any) -> ResponseModel:
        """A fitted model from draws made elsewhere, e.g. by hand with ``arviz.from_dict``.

        ``idata.posterior`` needs the model's variables (``intercept``, ``trend``,
        ``season``, ``control``, ``beta``, ``lam``, ``alpha``, ``sigma``) in scaled
        units; ``sample_stats.diverging`` is read when present.
        """
        model = cls(**settings)
        return model._adopt(model.prepare(data), idata, 0.0)

    def _adopt(self, inputs: Inputs, idata: Any, seconds: float) -> Self:
        import arviz as az

        groups = {"posterior": idata.posterior,
                  "constant_data": _series_dataset(inputs.design.series)}
        if "sample_stats" in idata.groups():
            groups["sample_stats"] = idata.sample_stats
        idata = az.InferenceData(**groups)
        shares = None if inputs.shares is None else dict(
            zip(inputs.design.series.channels, inputs.shares.tolist(), strict=True))
        meta = {"format": FORMAT_VERSION, "settings": self.settings(),
                "scales": inputs.design.scales.to_dict(), "n_fit": inputs.design.series.n_fit,
                "fingerprint": inputs.fingerprint, "value_per_kpi": inputs.value.tolist(),
                "value_source": inputs.value_source,
                "lift_tests": 0 if inputs.lift is None else len(inputs.lift),
                "attribution_shares": shares}
        warnings = [] if inputs.value_source != NO_VALUE else \
            ["no value per conversion: ROMI is in conversions per unit of spend"]
        self._restore(idata, inputs.design, meta,
                      self.diagnose(idata, inputs.design, seconds, warnings))
        return self

    def diagnose(self, idata: Any, design: Design, seconds: float = 0.0,
                 warnings: list[str] | None = None) -> dx.FitResult:
        """Sampler checks and fit statistics of ``idata`` on ``design``."""
        names = [v for v in MONITORED if v in idata.posterior]
        max_rhat, min_ess, divergences = dx.sampler_checks(idata, names)
        params = posterior_params(idata)
        mu, _ = predict(design, self.curve, params)
        n = design.series.n_fit
        y = design.y
        holdout_mape = coverage = None
        if n < len(y):
            predictive = dx.predictive_draws(mu[:, n:], params["sigma"], self.seed)
            holdout_mape = dx.mape(y[n:], mu[:, n:].mean(axis=0))
            coverage = dx.interval_coverage(y[n:], predictive, 0.9)
        status = dx.status(max_rhat, min_ess, divergences)
        notes = list(warnings or [])
        if status != dx.CONVERGED:
            notes.append("not converged: plans from this fit are refused unless allowed")
        post = idata.posterior
        return dx.FitResult(
            status, max_rhat, min_ess, divergences, dx.r_squared(y[:n], mu[:, :n].mean(0)),
            dx.mape(y[:n], mu[:, :n].mean(0)), len(y) - n, holdout_mape, coverage,
            self.sampler, int(post.sizes["chain"]), int(post.sizes["draw"]), self.tune,
            self.seed, seconds, n, design.series.channels, tuple(notes))

    def _restore(self, idata: Any, design: Design, meta: dict[str, Any],
                 result: dx.FitResult) -> None:
        self.idata_ = idata
        self.design_ = design
        self.meta_ = meta
        self.result_ = result
        self.value_per_kpi_ = np.asarray(meta["value_per_kpi"], dtype=float)

    # -- results ----------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "result_"):
            raise NotFittedError("this ResponseModel is not fitted yet; call fit(data) first")

    @property
    def converged(self) -> bool:
        """Whether the fit met every convergence threshold."""
        self._check_fitted()
        return self.result_.converged

    def require_converged(self, allow: bool = False) -> None:
        """Raise :class:`~optimizer.errors.NotConvergedError` unless converged or ``allow``."""
        self._check_fitted()
        self.result_.require_converged(allow)

    def _draw_index(self, n_draws: int | None, seed: int) -> NDArray[np.int64]:
        total = self.idata_.posterior.sizes["chain"] * self.idata_.posterior.sizes["draw"]
        if n_draws is None:
            return np.arange(total)
        if n_draws < 1:
            raise ParameterError(f"n_draws must be positive, got {n_draws}")
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(total, n_draws, replace=n_draws > total))

    def response_draws(self, n_draws: int | None = None, seed: int = 0) -> ResponseDraws:
        """Posterior draws of the response in original units for the optimizer.

        ``beta`` is weekly KPI at saturation, ``lam`` spend per week, ``baseline``
        the mean weekly KPI without media over the last :data:`BASELINE_WEEKS`
        fit weeks, ``history`` the last ``max_lag - 1`` weeks of spend,
        ``current`` the mean spend of the last :data:`CURRENT_WEEKS` weeks.
        ``n_draws`` draws are taken at random (seeded) from all chains; ``None``
        keeps them all.
        """
        self._check_fitted()
        design, s = self.design_, self.design_.series
        params = {k: v[self._draw_index(n_draws, seed)]
                  for k, v in posterior_params(self.idata_).items()}

        n = s.n_fit
        weeks = slice(max(0, n - BASELINE_WEEKS), n)
        base = baseline(design, params)[:, weeks].mean(axis=1) * design.scales.kpi
        spend_scale = np.asarray(design.scales.spend)
        return ResponseDraws(
            channels=s.channels, curve_name=self.curve,
            beta=params["beta"] * design.scales.kpi, lam=params["lam"] * spend_scale,
            alpha=params["alpha"], max_lag=self.max_lag, value_per_kpi=self.value_per_kpi_,
            baseline=base, history=s.spend[len(s.spend) - (self.max_lag - 1):].copy(),
            current=s.spend[-CURRENT_WEEKS:].mean(axis=0),
            max_weekly_spend=s.spend.max(axis=0), kpi=self.kpi,
            meta={"fingerprint": self.meta_["fingerprint"], "status": self.result_.status,
                  "converged": self.result_.converged,
                  "value_source": self.meta_["value_source"]})

    def curves(self, grid: ArrayLike | None = None) -> ResponseCurves:
        """Weekly KPI and marginal ROMI per channel on a spend grid (default 0 to 1.5 x max)."""
        return response_curves(self.response_draws(), grid)

    def plot_curves(self, path: str | Path, grid: ArrayLike | None = None) -> None:
        """Write the curves chart to ``path`` (``.png`` or ``.svg``)."""
        path = Path(path)
        data = plot_response_curves(self.curves(grid), path.suffix.lstrip(".").lower())
        path.write_bytes(data)

    def contributions(self) -> Contributions:
        """Each channel's total KPI over the fit weeks, mean and 5/50/95%."""
        self._check_fitted()
        _, parts = predict(self.design_, self.curve, posterior_params(self.idata_))
        n = self.design_.series.n_fit
        totals = parts[:, :n].sum(axis=1) * self.design_.scales.kpi
        return Contributions.of(self.design_.series.channels, totals, n, self.kpi)

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the fit to one NetCDF file: draws, weekly data, settings and diagnostics."""
        self._check_fitted()
        idata = self.idata_.copy()
        meta = self.meta_ | {"result": self.result_.to_dict()}
        idata.constant_data.attrs["spendwise"] = json.dumps(meta, allow_nan=True)
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        idata.to_netcdf(str(tmp))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> ResponseModel:
        """A fitted model from a file written by :meth:`save`."""
        import arviz as az

        try:
            with az.rc_context({"data.load": "eager"}):
                idata = az.from_netcdf(str(path))
            meta = json.loads(idata.constant_data.attrs["spendwise"])
        except (OSError, KeyError, ValueError, AttributeError) as exc:
            raise InputError(f"{path}: not a saved ResponseModel ({exc})") from None
        model = cls(**meta["settings"], attribution_prior=meta["attribution_shares"])
        data = idata.constant_data
        series = Series(pd.DatetimeIndex(data["week"].values),
                        tuple(str(c) for c in data["channel"].values),
                        np.asarray(data["spend"].values, dtype=float),
                        np.asarray(data["kpi"].values, dtype=float),
                        np.asarray(data["controls"].values, dtype=float),
                        tuple(str(c) for c in data["control"].values), int(meta["n_fit"]))
        design = Design(series, Scales.from_dict(meta["scales"]), model.max_lag,
                        model.fourier_order)
        del idata.constant_data.attrs["spendwise"]
        model._restore(idata, design, meta, dx.FitResult.from_dict(meta.pop("result")))
        return model
