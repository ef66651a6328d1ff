"""Markov-chain attribution with exact removal effects (Anderl et al. 2016).

A journey ``c1 > c2 > ... > cn`` that converts (or not) is read as a walk
``(start) -> s1 -> ... -> sn -> (conversion | null)`` where the state ``si`` is
the last ``k`` channels up to touch ``i`` (fewer at the start of the path).
Transition probabilities are the observed transition counts normalised per
state. The chain is absorbing, so the probability ``P`` of reaching
``(conversion)`` from ``(start)`` solves the linear system

.. math:: (I - Q)\\,u = r, \\qquad P = u_{start},

with ``Q`` the transitions among transient states and ``r`` the one-step
conversion probabilities. The *removal effect* of a channel ``c`` is
``RE_c = (P - P_{-c}) / P`` where ``P_{-c}`` is the same probability when
every state containing ``c`` leads to ``(null)``; it equals the probability,
under the chain, that a converting walk visits ``c``. Channel ``c`` receives
``RE_c / sum(RE)`` of the conversions. Value is attributed the same way with
the expected conversion value reached from ``(start)`` in place of ``P``.

Every system is solved exactly with a sparse LU factorisation (SuperLU), so
the results are deterministic; there is no simulation.

References
----------
Anderl, Becker, von Wangenheim & Schumann (2016). Mapping the customer
journey: lessons learned from graph-based online attribution modeling.
International Journal of Research in Marketing 33(3), 457-474.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from attribution.base import AttributionModel, Credit
from attribution.errors import ParameterError
from attribution.paths import PathTable

MAX_ORDER = 5
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


@dataclass(frozen=True, eq=False)
class ChainStructure:
    """The states and transitions of an order-``k`` chain, independent of counts.

    State 0 is ``(start)``; states ``1..n_states`` are channel tuples. Counts for
    any weighting of the rows follow from sparse products with ``edge_rows``.
    """

    order: int
    n_channels: int
    state_codes: NDArray[np.int64]  # (n_states, order) channel ids, -1 padded on the left
    edge_from: NDArray[np.int64]
    edge_to: NDArray[np.int64]
    edge_rows: sp.csr_array  # (n_edges, n_rows): how often each row uses each edge
    end_state: NDArray[np.int64]  # per row: the state of its last touch
    contains: sp.csc_array  # (n_states + 1, n_channels): state holds the channel

    @property
    def n_states(self) -> int:
        """Number of channel states (``(start)`` excluded)."""
        return len(self.state_codes)

    def counts(
        self, weight: NDArray[np.float64], conversions: NDArray[np.float64],
        nulls: NDArray[np.float64], value: NDArray[np.float64],
    ) -> ChainCounts:
        """Transition counts for row weights (journeys), conversions, nulls and value."""
        ends = self.end_rows
        return ChainCounts(
            edges=self.edge_rows @ weight,
            conversions=ends @ conversions,
            nulls=ends @ nulls,
            value=ends @ value,
        )

    @cached_property
    def end_rows(self) -> sp.csr_array:
        """``(n_states + 1, n_rows)`` incidence of each row's last state."""
        n_rows = len(self.end_state)
        return sp.csr_array(
            (np.ones(n_rows), (self.end_state, np.arange(n_rows))),
            shape=(self.n_states + 1, n_rows),
        )


@dataclass(frozen=True, eq=False)
class ChainCounts:
    """Observed counts on the edges of a :class:`ChainStructure`."""

    edges: NDArray[np.float64]
    conversions: NDArray[np.float64]
    nulls: NDArray[np.float64]
    value: NDArray[np.float64]


def build_chain(paths: PathTable, order: int) -> ChainStructure:
    """States and transitions of the order-``order`` chain over ``paths``."""
    k = order
    n_touch = len(paths.touches)
    pos = paths.touch_position
    window = np.full((n_touch, k), -1, dtype=np.int64)
    for j in range(k):  # column k-1-j holds the touch j steps back
        ok = pos >= j
        src = np.flatnonzero(ok)
        window[src, k - 1 - j] = paths.touches[src - j]
    codes, state = _unique_rows(window, paths.n_channels)
    state = state.ravel().astype(np.int64) + 1  # 0 is (start)
    first = paths.offsets[:-1]
    last = paths.offsets[1:] - 1
    prev = np.zeros(n_touch, dtype=np.int64)  # predecessor state of each touch
    inner = pos > 0
    prev[inner] = state[np.flatnonzero(inner) - 1]
    prev[first] = 0
    size = len(codes) + 1
    edge_key, edge_id = np.unique(prev * size + state, return_inverse=True)
    edge_rows = sp.csr_array(
        sp.coo_array(
            (np.ones(n_touch), (edge_id.ravel(), paths.touch_row)),
            shape=(len(edge_key), paths.n_rows),
        ).tocsr()
    )
    holder, member = np.nonzero(codes >= 0)
    contains = sp.csc_array(
        sp.coo_array(
            (np.ones(len(holder), dtype=bool), (holder + 1, codes[holder, member])),
            shape=(size, paths.n_channels),
        ).tocsc()
    )
    return ChainStructure(
        order=k,
        n_channels=paths.n_channels,
        state_codes=codes,
        edge_from=edge_key // size,
        edge_to=edge_key % size,
        edge_rows=edge_rows,
        end_state=state[last],
        contains=contains,
    )


def _unique_rows(
    window: NDArray[np.int64], n_channels: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct rows of ``window`` (sorted) and each row's index among them."""
    base = n_channels + 1
    if base ** window.shape[1] < 2**62:
        weights = base ** np.arange(window.shape[1] - 1, -1, -1, dtype=np.int64)
        keys, inverse = np.unique((window + 1) @ weights, return_inverse=True)
        codes = (keys[:, None] // weights) % base - 1
        return codes, inverse
    codes, inverse = np.unique(window, axis=0, return_inverse=True)
    return codes, inverse


def weighted_count(
    index: NDArray[np.int64], weights: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    """``np.bincount`` with weights, typed as the floats it returns."""
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


def out_totals(chain: ChainStructure, counts: ChainCounts) -> NDArray[np.float64]:
    """Observed transitions out of every state, absorbing ones included."""
    out = weighted_count(chain.edge_from, counts.edges, chain.n_states + 1)
    return out + counts.conversions + counts.nulls


def transition_probabilities(
    chain: ChainStructure, counts: ChainCounts
) -> tuple[sp.csr_array, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``Q`` among transient states, and per state the probabilities of converting,
    of dropping out, and the expected value collected in the next step."""
    size = chain.n_states + 1
    out = out_totals(chain, counts)
    safe = np.where(out > 0, out, 1.0)
    q = sp.csr_array(
        sp.coo_array(
            (counts.edges / safe[chain.edge_from], (chain.edge_from, chain.edge_to)),
            shape=(size, size),
        ).tocsr()
    )
    return q, counts.conversions / safe, counts.nulls / safe, counts.value / safe


#: Chains, and strongly connected components, up to this many states are
#: solved with a dense LU factorisation.
DENSE_LIMIT = 400
#: Mass propagation stops when at most this much probability is still in transit.
MASS_TOLERANCE = 1e-15
MAX_STEPS = 100_000


def absorbed_from_start(
    q: sp.csr_array, rhs: NDArray[np.float64], keep: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Expected absorption rewards from ``(start)`` in several variants of one chain.

    Variant ``g`` keeps the states where ``keep[:, g]`` is true; the others
    absorb into null. Returns ``u[g, j]``, the solution at ``(start)`` of
    ``(I - Q_g) u = rhs[:, j]`` restricted to the kept states; equivalently the
    expected reward ``sum_s visits_g(s) * rhs[s, j]`` of a walk from ``(start)``.

    Small chains are solved by dense LU. Larger ones (higher orders are
    de Bruijn-like graphs, whose sparse LU fills in badly) are swept forward:
    the walk's expected visits are pushed from ``(start)`` through the strongly
    connected components in topological order (:func:`_forward_sweep`).
    """
    if keep.shape[0] <= DENSE_LIMIT:
        return _dense_absorption(q, rhs, keep)
    return _forward_sweep(q, rhs, keep)


def _component_levels(q: sp.csr_array, comp: NDArray[np.int64], n_comp: int) -> NDArray[np.int64]:
    """Longest distance of each component from the sources of the condensed graph."""
    coo = q.tocoo()
    a, b = comp[coo.row], comp[coo.col]
    cross = a != b
    a, b = a[cross], b[cross]
    level = np.zeros(n_comp, dtype=np.int64)
    for _ in range(n_comp + 1):
        new = level.copy()
        np.maximum.at(new, b, level[a] + 1)
        if np.array_equal(new, level):
            break
        level = new
    return level


def _forward_sweep(
    q: sp.csr_array, rhs: NDArray[np.float64], keep: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Expected visits pushed through the components of the chain in topological order.

    A single state ``s`` receives its inflow ``x`` and is visited
    ``x / (1 - Q[s, s])`` times. A component of several states solves its
    visits exactly by dense LU when small, and otherwise propagates the mass
    inside it (:func:`_propagate_inside`) until what remains in transit is
    below ``MASS_TOLERANCE``. Visits then flow to later components along the
    edges that leave the component.
    """
    n, groups = keep.shape
    n_comp, comp = connected_components(q, directed=True, connection="strong")
    sizes = np.bincount(comp, minlength=n_comp)
    level = _component_levels(q, comp, n_comp)[comp]
    coo = q.tocoo()
    crossing = comp[coo.row] != comp[coo.col]
    q_out = sp.csr_array(
        (coo.data[crossing], (coo.row[crossing], coo.col[crossing])), shape=q.shape
    )
    stay = 1.0 - q.diagonal()
    mask = keep.astype(np.float64)
    inflow = np.zeros((n, groups))
    inflow[0] = 1.0
    total = np.zeros((rhs.shape[1], groups))
    order = np.argsort(level, kind="stable")
    bounds = np.searchsorted(level[order], np.arange(level.max() + 2))
    single = sizes[comp] == 1
    for lv in range(level.max() + 1):
        states = order[bounds[lv]:bounds[lv + 1]]
        ones = states[single[states]]
        visits = [(ones, inflow[ones] * mask[ones] / stay[ones][:, None])]
        for c in np.unique(comp[states[~single[states]]]):
            block = np.flatnonzero(comp == c)
            visits.append((block, _component_visits(q, block, inflow[block], keep[block])))
        for idx, v in visits:
            if len(idx):
                total += rhs[idx].T @ v
                inflow += q_out[idx].T @ v
    return total.T


def _component_visits(
    q: sp.csr_array, block: NDArray[np.int64], inflow: NDArray[np.float64],
    keep: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Expected visits of the states of one strongly connected component, per variant."""
    if len(block) > DENSE_LIMIT:
        return _propagate_inside(sp.csr_array(q[block][:, block]), inflow, keep)
    inner_t = q[block][:, block].toarray().T
    visits = np.zeros_like(inflow)
    full = keep.all(axis=0)
    if full.any():
        visits[:, full] = np.linalg.solve(np.eye(len(block)) - inner_t, inflow[:, full])
    for g in np.flatnonzero(~full):
        kept = np.flatnonzero(keep[:, g])
        if len(kept):
            system = np.eye(len(kept)) - inner_t[np.ix_(kept, kept)]
            visits[kept, g] = np.linalg.solve(system, inflow[kept, g])
    return visits


def _propagate_inside(
    inner: sp.csr_array, inflow: NDArray[np.float64], keep: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Visits inside a large component by propagating the walk's probability mass.

    ``x_{t+1} = Q^T x_t`` on the kept states, summing ``x_t``: the Neumann
    series of ``(I - Q^T)^{-1} x_0``. It stops once the mass still in transit,
    an upper bound of every visit count still to come, is below
    ``MASS_TOLERANCE``. A component that holds its mass for ``MAX_STEPS``
    steps is solved by sparse LU instead.
    """
    inner_t = sp.csr_array(inner.T)
    removed = np.flatnonzero(~keep.ravel())
    mass = inflow * keep
    visits = np.zeros_like(inflow)
    for step in range(MAX_STEPS):
        visits += mass
        mass = inner_t @ mass
        mass.ravel()[removed] = 0.0
        if step % 4 == 3 and mass.sum(axis=0).max() < MASS_TOLERANCE:
            return visits
    for g in range(keep.shape[1]):
        kept = np.flatnonzero(keep[:, g])
        system = sp.csc_array(sp.eye_array(len(kept), format="csc") - inner_t[kept][:, kept])
        visits[:, g] = 0.0
        visits[kept, g] = splu(system).solve(inflow[kept, g])
    return visits


def _dense_absorption(
    q: sp.csr_array, rhs: NDArray[np.float64], keep: NDArray[np.bool_]
) -> NDArray[np.float64]:
    dense = q.toarray()
    out = np.zeros((keep.shape[1], rhs.shape[1]))
    for g in range(keep.shape[1]):
        idx = np.flatnonzero(keep[:, g])
        system = np.eye(len(idx)) - dense[np.ix_(idx, idx)]
        out[g] = np.linalg.solve(system, rhs[idx])[0]
    return out


@dataclass(frozen=True, eq=False)
class RemovalEffects:
    """Conversion probability and expected value from ``(start)``, with and without
    each channel."""

    probability: float
    expected_value: float
    probability_without: NDArray[np.float64]
    value_without: NDArray[np.float64]

    @cached_property
    def conversions(self) -> NDArray[np.float64]:
        """Removal effect on conversions, ``(P - P_-c) / P``."""
        if self.probability <= 0:
            return np.zeros_like(self.probability_without)
        return np.clip(1.0 - self.probability_without / self.probability, 0.0, 1.0)

    @cached_property
    def value(self) -> NDArray[np.float64]:
        """Removal effect on value, ``(V - V_-c) / V``."""
        if self.expected_value <= 0:
            return np.zeros_like(self.value_without)
        return np.clip(1.0 - self.value_without / self.expected_value, 0.0, 1.0)


def removal_effects(chain: ChainStructure, counts: ChainCounts) -> RemovalEffects:
    """Exact removal effects of every channel for the given counts."""
    q, conv, _, value = transition_probabilities(chain, counts)
    keep = np.ones((chain.n_states + 1, chain.n_channels + 1), dtype=bool)
    keep[:, 1:] = ~chain.contains.toarray()
    solved = absorbed_from_start(q, np.column_stack([conv, value]), keep)
    return RemovalEffects(float(solved[0, 0]), float(solved[0, 1]), solved[1:, 0], solved[1:, 1])


def split_by_effects(effects: NDArray[np.float64], total: float) -> NDArray[np.float64]:
    """``total * RE_c / sum(RE)``; zero when no channel has an effect."""
    mass = effects.sum()
    return total * effects / mass if mass > 0 else np.zeros_like(effects)


def rake(
    seed: sp.csr_array, row_targets: NDArray[np.float64], col_targets: NDArray[np.float64],
    *, tol: float = 1e-10, max_iter: int = 500,
) -> tuple[sp.csr_array, float]:
    """Iterative proportional fitting of a non-negative sparse matrix to row and
    column sums.

    Returns the fitted matrix (closest to ``seed`` in Kullback-Leibler divergence
    among those with the margins, when they can be met) and the largest
    remaining row-sum error relative to the total. The last step fits the
    columns, so column sums are met exactly wherever a column has support.
    """
    coo = sp.coo_array(seed)
    coo.sum_duplicates()
    rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
    data = coo.data.astype(np.float64)
    n_rows, n_cols = seed.shape
    total = max(float(row_targets.sum()), 1e-300)
    error = np.inf
    for _ in range(max_iter):
        data *= _ratio(row_targets, weighted_count(rows, data, n_rows))[rows]
        data *= _ratio(col_targets, weighted_count(cols, data, n_cols))[cols]
        row_sums = weighted_count(rows, data, n_rows)
        error = float(np.abs(row_sums - row_targets).max()) / total
        if error < tol:
            break
    # Entries driven to zero by the fit are dropped rather than kept as 1e-300 noise.
    data[data < tol * total * 1e-3] = 0.0
    fitted = sp.csr_array(sp.coo_array((data, (rows, cols)), shape=(n_rows, n_cols)).tocsr())
    fitted.eliminate_zeros()
    return fitted, error


def _ratio(target: NDArray[np.float64], current: NDArray[np.float64]) -> NDArray[np.float64]:
    # Sums below 1e-200 come from seeds of effectively zero weight; scaling them
    # up would overflow, so they are treated as empty.
    return np.divide(target, current, out=np.zeros_like(target), where=current > 1e-200)


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
        _, ids = _unique_rows(both, train.n_channels)
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


class Markov(AttributionModel):
    """Markov-chain attribution of order ``k`` with exact removal effects.

    Parameters
    ----------
    order
        1 to 5, or ``"auto"`` to choose by cross-validated conversion log loss
        (see :func:`select_order`).
    collapse_repeats
        Merge consecutive touches of the same channel before building states.
    max_order
        Highest order tried by ``order="auto"``.
    seed
        Seed of the fold assignment of ``order="auto"``.
    """

    name = "markov"

    def __init__(
        self, *, order: int | str = 1, collapse_repeats: bool = True, max_order: int = 4,
        seed: int = 0,
    ) -> None:
        if order != "auto" and not (isinstance(order, int) and 1 <= order <= MAX_ORDER):
            raise ParameterError(
                f"markov: order must be an integer from 1 to {MAX_ORDER} or 'auto', got {order!r}"
            )
        if not (isinstance(max_order, int) and 1 <= max_order <= MAX_ORDER):
            raise ParameterError(f"markov: max_order must be from 1 to {MAX_ORDER}")
        self.order = order
        self.collapse_repeats = collapse_repeats
        self.max_order = max_order
        self.seed = seed

    def _resolve_order(self, paths: PathTable) -> tuple[int, dict[int, float] | None]:
        if self.order == "auto":
            return select_order(paths, max_order=self.max_order, seed=self.seed,
                                collapse=self.collapse_repeats)
        assert isinstance(self.order, int)
        return self.order, None

    def _prepared(self, paths: PathTable) -> tuple[PathTable, ChainStructure, dict[str, Any]]:
        """The walked paths, chain and order info; cached for the last table seen,
        so bootstrap batches reuse the fitted structure and the chosen order."""
        cached = getattr(self, "_structure", None)
        if cached is not None and cached[0] is paths:
            return cached[1]
        order, scores = self._resolve_order(paths)
        walked = paths.collapse_repeats() if self.collapse_repeats else paths
        info: dict[str, Any] = {"order": order}
        if scores is not None:
            info["order_scores"] = {str(k): v for k, v in scores.items()}
        prepared = (walked, build_chain(walked, order), info)
        self._structure = (paths, prepared)
        return prepared

    def _credit(self, paths: PathTable) -> Credit:
        walked, chain, info = self._prepared(paths)
        counts = chain.counts(paths.conversions + paths.nulls, paths.conversions, paths.nulls,
                              paths.value)
        effects = removal_effects(chain, counts)
        conv_total = split_by_effects(effects.conversions, paths.total_conversions)
        value_total = split_by_effects(effects.value, paths.total_value)
        present = walked.presence
        conv_credit, conv_err = rake(
            sp.csr_array(present.multiply(paths.conversions[:, None]) * effects.conversions),
            paths.conversions, conv_total,
        )
        value_credit, value_err = rake(
            sp.csr_array(present.multiply(paths.value[:, None]) * effects.value),
            paths.value, value_total,
        )
        self.chain_, self.counts_, self.separator_ = chain, counts, paths.separator
        self.removal_effects_ = pd.Series(effects.conversions, index=list(paths.channels))
        details = {
            **info,
            "n_states": chain.n_states,
            "conversion_probability": effects.probability,
            "expected_value": effects.expected_value,
            "removal_effects": dict(zip(paths.channels, effects.conversions.tolist(),
                                        strict=True)),
            "value_removal_effects": dict(zip(paths.channels, effects.value.tolist(),
                                              strict=True)),
            "journey_credit_row_error": max(conv_err, value_err),
        }
        return Credit(conv_credit, value_credit, details, totals=(conv_total, value_total))

    def channel_totals(
        self, paths: PathTable, conversions: NDArray[np.float64], nulls: NDArray[np.float64],
        value: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        _, chain, _ = self._prepared(paths)
        counts = chain.counts(conversions + nulls, conversions, nulls, value)
        n_rep = conversions.shape[1]
        conv_out = np.zeros((n_rep, paths.n_channels))
        value_out = np.zeros((n_rep, paths.n_channels))
        for b in range(n_rep):
            replicate = ChainCounts(counts.edges[:, b], counts.conversions[:, b],
                                    counts.nulls[:, b], counts.value[:, b])
            effects = removal_effects(chain, replicate)
            conv_out[b] = split_by_effects(effects.conversions, conversions[:, b].sum())
            value_out[b] = split_by_effects(effects.value, value[:, b].sum())
        return conv_out, value_out

    def transition_matrix(self) -> pd.DataFrame:
        """The fitted chain as a table: ``from``, ``to``, ``count``, ``probability``."""
        result = self.result  # raises NotFittedError before fit
        chain, counts = self.chain_, self.counts_
        names = [START] + [
            self.separator_.join(
                result.channels[c] for c in code if c >= 0
            )
            for code in chain.state_codes
        ]
        out = out_totals(chain, counts)
        ends = np.flatnonzero(counts.conversions + counts.nulls)
        frm = np.concatenate([chain.edge_from, ends, ends])
        to = [names[t] for t in chain.edge_to] + [CONVERSION] * len(ends) + [NULL] * len(ends)
        count = np.concatenate([counts.edges, counts.conversions[ends], counts.nulls[ends]])
        frame = pd.DataFrame({"from": [names[f] for f in frm], "to": to, "count": count,
                              "probability": count / out[frm]})
        frame = frame[frame["count"] > 0]
        return frame.sort_values(["from", "to"], kind="stable").reset_index(drop=True)
