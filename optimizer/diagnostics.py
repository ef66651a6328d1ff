"""Convergence and fit diagnostics of a response-model fit, and its result object.

A fit is ``converged`` when every monitored parameter has split
:math:`\\hat R \\le 1.01`, bulk effective sample size :math:`\\ge 400` and no
draw diverged (Vehtari et al. 2021, "Rank-normalization, folding, and
localization"); otherwise it is ``not_converged`` and plans built on it are
refused unless the caller allows it.

Fit statistics use the posterior mean of the weekly mean KPI ``mu_t``:
``R^2 = 1 - sum (y - mu)^2 / sum (y - ybar)^2`` and
``MAPE = mean |y - mu| / |y|`` over weeks with ``y != 0`` (a fraction: 0.05 is
5%). On held-out weeks the 90% predictive interval is the 5% and 95% quantiles
of ``mu_t + sigma * z`` over draws, ``z`` standard normal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from optimizer.errors import NotConvergedError

Array = NDArray[np.float64]

R_HAT_MAX = 1.01
ESS_MIN = 400
CONVERGED, NOT_CONVERGED = "converged", "not_converged"


@dataclass(frozen=True)
class FitResult:
    """Diagnostics of one fit; ``to_dict()`` is its JSON report."""

    status: str
    max_r_hat: float
    min_ess_bulk: float
    divergences: int
    r2: float
    mape: float
    holdout_weeks: int = 0
    holdout_mape: float | None = None
    holdout_coverage_90: float | None = None
    sampler: str = ""
    chains: int = 0
    draws: int = 0
    tune: int = 0
    seed: int = 0
    seconds: float = 0.0
    n_weeks: int = 0
    channels: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def converged(self) -> bool:
        """Whether the sampler met every threshold."""
        return self.status == CONVERGED

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with ``converged`` and the thresholds."""
        out = asdict(self)
        out["channels"] = list(self.channels)
        out["warnings"] = list(self.warnings)
        out["converged"] = self.converged
        out["thresholds"] = {"r_hat_max": R_HAT_MAX, "ess_bulk_min": ESS_MIN,
                             "divergences_max": 0}
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FitResult:
        """Inverse of :meth:`to_dict`."""
        keep = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        keep["channels"] = tuple(keep.get("channels", ()))
        keep["warnings"] = tuple(keep.get("warnings", ()))
        return cls(**keep)

    def require_converged(self, allow: bool = False) -> None:
        """Raise :class:`NotConvergedError` unless converged or ``allow``."""
        if not self.converged and not allow:
            raise NotConvergedError(
                f"the sampler did not converge (max r_hat {self.max_r_hat:.3f} > {R_HAT_MAX}, "
                f"min bulk ESS {self.min_ess_bulk:.0f} < {ESS_MIN} or {self.divergences} "
                "divergences); refit with more tune/draws, or allow it explicitly")


def sampler_checks(idata: Any, var_names: Sequence[str]) -> tuple[float, float, int]:
    """Max split r_hat, min bulk ESS over ``var_names`` and the number of divergences.

    A value arviz cannot compute (NaN, e.g. a constant trace) counts as failing.
    """
    import arviz as az

    rhat = az.rhat(idata, var_names=list(var_names))
    ess = az.ess(idata, var_names=list(var_names), method="bulk")
    rhats = np.concatenate([np.ravel(rhat[v].values) for v in var_names])
    esses = np.concatenate([np.ravel(ess[v].values) for v in var_names])
    max_rhat = float(np.inf if np.isnan(rhats).any() else rhats.max())
    min_ess = float(0.0 if np.isnan(esses).any() else esses.min())
    stats = idata.sample_stats if "sample_stats" in idata.groups() else {}
    diverging = stats.get("diverging")
    divergences = 0 if diverging is None else int(np.asarray(diverging).sum())
    return max_rhat, min_ess, divergences


def status(max_r_hat: float, min_ess_bulk: float, divergences: int) -> str:
    """``converged`` when every threshold holds, else ``not_converged``."""
    ok = max_r_hat <= R_HAT_MAX and min_ess_bulk >= ESS_MIN and divergences == 0
    return CONVERGED if ok else NOT_CONVERGED


def r_squared(y: Array, mu: Array) -> float:
    """In-sample ``R^2`` of predictions ``mu``."""
    total = float(np.sum((y - np.mean(y)) ** 2))
    return float(1 - np.sum((y - mu) ** 2) / total) if total > 0 else float("nan")


def mape(y: Array, mu: Array) -> float:
    """Mean absolute percentage error over weeks with ``y != 0``, as a fraction."""
    keep = y != 0
    return float(np.mean(np.abs(y[keep] - mu[keep]) / np.abs(y[keep]))) if keep.any() \
        else float("nan")


def interval_coverage(y: Array, predictive: Array, level: float = 0.9) -> float:
    """Share of weeks whose ``y`` lies in the central ``level`` interval of
    ``predictive`` (``(draws, weeks)``)."""
    lo, hi = np.quantile(predictive, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return float(np.mean((y >= lo) & (y <= hi)))


def predictive_draws(mu: Array, sigma: Array, seed: int) -> Array:
    """``(draws, weeks)`` posterior predictive ``mu + sigma * z`` with a seeded ``z``."""
    z = np.random.default_rng(seed).standard_normal(mu.shape)
    return np.asarray(mu + sigma[:, None] * z)
