"""Exact absorption rewards of an absorbing Markov chain and its restrictions.

The kernel behind the Markov attribution model, independent of paths and
channels: given the transitions ``Q`` among transient states (state 0 being
the start), a reward per state and several variants that each remove a set
of states, it returns the expected reward collected by a walk from the start
in every variant, i.e. ``u_start`` of ``(I - Q_g) u = r`` on the kept states.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu
from threadpoolctl import threadpool_limits

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
    # The dense solves are small: BLAS threads only add contention, and stall
    # badly when the other cores are busy.
    with threadpool_limits(limits=1, user_api="blas"):
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
