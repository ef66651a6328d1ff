"""Bootstrap confidence intervals for attributed conversions, value and shares.

Journeys are resampled through their path counts, so the cost does not grow
with the number of journeys:

* ``poisson``: every journey is kept a Poisson(1) number of times, so a path
  seen ``n`` times gets ``Poisson(n)`` conversions (and non-conversions).
* ``multinomial``: the classic bootstrap; the ``N`` journeys are redrawn with
  replacement, i.e. the counts of all (path, outcome) cells are one
  ``Multinomial(N, counts / N)`` draw (counts rounded to whole journeys).

A resampled path keeps its average value per conversion. Intervals are
percentile intervals over the replicates. Counts are resampled as 64-bit
integers, exactly only while every journey count is a whole float; a table of
more than :data:`MAX_JOURNEYS` journeys (``1e15``, below ``2**53``) is refused.
Replicates are drawn in batches from one seeded :class:`numpy.random.Generator`,
so results are reproducible for a given seed and batch size.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from attribution.base import AttributionModel, Interval, Intervals
from attribution.errors import ParameterError
from attribution.paths import PathTable
from spendwise.progress import Progress, ignore

METHODS = ("poisson", "multinomial")
BATCH = 25
#: Most journeys (conversions plus nulls over all rows) the bootstrap resamples.
MAX_JOURNEYS = 1e15


def resample_counts(
    paths: PathTable, rng: np.random.Generator, replicates: int, method: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Resampled conversions, nulls and value, each of shape ``(n_rows, replicates)``."""
    n = paths.n_rows
    if method == "poisson":
        conv = rng.poisson(paths.conversions[:, None], size=(n, replicates)).astype(np.float64)
        null = rng.poisson(paths.nulls[:, None], size=(n, replicates)).astype(np.float64)
    else:
        cells = np.concatenate([paths.conversions, paths.nulls])
        total = round(cells.sum())
        draws = rng.multinomial(total, cells / cells.sum(), size=replicates).T.astype(np.float64)
        conv, null = draws[:n], draws[n:]
    per_conversion = np.divide(paths.value, paths.conversions, out=np.zeros(n),
                               where=paths.conversions > 0)
    return conv, null, conv * per_conversion[:, None]


def _batches(replicates: int) -> Iterator[int]:
    done = 0
    while done < replicates:
        size = min(BATCH, replicates - done)
        yield size
        done += size


def bootstrap(
    model: AttributionModel,
    paths: PathTable,
    *,
    replicates: int = 200,
    seed: int = 0,
    method: str = "poisson",
    level: float = 0.95,
    progress: Progress | None = None,
) -> Intervals:
    """Percentile intervals of ``model``'s channel credit over bootstrap replicates.

    Parameters
    ----------
    model
        A model with the settings to use; it is not refitted on ``paths``.
    replicates
        Number of bootstrap replicates ``B``.
    method
        ``"poisson"`` or ``"multinomial"`` (see the module docstring).
    level
        Coverage of the intervals, e.g. 0.95.
    progress
        Called as ``progress(done, replicates, "bootstrap")`` after each batch of
        replicates (:mod:`spendwise.progress`).
    """
    if not (isinstance(replicates, int) and replicates >= 2):
        raise ParameterError(f"bootstrap: replicates must be an integer of at least 2, got "
                             f"{replicates!r}")
    if method not in METHODS:
        raise ParameterError(f"bootstrap: method must be one of {', '.join(METHODS)}, got "
                             f"{method!r}")
    if not 0 < level < 1:
        raise ParameterError(f"bootstrap: level must be between 0 and 1, got {level}")
    journeys = float(paths.conversions.sum() + paths.nulls.sum())
    if not journeys <= MAX_JOURNEYS:
        raise ParameterError(f"bootstrap: the paths hold {journeys:.3g} journeys, more than "
                             f"the {MAX_JOURNEYS:.0e} the bootstrap can resample exactly; fit "
                             "without bootstrap intervals, or scale the counts down")
    report = ignore if progress is None else progress
    rng = np.random.default_rng(seed)
    conv_parts, value_parts = [], []
    done = 0
    for size in _batches(replicates):
        conv, null, value = resample_counts(paths, rng, size, method)
        c, v = model.channel_totals(paths, conv, null, value)
        conv_parts.append(c)
        value_parts.append(v)
        done += size
        report(done, replicates, "bootstrap")
    conv_all = np.vstack(conv_parts)
    value_all = np.vstack(value_parts)
    totals = conv_all.sum(axis=1, keepdims=True)
    share_all = np.divide(conv_all, totals, out=np.zeros_like(conv_all), where=totals > 0)
    tail = (1.0 - level) / 2.0
    quantiles = [tail, 1.0 - tail]
    bounds = {name: np.quantile(data, quantiles, axis=0)
              for name, data in (("conversions", conv_all), ("value", value_all),
                                 ("share", share_all))}
    by_channel = tuple(
        Interval(
            conversions=(float(bounds["conversions"][0, i]), float(bounds["conversions"][1, i])),
            value=(float(bounds["value"][0, i]), float(bounds["value"][1, i])),
            share=(float(bounds["share"][0, i]), float(bounds["share"][1, i])),
        )
        for i in range(paths.n_channels)
    )
    return Intervals(level=level, replicates=replicates, method=method, seed=seed,
                     by_channel=by_channel, conversions_se=conv_all.std(axis=0, ddof=1))
