"""The checks of a response-model fit, each against its threshold, with the fix of a failure.

A fit's stored diagnostics (:meth:`optimizer.diagnostics.FitResult.to_dict`)
become :class:`Check` objects: R-hat, bulk effective sample size and
divergences against the sampler thresholds of :mod:`optimizer.diagnostics`,
the in-sample R², and on held-out weeks the mean absolute percentage error and
the share of weeks inside the 90% predictive interval. A failed check names
its :class:`Fix`: more tuning, more draws (enough for the bulk ESS to reach
its threshold, since ESS grows about linearly with draws), a lift test for
each poorly mixed channel without one (:func:`poorly_mixed`), controls, or
weeks to hold out. Suggestions stay within what
:class:`~optimizer.requests.FitRequest` accepts. The pages put them in words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer import diagnostics as dx
from optimizer.requests import FitRequest

#: In-sample R² below this leaves most weekly movement of the KPI unexplained (rule of thumb).
R2_MIN = 0.5
#: Mean absolute error on the held-out weeks above this share of the KPI is flagged.
HOLDOUT_ERROR_MAX = 0.2
#: A 90% interval that holds fewer held-out weeks than this is overconfident.
COVERAGE_MIN = 0.7
#: Weeks suggested to hold out when a fit held out none (at most a fifth of the data).
HOLDOUT_SUGGESTED = 8
#: Parameters whose per-channel mixing names the channels the data pin down poorly.
CHANNEL_PARAMETERS = ("beta", "lam")


def _most(name: str) -> int:
    """The largest value :class:`~optimizer.requests.FitRequest` accepts for ``name``."""
    return int(next(m.le for m in FitRequest.model_fields[name].metadata if hasattr(m, "le")))


@dataclass(frozen=True)
class Fix:
    """What to change when a check fails.

    ``kind`` is ``"tune"`` or ``"draws"`` (refit with ``value`` of them),
    ``"lift_tests"`` (add a lift test for each of ``channels``), ``"holdout"``
    (refit holding out ``value`` weeks) or ``"controls"`` (add a controls dataset
    with what else moves the KPI: prices, promotions, holidays).
    """

    kind: str
    value: int | None = None
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One diagnostic against its threshold.

    ``name`` is ``r_hat``, ``ess``, ``divergences``, ``fit`` (in-sample R²),
    ``holdout`` (whether weeks were held out), ``holdout_error`` (mean absolute
    percentage error on them) or ``holdout_coverage`` (share of them inside the
    90% interval); ``state`` is ``"pass"``, ``"fail"`` or ``"none"`` (not run).
    """

    name: str
    state: str
    value: float | None = None
    limit: float | None = None
    fixes: tuple[Fix, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        """Whether the check failed."""
        return self.state == "fail"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _judged(name: str, value: float | None, limit: float, ok: bool,
            fixes: tuple[Fix, ...]) -> Check:
    if value is None or np.isnan(value):
        return Check(name, "fail", value, limit, fixes)
    return Check(name, "pass" if ok else "fail", value, limit, () if ok else fixes)


def checks(diagnostics: Mapping[str, Any], weak: Sequence[str] = ()) -> list[Check]:
    """Each diagnostic of a stored fit against its threshold, with the fix of a failure.

    Parameters
    ----------
    diagnostics
        :meth:`optimizer.diagnostics.FitResult.to_dict` of the fit.
    weak
        Channels whose parameters mixed poorly and have no lift test
        (:func:`poorly_mixed`); a failing sampler check names a lift test for them.

    Returns
    -------
    list of Check
        R-hat, bulk ESS, divergences, in-sample fit, then the held-out weeks.
    """
    draws, tune = int(diagnostics.get("draws") or 0), int(diagnostics.get("tune") or 0)
    lift = (Fix("lift_tests", channels=tuple(weak)),) if weak else ()
    more_tune = Fix("tune", min(_most("tune"), max(2 * tune, FitRequest().tune)))
    more_draws = Fix("draws", min(_most("draws"), max(2 * draws, FitRequest().draws)))
    r_hat, ess = _number(diagnostics.get("max_r_hat")), _number(diagnostics.get("min_ess_bulk"))
    divergences, r2 = _number(diagnostics.get("divergences")), _number(diagnostics.get("r2"))
    if ess is not None and 0 < ess < dx.ESS_MIN and draws:
        # ESS grows about linearly with draws; a quarter more for the noise in its estimate.
        needed = int(np.ceil(draws * dx.ESS_MIN / ess * 1.25 / 100) * 100)
        more_draws = Fix("draws", min(_most("draws"), max(needed, draws + 100)))
    found = [
        _judged("r_hat", r_hat, dx.R_HAT_MAX, r_hat is not None and r_hat <= dx.R_HAT_MAX,
                (more_tune, more_draws, *lift)),
        _judged("ess", ess, dx.ESS_MIN, ess is not None and ess >= dx.ESS_MIN,
                (more_draws, *lift)),
        _judged("divergences", divergences, 0, divergences == 0, (more_tune, *lift)),
        _judged("fit", r2, R2_MIN, r2 is not None and r2 >= R2_MIN, (Fix("controls"),)),
    ]
    return found + _holdout_checks(diagnostics)


def _holdout_checks(diagnostics: Mapping[str, Any]) -> list[Check]:
    weeks = int(diagnostics.get("holdout_weeks") or 0)
    if not weeks:
        fit_weeks = int(diagnostics.get("n_weeks") or 0)
        suggested = max(1, min(HOLDOUT_SUGGESTED, fit_weeks // 5))
        return [Check("holdout", "none", 0, None, (Fix("holdout", suggested),))]
    error = _number(diagnostics.get("holdout_mape"))
    coverage = _number(diagnostics.get("holdout_coverage_90"))
    controls = (Fix("controls"),)
    return [Check("holdout", "pass", weeks),
            _judged("holdout_error", error, HOLDOUT_ERROR_MAX,
                    error is not None and error <= HOLDOUT_ERROR_MAX, controls),
            _judged("holdout_coverage", coverage, COVERAGE_MIN,
                    coverage is not None and coverage >= COVERAGE_MIN, controls)]


def poorly_mixed(idata: Any, channels: Sequence[str]) -> tuple[str, ...]:
    """The ``channels`` whose ``beta`` or ``lam`` draws miss the R-hat or bulk-ESS threshold.

    These are the channels the data cannot pin down; a lift test on each is
    the surest remedy. ``channels`` name the last axis of those draws, in order.
    """
    import arviz as az

    names = [v for v in CHANNEL_PARAMETERS if v in idata.posterior]
    if not names:
        return ()
    rhat = az.rhat(idata, var_names=names)
    ess = az.ess(idata, var_names=names, method="bulk")
    bad = np.zeros(len(channels), dtype=bool)
    for name in names:
        r = np.asarray(rhat[name].values, dtype=float).reshape(len(channels))
        e = np.asarray(ess[name].values, dtype=float).reshape(len(channels))
        bad |= ~(r <= dx.R_HAT_MAX) | ~(e >= dx.ESS_MIN)
    return tuple(c for c, b in zip(channels, bad, strict=True) if b)
