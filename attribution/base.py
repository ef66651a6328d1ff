"""The estimator contract shared by every attribution model, and its result.

A model stores keyword-only settings in ``__init__``; :meth:`AttributionModel.fit`
takes a :class:`~attribution.paths.PathTable`, computes a :class:`Credit`
(per-journey credit in conversions and value plus model details) and keeps an
:class:`AttributionResult` in ``result_``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from attribution.errors import NotFittedError
from attribution.paths import PathTable

#: Channels seen in fewer journeys than this get a warning in the result.
DEFAULT_MIN_CHANNEL_SUPPORT = 30


@dataclass(frozen=True, eq=False)
class Credit:
    """What a model computes: credit per row and channel, and model-specific details.

    ``conversions`` and ``value`` are sparse ``(n_rows, n_channels)`` matrices
    whose row sums are the rows' conversions and value. A model whose channel
    totals are not defined as column sums (Markov) passes them in ``totals``.
    """

    conversions: sp.csr_array
    value: sp.csr_array
    details: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    totals: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None


@dataclass(frozen=True)
class Interval:
    """Percentile bootstrap interval for one channel."""

    conversions: tuple[float, float]
    value: tuple[float, float]
    share: tuple[float, float]


@dataclass(frozen=True, eq=False)
class Intervals:
    """Bootstrap intervals for every channel, with how they were obtained."""

    level: float
    replicates: int
    method: str
    seed: int
    by_channel: tuple[Interval, ...]
    conversions_se: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class AttributionResult:
    """Attributed conversions and value per channel, with the audit fields."""

    model: str
    params: Mapping[str, Any]
    fingerprint: str
    channels: tuple[str, ...]
    credit: Credit
    paths: PathTable = field(repr=False)
    version: str
    intervals: Intervals | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    @cached_property
    def conversions(self) -> NDArray[np.float64]:
        """Attributed conversions per channel."""
        if self.credit.totals is not None:
            return self.credit.totals[0]
        return np.asarray(self.credit.conversions.sum(axis=0)).ravel()

    @cached_property
    def value(self) -> NDArray[np.float64]:
        """Attributed conversion value per channel."""
        if self.credit.totals is not None:
            return self.credit.totals[1]
        return np.asarray(self.credit.value.sum(axis=0)).ravel()

    @cached_property
    def total_conversions(self) -> float:
        """Total conversions credited (equals the input's total)."""
        return float(self.conversions.sum())

    @cached_property
    def total_value(self) -> float:
        """Total value credited (equals the input's total)."""
        return float(self.value.sum())

    @cached_property
    def share(self) -> NDArray[np.float64]:
        """Each channel's share of conversions."""
        total = self.total_conversions
        return self.conversions / total if total > 0 else np.zeros_like(self.conversions)

    @property
    def details(self) -> Mapping[str, Any]:
        """Model-specific outputs (removal effects, chosen order, clipped credit...)."""
        return self.credit.details

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warnings raised while fitting, such as channels with tiny support."""
        return self.credit.warnings

    def with_intervals(self, intervals: Intervals) -> AttributionResult:
        """A copy carrying bootstrap intervals."""
        params = {**self.params, "bootstrap": intervals.replicates,
                  "bootstrap_method": intervals.method, "seed": intervals.seed,
                  "ci_level": intervals.level}
        return replace(self, intervals=intervals, params=params)

    def channel_table(self) -> pd.DataFrame:
        """One row per channel: conversions, value, share and, if bootstrapped, intervals."""
        frame = pd.DataFrame(
            {
                "channel": list(self.channels),
                "conversions": self.conversions,
                "value": self.value,
                "share": self.share,
            }
        )
        if self.intervals is not None:
            for name in ("conversions", "value", "share"):
                bounds = np.array([getattr(i, name) for i in self.intervals.by_channel])
                frame[f"{name}_low"] = bounds[:, 0]
                frame[f"{name}_high"] = bounds[:, 1]
        frame.insert(0, "model", self.model)
        return frame

    def journey_table(self) -> pd.DataFrame:
        """Per-journey credit in long form: one row per journey (or path) and channel."""
        conv = self.credit.conversions.tocsr()
        value = self.credit.value.tocsr()
        pattern = (abs(conv) + abs(value)).tocoo()
        keep = pattern.data != 0
        rows, cols = pattern.row[keep], pattern.col[keep]
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        return pd.DataFrame(
            {
                "model": self.model,
                "journey": [self.paths.labels[r] for r in rows],
                "channel": [self.channels[c] for c in cols],
                "conversions": np.asarray(conv[rows, cols]).ravel(),
                "value": np.asarray(value[rows, cols]).ravel(),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON report object for this model."""
        channels = []
        for i, name in enumerate(self.channels):
            entry: dict[str, Any] = {
                "channel": name,
                "conversions": float(self.conversions[i]),
                "value": float(self.value[i]),
                "share": float(self.share[i]),
            }
            if self.intervals is not None:
                iv = self.intervals.by_channel[i]
                entry["ci"] = {
                    "level": self.intervals.level,
                    "conversions": list(iv.conversions),
                    "value": list(iv.value),
                    "share": list(iv.share),
                    "conversions_se": float(self.intervals.conversions_se[i]),
                }
            channels.append(entry)
        return {
            "model": self.model,
            "params": dict(self.params),
            "fingerprint": self.fingerprint,
            "spendwise_version": self.version,
            "created_at": self.created_at,
            "total_conversions": self.total_conversions,
            "total_value": self.total_value,
            "channels": channels,
            "details": dict(self.details),
            "warnings": list(self.warnings),
        }


class AttributionModel(ABC):
    """Base class: settings in ``__init__``, :meth:`fit` returns ``self``.

    Subclasses set :attr:`name` and implement :meth:`_credit`.
    """

    name: ClassVar[str]
    #: Whether credit is a fixed split of each row's outcome (heuristics,
    #: simplified Shapley). Linear models are bootstrapped with one matrix product.
    linear: ClassVar[bool] = False

    min_channel_support: float = DEFAULT_MIN_CHANNEL_SUPPORT

    def get_params(self) -> dict[str, Any]:
        """The model's settings, as given to ``__init__``."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and k[0] != "_"}

    def fit(self, paths: PathTable) -> Self:
        """Attribute the conversions and value of ``paths`` to channels."""
        from spendwise import __version__

        credit = self._credit(paths)
        warnings = credit.warnings + self._support_warnings(paths)
        self.result_ = AttributionResult(
            model=self.name,
            params=self.get_params(),
            fingerprint=paths.fingerprint,
            channels=paths.channels,
            credit=replace(credit, warnings=warnings),
            paths=paths,
            version=__version__,
        )
        return self

    @property
    def result(self) -> AttributionResult:
        """The fitted result; raises :class:`NotFittedError` before :meth:`fit`."""
        try:
            return self.result_
        except AttributeError:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet; call fit(paths) first"
            ) from None

    def channel_totals(
        self, paths: PathTable, conversions: NDArray[np.float64], nulls: NDArray[np.float64],
        value: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-channel conversions and value for ``paths`` with replaced counts.

        Each count array has shape ``(n_rows, B)``; the result has shape
        ``(B, n_channels)`` twice. Models override this when they can do all
        replicates at once.
        """
        n_rep = conversions.shape[1]
        conv_out = np.zeros((n_rep, paths.n_channels))
        value_out = np.zeros((n_rep, paths.n_channels))
        for b in range(n_rep):
            credit = self._credit(paths.with_counts(conversions[:, b], nulls[:, b], value[:, b]))
            conv_out[b] = np.asarray(credit.conversions.sum(axis=0)).ravel()
            value_out[b] = np.asarray(credit.value.sum(axis=0)).ravel()
        return conv_out, value_out

    @abstractmethod
    def _credit(self, paths: PathTable) -> Credit:
        """Per-row credit for ``paths``."""

    def _support_warnings(self, paths: PathTable) -> tuple[str, ...]:
        support = paths.channel_support
        return tuple(
            f"channel {name!r} appears in only {support[i]:g} journeys "
            f"(fewer than {self.min_channel_support:g}); its credit is uncertain"
            for i, name in enumerate(paths.channels)
            if support[i] < self.min_channel_support
        )


class LinearModel(AttributionModel):
    """A model whose credit is a fixed split of each row's outcome over its channels."""

    linear = True

    @abstractmethod
    def shares(self, paths: PathTable) -> sp.csr_array:
        """Sparse ``(n_rows, n_channels)`` split of each row; rows sum to 1."""

    def _credit(self, paths: PathTable) -> Credit:
        split = self.shares(paths)
        return Credit(
            conversions=sp.csr_array(split.multiply(paths.conversions[:, None])),
            value=sp.csr_array(split.multiply(paths.value[:, None])),
        )

    def channel_totals(
        self, paths: PathTable, conversions: NDArray[np.float64], nulls: NDArray[np.float64],
        value: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        split = self.shares(paths)
        return np.asarray(split.T @ conversions).T, np.asarray(split.T @ value).T


def touch_split(paths: PathTable, weights: NDArray[np.float64]) -> sp.csr_array:
    """Sum per-touch weights into a ``(n_rows, n_channels)`` sparse split matrix."""
    matrix = sp.coo_array(
        (weights, (paths.touch_row, paths.touches.astype(np.int64))),
        shape=(paths.n_rows, paths.n_channels),
    )
    return sp.csr_array(matrix.tocsr())
