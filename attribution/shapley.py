"""Shapley-value attribution with three value functions.

Channels are the players of a cooperative game; the Shapley value of channel
:math:`i` in a game :math:`v` on the players :math:`N` (Shapley 1953) is

.. math::

    \\phi_i(v) = \\sum_{S \\subseteq N \\setminus \\{i\\}}
        \\frac{|S|!\\,(|N|-|S|-1)!}{|N|!}\\,\\bigl(v(S \\cup \\{i\\}) - v(S)\\bigr).

A set of channels is a bitmask: bit ``c`` stands for channel index ``c``. Keys
are ``numpy.uint64`` while the table has at most 64 channels and Python ints
(numpy ``object`` arrays, same code) beyond that.

References
----------
Shapley, L. S. (1953). A value for n-person games. *Contributions to the Theory
of Games II*, 307-317.
Zhao, K., Mahboobi, S. H. & Bagheri, S. R. (2018). Shapley value methods for
attribution modeling in online advertising. arXiv:1804.05327.
Dalessandro, B., Perlich, C., Stitelman, O. & Provost, F. (2012). Causally
motivated attribution for online advertising. *ADKDD '12*.
Castro, J., Gómez, D. & Tejada, J. (2009). Polynomial calculation of the
Shapley value based on sampling. *Computers & Operations Research* 36(5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from attribution.base import AttributionModel, Credit
from attribution.errors import ParameterError
from attribution.paths import PathTable

VALUE_FUNCTIONS = ("simplified", "ordered", "conversion_rate")
#: Largest exact game allowed: 2**20 coalitions per channel set.
MAX_EXACT_LIMIT = 20
#: Tables with more channels than this use Python-int bitmasks instead of uint64.
UINT64_CHANNELS = 64
#: Elements per batch of coalition look-ups, to bound memory.
_BATCH = 1 << 21
#: Row x channel codes counted densely (bincount) below this size, sorted above.
_DENSE_CODES = 1 << 26
#: Coalitions per block of the exact Shapley matrix product.
_COALITION_BLOCK = 1 << 16
#: Odd multiplier of the multiplicative hash that pre-filters key look-ups.
_HASH = np.uint64(0x9E3779B97F4A7C15)
#: Total positive credit below which a channel set's credit is split equally.
_TINY = 1e-12

Keys = NDArray[Any]
ValueOf = Callable[[Keys], NDArray[np.float64]]


# -- kernels ----------------------------------------------------------------------------


def shapley_weights(n: int) -> NDArray[np.float64]:
    """Weights ``w[k] = k! (n-k-1)! / n!`` of a coalition of size ``k`` without the player."""
    return np.array([1.0 / (n * math.comb(n - 1, k)) for k in range(n)])


def shapley_coefficients(masks: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """Matrix ``c`` with ``phi = v @ c``: ``c[s, i] = w[|s| - 1]`` if ``i`` is in ``s``, else
    ``-w[|s|]`` (:func:`shapley_weights`), for the coalitions ``masks`` of ``n`` players."""
    member = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
    size = member.sum(axis=1)
    # A trailing 0 covers w[-1] for the empty coalition and w[n] for the full one.
    w = np.append(shapley_weights(n), 0.0)
    return np.where(member, w[size - 1][:, None], -w[size][:, None])


def shapley_from_values(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact Shapley values ``(..., n)`` of games given by their worth ``v`` ``(..., 2**n)``.

    ``v[..., s]`` is the worth of the coalition of the players whose bits are set
    in ``s``. Regrouping the Shapley sum by coalition gives
    :math:`\\phi_i = \\sum_{S \\ni i} w_{|S|-1} v(S) - \\sum_{S \\not\\ni i} w_{|S|} v(S)`:
    a matrix product with :func:`shapley_coefficients`, in blocks of coalitions.
    """
    values = np.asarray(v, dtype=np.float64)
    n = values.shape[-1].bit_length() - 1
    if values.shape[-1] != 1 << n:
        raise ValueError(f"last axis must have length 2**n, got {values.shape[-1]}")
    phi = np.zeros((*values.shape[:-1], n))
    for lo in range(0, 1 << n, _COALITION_BLOCK):
        masks = np.arange(lo, min(lo + _COALITION_BLOCK, 1 << n), dtype=np.int64)
        phi += values[..., lo : lo + len(masks)] @ shapley_coefficients(masks, n)
    return phi


def subset_keys(player_bits: Keys) -> Keys:
    """Bitmask of every coalition of each game's players.

    ``player_bits`` has shape ``(m, n)``, one disjoint bitmask per player; the
    result has shape ``(m, 2**n)`` and column ``s`` is the union of the players
    whose bits are set in ``s`` (column 0 is the empty coalition).
    """
    keys = np.zeros((player_bits.shape[0], 1), dtype=player_bits.dtype)
    for b in range(player_bits.shape[1]):
        keys = np.concatenate([keys, keys | player_bits[:, b : b + 1]], axis=1)
    return keys


def monte_carlo_shapley(
    player_bits: Keys, value: ValueOf, *, n_permutations: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Shapley values estimated from random orders of the players (Castro et al. 2009).

    For each of ``m`` games (rows of ``player_bits``, ``(m, n)``) draws
    ``n_permutations`` uniform orders and averages each player's gain
    ``value(players before it and it) - value(players before it)`` (the empty
    coalition is worth 0); each order's gains add up to the grand coalition's
    worth. Returns the estimates and their standard errors (standard deviation
    of the gains over orders / ``sqrt(n_permutations)``), both ``(m, n)``.
    """
    m, n = player_bits.shape
    order = rng.permuted(np.broadcast_to(np.arange(n), (m, n_permutations, n)), axis=-1)
    joined = player_bits[np.arange(m)[:, None, None], order]
    worth = np.asarray(value(np.bitwise_or.accumulate(joined, axis=-1)), dtype=np.float64)
    gains = np.empty_like(worth)
    gains[..., 0] = worth[..., 0]
    np.subtract(worth[..., 1:], worth[..., :-1], out=gains[..., 1:])
    by_player = np.empty_like(gains)
    np.put_along_axis(by_player, order, gains, axis=-1)
    total = by_player.sum(axis=1)
    squares = np.einsum("mpn,mpn->mn", by_player, by_player)
    variance = np.clip(squares - total**2 / n_permutations, 0.0, None) / (n_permutations - 1)
    return total / n_permutations, np.sqrt(variance / n_permutations)


def clip_shares(
    phi: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Non-negative shares of each game's worth from Shapley values ``(m, n)``.

    Negative values become 0 and the rest are normalised to sum to 1. Returns
    the shares, the clipped amount relative to the kept credit
    (:math:`\\sum_i \\phi_i^- / \\sum_i \\phi_i^+`) and which games had no positive
    credit at all, which are split equally.
    """
    positive = np.clip(phi, 0.0, None)
    total = positive.sum(axis=1)
    equal = total <= _TINY
    safe = np.where(equal, 1.0, total)
    shares = np.where(equal[:, None], 1.0 / max(phi.shape[1], 1), positive / safe[:, None])
    clipped = np.where(equal, 0.0, np.clip(-phi, 0.0, None).sum(axis=1) / safe)
    return shares, clipped, equal


def channel_bits(channels: NDArray[np.int64], n_channels: int) -> Keys:
    """``1 << channel`` as uint64, or as Python ints for more than 64 channels."""
    if n_channels <= UINT64_CHANNELS:
        return np.left_shift(np.uint64(1), channels.astype(np.uint64))
    return np.left_shift(np.ones(channels.shape, dtype=object), channels.astype(object))


@dataclass(frozen=True, eq=False)
class ChannelSets:
    """The distinct channels of every row of a :class:`PathTable`.

    ``pair_row`` and ``pair_channel`` list each distinct (row, channel) once,
    sorted by row then channel; row ``r`` owns ``size[r]`` pairs from
    ``row_start[r]``. ``repeats`` gives, per touch, how often its channel occurs
    in its row.
    """

    n_channels: int
    pair_row: NDArray[np.int64]
    pair_channel: NDArray[np.int64]
    size: NDArray[np.int64]
    row_start: NDArray[np.int64]
    repeats: NDArray[np.int64]

    @classmethod
    def of(cls, paths: PathTable) -> ChannelSets:
        """Distinct channel sets of ``paths``."""
        width = max(paths.n_channels, 1)
        codes = paths.touch_row * width + paths.touches
        n_codes = paths.n_rows * width
        if n_codes <= _DENSE_CODES:
            counts = np.bincount(codes, minlength=n_codes)
            present, repeats = np.flatnonzero(counts), counts[codes]
        else:
            present, inverse, found = np.unique(codes, return_inverse=True, return_counts=True)
            repeats = found[inverse]
        rows, channels = np.divmod(present, width)
        size = np.bincount(rows, minlength=paths.n_rows)
        return cls(paths.n_channels, rows, channels, size, np.cumsum(size) - size, repeats)

    @cached_property
    def key(self) -> Keys:
        """Bitmask of each row's channel set."""
        bits = channel_bits(self.pair_channel, self.n_channels)
        key = np.zeros(len(self.size), dtype=bits.dtype)
        filled = self.size > 0
        if filled.any():
            key[filled] = np.bitwise_or.reduceat(bits, self.row_start[filled])
        return key

    def matrix(self, pair_amount: NDArray[np.float64]) -> sp.csr_array:
        """Sparse ``(n_rows, n_channels)`` matrix with one amount per distinct pair."""
        indptr = np.concatenate([[0], np.cumsum(self.size)])
        return sp.csr_array(
            (pair_amount, self.pair_channel, indptr), shape=(len(self.size), self.n_channels)
        )


def simplified_shares(sets: ChannelSets) -> sp.csr_array:
    """Split of each row equally over its distinct channels (Zhao et al. 2018).

    With :math:`v(S) = \\sum_{T \\subseteq S} R(T)`, :math:`R(T)` the outcome of
    journeys whose channel set is exactly :math:`T`, the game is a sum of
    unanimity games, so :math:`\\phi_i = \\sum_{T \\ni i} R(T) / |T|`.
    """
    return sets.matrix(1.0 / sets.size[sets.pair_row])


def position_credit(
    paths: PathTable, sets: ChannelSets, amount: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Ordered Shapley credit ``(n_channels, max_length)`` by channel and touch position.

    A row's simplified credit for a channel, ``amount / size``, is split equally
    over the touches of that channel in the row, at their 0-based positions.
    """
    length = int(paths.lengths.max()) if paths.n_rows else 0
    row = paths.touch_row
    weight = amount[row] / (sets.size[row] * sets.repeats)
    flat = paths.touches.astype(np.int64) * length + paths.touch_position
    return sum_by(flat, weight, paths.n_channels * length).reshape(paths.n_channels, length)


def sum_by(index: NDArray[np.int64], weights: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Sum of ``weights`` per value of ``index`` in ``range(n)``."""
    return np.bincount(index, weights=weights, minlength=n).astype(np.float64, copy=False)


def conversion_rates(
    conversions: NDArray[np.float64], nulls: NDArray[np.float64], min_support: float
) -> NDArray[np.float64]:
    """``conversions / (conversions + nulls)``, 0 where that total is below ``min_support`` or 0."""
    total = conversions + nulls
    kept = (total >= min_support) & (total > 0)
    return np.where(kept, conversions / np.where(kept, total, 1.0), 0.0)


def lookup_values(keys: Keys, worth: NDArray[np.float64]) -> ValueOf:
    """A value function: the ``worth`` of each queried key found in sorted ``keys``, else 0.

    Most coalitions of a large channel set were never observed, so uint64 queries
    first go through a hashed bit table of the non-zero keys (no false negatives)
    and only its hits are binary-searched.
    """
    kept = worth != 0
    keys, worth = keys[kept], worth[kept]
    bits = max(10, min(26, len(keys).bit_length() + 6))
    seen = np.zeros(1 << bits, dtype=bool)
    hashed = keys.dtype == np.uint64
    if hashed:
        seen[(keys * _HASH) >> np.uint64(64 - bits)] = True

    def value(query: Keys) -> NDArray[np.float64]:
        out = np.zeros(query.shape)
        if len(keys) == 0:
            return out
        hit = seen[(query * _HASH) >> np.uint64(64 - bits)] if hashed else np.ones(out.shape, bool)
        found = query[hit]
        at = np.minimum(np.searchsorted(keys, found), len(keys) - 1)
        out[hit] = np.where(keys[at] == found, worth[at], 0.0)
        return out

    return value


# -- model ------------------------------------------------------------------------------


class Shapley(AttributionModel):
    """Shapley-value attribution.

    Parameters
    ----------
    value_function
        ``"simplified"``: :math:`v(S)` is the outcome of journeys whose channel
        set lies within :math:`S`; its Shapley value is the closed form "each
        journey's outcome split equally over its distinct channels" (Zhao et
        al. 2018). ``"ordered"``: the same credit per journey and channel,
        further split equally over the positions of that channel's touches;
        ``details["by_position"]`` (and ``"by_position_value"``) map each
        channel to its credit at touch 1, 2, ...; summed over positions it is
        exactly the simplified credit. ``"conversion_rate"``: per converting
        channel set :math:`S`, the Shapley value over the channels of :math:`S`
        of :math:`v(T)` = conversion rate of journeys whose channel set is
        exactly :math:`T` (0 for the empty set and for sets seen in fewer than
        ``min_support`` journeys), in the spirit of Dalessandro et al. (2012).
        Negative Shapley values are clipped to 0 and the rest rescaled so each
        journey's credit sums to its conversions and its value; a set with no
        positive credit is split equally. ``details`` reports ``channel_sets``
        (converting sets), ``clipped_conversions`` and ``clipped_value`` (the
        negative credit removed, on the scale of the kept credit, see
        :func:`clip_shares`), ``clipped_sets``, ``equal_split_sets`` and
        ``monte_carlo`` (sets estimated, each with its channels and the standard
        errors of their Shapley values in conversion-rate units, and the largest).
    min_support
        Journeys (conversions + nulls) a channel set needs for its rate to count.
    max_exact_channels
        Sets with at most this many channels are solved exactly (1 to 20);
        larger ones by Monte Carlo over random channel orders.
    n_permutations
        Random orders per Monte Carlo set (at least 2).
    seed
        Seed of ``numpy.random.default_rng`` for Monte Carlo.
    """

    name = "shapley"

    def __init__(
        self,
        *,
        value_function: str = "simplified",
        min_support: float = 1.0,
        max_exact_channels: int = 15,
        n_permutations: int = 2000,
        seed: int = 0,
    ) -> None:
        if value_function not in VALUE_FUNCTIONS:
            allowed = ", ".join(repr(v) for v in VALUE_FUNCTIONS)
            raise ParameterError(
                f"shapley: value_function must be one of {allowed}, got {value_function!r}"
            )
        if not (isinstance(min_support, int | float) and math.isfinite(min_support)
                and min_support >= 0):
            raise ParameterError(
                f"shapley: min_support must be a finite number >= 0, got {min_support!r}"
            )
        _check_int("max_exact_channels", max_exact_channels, 1, MAX_EXACT_LIMIT)
        _check_int("n_permutations", n_permutations, 2, None)
        _check_int("seed", seed, 0, None)
        self.value_function = value_function
        self.min_support = min_support
        self.max_exact_channels = max_exact_channels
        self.n_permutations = n_permutations
        self.seed = seed

    def _credit(self, paths: PathTable) -> Credit:
        sets = ChannelSets.of(paths)
        if self.value_function == "conversion_rate":
            return self._rate_credit(paths, sets)
        split = 1.0 / sets.size[sets.pair_row]
        details: dict[str, Any] = {"value_function": self.value_function}
        if self.value_function == "ordered":
            for label, amount in (("by_position", paths.conversions),
                                  ("by_position_value", paths.value)):
                table = position_credit(paths, sets, amount)
                details[label] = dict(zip(paths.channels, table.tolist(), strict=True))
        return Credit(
            conversions=sets.matrix(split * paths.conversions[sets.pair_row]),
            value=sets.matrix(split * paths.value[sets.pair_row]),
            details=details,
        )

    def channel_totals(
        self, paths: PathTable, conversions: NDArray[np.float64], nulls: NDArray[np.float64],
        value: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-channel totals for many count replicates; one matrix product unless
        the value function is ``conversion_rate``."""
        if self.value_function == "conversion_rate":
            return super().channel_totals(paths, conversions, nulls, value)
        share = simplified_shares(ChannelSets.of(paths))
        return np.asarray(share.T @ conversions).T, np.asarray(share.T @ value).T

    def _rate_credit(self, paths: PathTable, sets: ChannelSets) -> Credit:
        keys, first_row, inverse = np.unique(sets.key, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        conv, value, nulls = (sum_by(inverse, x, len(keys))
                              for x in (paths.conversions, paths.value, paths.nulls))
        worth = lookup_values(keys, conversion_rates(conv, nulls, self.min_support))
        size = sets.size[first_row]
        set_start = np.cumsum(size) - size
        set_share = np.zeros(int(size.sum()))
        scored = ((conv > 0) | (value > 0)) & (size > 0)
        details = self._rate_details(int(np.count_nonzero(scored)))
        rng = np.random.default_rng(self.seed)
        for n in np.unique(size[scored]).tolist():
            ids = np.flatnonzero(scored & (size == n))
            members = sets.pair_channel[sets.row_start[first_row[ids]][:, None] + np.arange(n)]
            phi, se = self._set_values(channel_bits(members, paths.n_channels), worth, rng)
            share, clipped, equal = clip_shares(phi)
            set_share[set_start[ids][:, None] + np.arange(n)] = share
            details["clipped_conversions"] += float(clipped @ conv[ids])
            details["clipped_value"] += float(clipped @ value[ids])
            details["clipped_sets"] += int(np.count_nonzero(clipped > 0))
            details["equal_split_sets"] += int(np.count_nonzero(equal))
            if se is not None:
                mc = details["monte_carlo"]
                mc["sets"] += len(ids)
                mc["max_standard_error"] = max(mc["max_standard_error"], float(se.max()))
                mc["estimated"] += [
                    {"channels": [paths.channels[c] for c in row], "standard_errors": err}
                    for row, err in zip(members.tolist(), se.tolist(), strict=True)
                ]
        local = np.arange(len(sets.pair_row)) - sets.row_start[sets.pair_row]
        pair_share = set_share[set_start[inverse[sets.pair_row]] + local]
        return Credit(
            conversions=sets.matrix(pair_share * paths.conversions[sets.pair_row]),
            value=sets.matrix(pair_share * paths.value[sets.pair_row]),
            details=details,
        )

    def _rate_details(self, n_sets: int) -> dict[str, Any]:
        """Empty counters of the conversion-rate fit (see the class docstring)."""
        return {
            "value_function": self.value_function, "channel_sets": n_sets,
            "clipped_conversions": 0.0, "clipped_value": 0.0,
            "clipped_sets": 0, "equal_split_sets": 0,
            "monte_carlo": {"sets": 0, "n_permutations": self.n_permutations,
                            "max_standard_error": 0.0, "estimated": []},
        }

    def _set_values(
        self, bits: Keys, worth: ValueOf, rng: np.random.Generator
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """Shapley values (and Monte Carlo standard errors) of sets of equal size."""
        m, n = bits.shape
        exact = n <= self.max_exact_channels
        batch = max(1, _BATCH // ((1 << n) if exact else self.n_permutations * n))
        phi = np.empty((m, n))
        se = None if exact else np.empty((m, n))
        for lo in range(0, m, batch):
            chunk = bits[lo : lo + batch]
            if se is None:
                values = worth(subset_keys(chunk))
                values[:, 0] = 0.0
                phi[lo : lo + batch] = shapley_from_values(values)
            else:
                phi[lo : lo + batch], se[lo : lo + batch] = monte_carlo_shapley(
                    chunk, worth, n_permutations=self.n_permutations, rng=rng
                )
        return phi, se


def _check_int(label: str, value: object, low: int, high: int | None) -> None:
    """Raise :class:`ParameterError` unless ``value`` is an int in ``[low, high]``."""
    if (
        isinstance(value, bool) or not isinstance(value, int | np.integer)
        or value < low or (high is not None and value > high)
    ):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ParameterError(f"shapley: {label} must be an integer {bound}, got {value!r}")
