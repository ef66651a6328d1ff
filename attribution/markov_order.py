"""Choosing the order of a Markov attribution model by held-out prediction.

The order ``k`` decides how much history a state holds. It is chosen by how
well the order-``k`` chain predicts whether journeys it has not seen convert:
journeys are dealt to folds, and each fold's outcomes are predicted from the
last ``k`` channels of its journeys with the other folds' conversion rates.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from attribution.kernels import unique_rows, weighted_count
from attribution.paths import PathTable


def conversion_log_loss(
    train: PathTable, test: PathTable, order: int, collapse: bool
) -> float:
    """Held-out log loss of the conversion outcome predicted from a journey's last state.

    The prediction for a test journey is ``P(conversion | absorbed next)`` at
    its last order-``order`` state in the training chain, backing off to shorter
    suffixes (then to the overall rate) for states not seen in training.
    """
    if collapse:
        train, test = train.collapse_repeats(), test.collapse_repeats()
    overall = train.total_conversions / max(train.total_conversions + train.nulls.sum(), 1e-300)
    predicted = np.full(test.n_rows, overall)
    resolved = np.zeros(test.n_rows, dtype=bool)
    for k in range(order, 0, -1):
        both = np.vstack([_last_channels(train, k), _last_channels(test, k)])
        _, ids = unique_rows(both, train.n_channels)
        train_ids, test_ids = ids[:train.n_rows], ids[train.n_rows:]
        size = int(ids.max()) + 1
        conv = weighted_count(train_ids, train.conversions, size)
        seen = weighted_count(train_ids, train.conversions + train.nulls, size)
        known = (seen[test_ids] > 0) & ~resolved
        predicted[known] = conv[test_ids[known]] / seen[test_ids[known]]
        resolved |= known
    p = np.clip(predicted, 1e-6, 1 - 1e-6)
    weight = test.conversions.sum() + test.nulls.sum()
    loss = -(test.conversions * np.log(p) + test.nulls * np.log1p(-p)).sum()
    return float(loss / weight) if weight > 0 else 0.0


def _last_channels(paths: PathTable, k: int) -> NDArray[np.int64]:
    """``(n_rows, k)`` last ``k`` channels of every row, -1 padded on the left."""
    window = np.full((paths.n_rows, k), -1, dtype=np.int64)
    last = paths.offsets[1:] - 1
    for j in range(k):
        idx = last - j
        ok = idx >= paths.offsets[:-1]
        window[ok, k - 1 - j] = paths.touches[idx[ok]]
    return window


def select_order(
    paths: PathTable, *, max_order: int = 4, folds: int = 5, seed: int = 0, collapse: bool = True
) -> tuple[int, dict[int, float]]:
    """Pick the order with the lowest cross-validated conversion log loss.

    Journeys are dealt to ``folds`` folds at random (counts rounded to whole
    journeys, seeded); ties go to the lower order.
    """
    rng = np.random.default_rng(seed)
    conv = _deal(rng, np.rint(paths.conversions).astype(np.int64), folds)
    null = _deal(rng, np.rint(paths.nulls).astype(np.int64), folds)
    avg_value = np.divide(paths.value, paths.conversions, out=np.zeros(paths.n_rows),
                          where=paths.conversions > 0)
    scores: dict[int, float] = {}
    for k in range(1, max_order + 1):
        losses = []
        for f in range(folds):
            test = paths.with_counts(conv[:, f], null[:, f], conv[:, f] * avg_value)
            rest_c, rest_n = conv.sum(axis=1) - conv[:, f], null.sum(axis=1) - null[:, f]
            train = paths.with_counts(rest_c, rest_n, rest_c * avg_value)
            losses.append(conversion_log_loss(train, test, k, collapse))
        scores[k] = float(np.mean(losses))
    best = min(scores, key=lambda k: (round(scores[k], 12), k))
    return best, scores


def _deal(rng: np.random.Generator, counts: NDArray[np.int64], folds: int) -> NDArray[np.float64]:
    """Split each count uniformly at random over ``folds`` folds."""
    return rng.multinomial(counts, np.full(folds, 1.0 / folds)).astype(np.float64)
