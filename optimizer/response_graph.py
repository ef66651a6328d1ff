"""The PyMC graph of the response model, and the NUTS samplers that draw from it.

For week ``t`` and channel ``c``, in the scaled units of :mod:`optimizer.design`,

.. math::

    y_t \\sim \\mathrm{Normal}(\\mu_t, \\sigma), \\qquad
    \\mu_t = b_0 + \\delta\\,\\tau_t + \\sum_k \\gamma_k f_{tk} + \\sum_j \\eta_j z_{tj}
           + \\sum_c \\beta_c\\, s\\big(a_{tc}; \\lambda_c\\big),

with ``tau`` the centred trend, ``f`` yearly Fourier terms, ``z`` standardised
controls, ``a_tc = sum_{l<L} w_l(alpha_c) x_{t-l,c}`` the normalised geometric
adstock (:func:`optimizer.adstock.geometric_adstock_pt`) and ``s`` a curve of
the registry (:mod:`optimizer.curves`), in its pytensor form. The priors, and
how ``beta`` derives from ``media_share``, ``efficiency`` and ``lam``, are in
:mod:`optimizer.priors`.

Optional terms:

* **Lift tests**: each test ``i`` on channel ``c`` adds
  ``lift_i ~ Normal(beta_c (s(x_after; lam_c) - s(x_before; lam_c)), lift_sd_i)``,
  the steady-state change in weekly KPI.
* **Attribution prior**: the shares
  ``q_c = sum_t beta_c s(a_tc) / sum_{c',t} beta_c' s(a_tc')`` of media
  contribution over the fit weeks get the density
  ``prod_c q_c^(a_c - 1)``, ``a = 1 + p / width^2``, whose mode is the attributed
  shares ``p`` (a potential that multiplies the priors; see
  :func:`optimizer.priors.attribution_concentration`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from optimizer.adstock import geometric_adstock_pt
from optimizer.curves import curve
from optimizer.design import Design, LiftTests
from optimizer.priors import PRIORS
from spendwise.progress import Progress

Array = NDArray[np.float64]
SAMPLERS = ("nutpie", "pymc", "numpyro")
#: Fastest sampler that converges on the benchmark fit (``docs/sampler.md``).
DEFAULT_SAMPLER = "nutpie"
TARGET_ACCEPT = 0.9
#: Posterior variables checked for convergence and read back as parameters.
MONITORED = ("intercept", "trend", "season", "control", "media_share", "efficiency", "lam",
             "alpha", "beta", "sigma")


def _prior(name: str, dims: str | None = None) -> Any:
    import pymc as pm

    dist, params = PRIORS[name]
    return getattr(pm, dist)(name, **params, dims=dims)


def build_model(design: Design, curve_name: str, lift: LiftTests | None = None,
                concentration: Array | None = None) -> Any:
    """The PyMC model of the fit weeks of ``design`` (see the module docstring)."""
    import pymc as pm
    import pytensor.tensor as pt

    s, n, lags = design.series, design.series.n_fit, design.max_lag
    family = curve(curve_name)
    coords: dict[str, Any] = {"channel": list(s.channels), "fourier_term": design.season_names,
                              "control_name": list(s.control_names)}
    with pm.Model(coords=coords) as model:
        # The intercept is sampled as the level around which the media sum varies, so the
        # likelihood pins ``level`` and the media's mean is traded off against the intercept
        # only through the priors (a shift, Jacobian 1: the posterior is unchanged).
        level = pm.Flat("level")
        mu = level + _prior("trend") * design.trend[:n]
        if design.fourier_order:
            mu = mu + pt.dot(design.season[:n], _prior("season", "fourier_term"))
        if s.control_names:
            mu = mu + pt.dot(design.controls[:n], _prior("control", "control_name"))
        lam, alpha = (_prior(v, "channel") for v in ("lam", "alpha"))
        # Equal KPI per unit of spend at each channel's mean spend, times an efficiency.
        weight = np.log(design.scales.spend) + _prior("efficiency", "channel")
        split = pt.exp(weight - pt.max(weight))
        effect = pm.Deterministic("effect", _prior("media_share") * split / split.sum(),
                                  dims="channel")
        beta = pm.Deterministic("beta", effect / family.pytensor(1.0, lam), dims="channel")
        spend = pt.as_tensor(design.padded_spend[: lags - 1 + n])
        parts = beta * family.pytensor(geometric_adstock_pt(spend, alpha, lags)[lags - 1:], lam)
        total = parts.sum(axis=1)
        intercept = pm.Deterministic("intercept", level - total.mean())
        dist, params = PRIORS["intercept"]
        pm.Potential("intercept_prior", pm.logp(getattr(pm, dist).dist(**params), intercept))
        pm.Normal("y", mu + total - total.mean(), _prior("sigma"), observed=design.y[:n])
        if lift is not None:
            c = lift.channel
            gain = family.pytensor(lift.after, lam[c]) - family.pytensor(lift.before, lam[c])
            pm.Normal("lift", beta[c] * gain, lift.sd, observed=lift.lift)
        if concentration is not None:
            totals = parts.sum(axis=0)
            shares = totals / totals.sum()
            pm.Potential("attribution_prior", pt.sum((concentration - 1) * pt.log(shares)))
    return model


#: Seconds between two counts of nutpie's draws while it samples.
POLL_SECONDS = 0.5


class DrawCounter:
    """Draws finished of ``chains x (tune + draws)``, reported to ``progress`` as they grow.

    The note is ``"tuning"`` while a chain still tunes, then ``"sampling"``.
    """

    def __init__(self, progress: Progress, *, chains: int, tune: int, draws: int) -> None:
        self.progress = progress
        self.tune = tune
        self.per_chain = tune + draws
        self.total = chains * self.per_chain
        self.counts = [0] * chains
        self.done = -1

    def start(self, note: str) -> None:
        """Report that no draw is done yet, and why (``"compiling the model"``)."""
        self.done = 0
        self.progress(0, self.total, note)

    def update(self, counts: Sequence[int]) -> None:
        """Report the draws done per chain, if more than last time."""
        counts = [min(max(int(c), 0), self.per_chain) for c in counts]
        done = sum(counts)
        if done > self.done:
            self.done = done
            self.progress(done, self.total, "tuning" if min(counts) < self.tune else "sampling")

    def pymc(self, trace: Any, draw: Any) -> None:
        """PyMC's ``pm.sample(callback=...)``: called after each draw of each chain."""
        self.counts[draw.chain % len(self.counts)] = draw.draw_idx + 1
        self.update(self.counts)

    def finish(self) -> None:
        """Report every draw done."""
        self.update([self.per_chain] * len(self.counts))


def sample(model: Any, *, sampler: str, draws: int, tune: int, chains: int, seed: int,
           progressbar: bool, counter: DrawCounter | None = None) -> Any:
    """NUTS draws of ``model`` with ``sampler``, as arviz InferenceData.

    nutpie is called directly: going through ``pm.sample`` adds seconds of
    set-up that nutpie does not need. With ``counter``, the draws are counted
    as they are made (after each draw with PyMC; every :data:`POLL_SECONDS`
    with nutpie, whose callback exists only in notebooks, so it samples in the
    background and its trace so far is counted; at the start and the end only
    with numpyro) and the sampler shows no bar of its own. Counting does not
    change the draws.
    """
    cores = min(chains, os.cpu_count() or 1)
    if counter is not None:
        progressbar = False
        counter.start("compiling the model")
    if sampler == "nutpie":
        import nutpie

        if progressbar:  # nutpie's bar starts after a compilation of 10 to 20 seconds
            print("spendwise: compiling the model for nutpie ...", file=sys.stderr, flush=True)
        compiled = nutpie.compile_pymc_model(model)
        # The low-rank mass matrix learns the intercept / media-share / season
        # correlations a diagonal one cannot: ESS 500-900 instead of about 400 on the
        # benchmark fit, at the same cost (docs/sampler.md).
        settings = {"draws": draws, "tune": tune, "chains": chains, "cores": cores, "seed": seed,
                    "target_accept": TARGET_ACCEPT, "save_warmup": False,
                    "low_rank_modified_mass_matrix": True, "progress_bar": progressbar}
        if counter is None:
            return nutpie.sample(compiled, **settings)
        idata = _nutpie_counted(nutpie.sample(compiled, blocking=False, **settings), counter)
    else:
        import pymc as pm

        kwargs: dict[str, Any] = {"cores": cores}
        if sampler == "numpyro":
            # pymc.sampling.jax gives JAX one CPU device per chain when it is imported first.
            kwargs["nuts_sampler_kwargs"] = {"chain_method": "parallel"}
        elif counter is not None:
            kwargs["callback"] = counter.pymc
        with model:
            idata = pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed,
                              nuts_sampler=sampler, progressbar=progressbar,
                              quiet=not progressbar, target_accept=TARGET_ACCEPT,
                              compute_convergence_checks=False, **kwargs)
    if counter is not None:
        counter.finish()
    return idata


def _nutpie_counted(running: Any, counter: DrawCounter) -> Any:
    """Wait for a background nutpie sampler, counting its draws as they grow."""
    try:
        while True:
            try:
                return running.wait(timeout=POLL_SECONDS)
            except TimeoutError:  # still sampling
                counts = _nutpie_counts(running)
                if counts is not None:
                    counter.update(counts)
    except BaseException:
        running.cancel()
        raise


def _nutpie_counts(running: Any) -> list[int] | None:
    """Draws (tuning included) each chain of a background nutpie sampler has finished.

    Reads the trace so far, which nutpie 0.16 keeps in Arrow batches per chain;
    ``None`` where a nutpie version keeps it otherwise.
    """
    try:
        draws, _ = running._sampler.inspect().get_arrow_trace()
        return [int(batch.num_rows) for batch in draws]
    except (AttributeError, TypeError, ValueError):
        return None


def posterior_params(idata: Any) -> dict[str, Array]:
    """Posterior arrays with chains and draws flattened to one leading axis."""
    post = idata.posterior
    out = {}
    for name in MONITORED:
        if name in post:
            values = np.asarray(post[name].values, dtype=float)
            out[name] = values.reshape(-1, *values.shape[2:])
    return out
