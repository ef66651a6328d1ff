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
from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from attribution.absorbing import absorbed_from_start
from attribution.base import AttributionModel, Credit
from attribution.errors import ParameterError
from attribution.kernels import unique_rows, weighted_count
from attribution.markov_order import select_order
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
    codes, state = unique_rows(window, paths.n_channels)
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

    def fit(self, paths: PathTable) -> Self:
        """Attribute ``paths``; also keeps the chain, its counts and the removal effects."""
        super().fit(paths)
        _, self.chain_, _ = self._prepared(paths)
        self.counts_ = self.chain_.counts(paths.conversions + paths.nulls, paths.conversions,
                                          paths.nulls, paths.value)
        self.separator_ = paths.separator
        self.removal_effects_ = pd.Series(self.result_.details["removal_effects"])
        return self

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
