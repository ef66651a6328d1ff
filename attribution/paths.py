"""Customer journeys as a compact table of channel paths.

A :class:`PathTable` holds one row per distinct path (aggregated input) or one
row per journey (journey-level input with touch times). The touches of all rows
are stored back to back in one integer array, so models work with numpy on the
whole table instead of looping over Python lists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from attribution.errors import InputError
from attribution.validation import (
    COLUMN_ALIASES,
    DEFAULT_SEPARATOR,
    check_channel_names,
    path_columns,
    read_table,
)

__all__ = ["COLUMN_ALIASES", "DEFAULT_SEPARATOR", "PathTable"]


@dataclass(frozen=True, eq=False)
class PathTable:
    """Journeys as channel paths with their outcome counts.

    Parameters
    ----------
    channels
        Distinct channel names, sorted; a touch refers to a channel by index.
    touches
        Channel index of every touch, the rows' touches back to back.
    offsets
        Row ``i`` owns ``touches[offsets[i]:offsets[i + 1]]``; length ``n_rows + 1``.
    conversions, nulls, value
        Per row: converting journeys, non-converting journeys, conversion value.
    touch_days
        Optional, aligned with ``touches``: days from each touch to the end of
        its journey (the conversion, or the last touch of a non-converting one).
    journey_ids
        Optional row labels for journey-level input.
    """

    channels: tuple[str, ...]
    touches: NDArray[np.int32]
    offsets: NDArray[np.int64]
    conversions: NDArray[np.float64]
    nulls: NDArray[np.float64]
    value: NDArray[np.float64]
    touch_days: NDArray[np.float64] | None = None
    journey_ids: tuple[str, ...] | None = None
    separator: str = field(default=DEFAULT_SEPARATOR)

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_sequences(
        cls,
        paths: Sequence[Sequence[str]],
        conversions: Iterable[float],
        nulls: Iterable[float],
        value: Iterable[float] | None = None,
        *,
        touch_days: Sequence[Sequence[float]] | None = None,
        journey_ids: Sequence[str] | None = None,
        separator: str = DEFAULT_SEPARATOR,
        aggregate: bool = True,
    ) -> PathTable:
        """Build a table from channel sequences; duplicate paths are summed when
        ``aggregate`` is true and the rows carry no touch times or ids."""
        conv = np.asarray(list(conversions), dtype=np.float64)
        null = np.asarray(list(nulls), dtype=np.float64)
        val = np.zeros_like(conv) if value is None else np.asarray(list(value), dtype=np.float64)
        if not (len(paths) == len(conv) == len(null) == len(val)):
            raise InputError("paths, conversions, nulls and value must have the same length")
        channels = tuple(sorted({c for p in paths for c in p}))
        index = {c: i for i, c in enumerate(channels)}
        lengths = np.fromiter((len(p) for p in paths), dtype=np.int64, count=len(paths))
        offsets = np.zeros(len(paths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        touches = np.fromiter(
            (index[c] for p in paths for c in p), dtype=np.int32, count=int(offsets[-1])
        )
        days = None
        if touch_days is not None:
            days = np.fromiter(
                (d for row in touch_days for d in row), dtype=np.float64, count=int(offsets[-1])
            )
        table = cls(
            channels=channels,
            touches=touches,
            offsets=offsets,
            conversions=conv,
            nulls=null,
            value=val,
            touch_days=days,
            journey_ids=None if journey_ids is None else tuple(journey_ids),
            separator=separator,
        )
        if aggregate and days is None and journey_ids is None:
            return table.aggregated()
        return table

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, separator: str = DEFAULT_SEPARATOR) -> PathTable:
        """Validate a data frame of paths and build the table.

        Raises :class:`InputError` naming the row (1-based, header excluded) and
        the field for every problem found in the data
        (:func:`attribution.validation.path_columns`).
        """
        checked = path_columns(frame, separator=separator)
        table = cls.from_sequences(
            checked.paths, checked.conversions, checked.nulls, checked.value,
            touch_days=checked.touch_days, journey_ids=checked.journey_ids,
            separator=separator,
        )
        check_channel_names(table.channels, frame, checked.path_column)
        return table

    @classmethod
    def read(cls, source: str | Path | bytes | pd.DataFrame, *,
             separator: str = DEFAULT_SEPARATOR, name: str | None = None) -> PathTable:
        """Read aggregated paths or journeys from a CSV or Parquet file, its bytes or a frame.

        Bytes are parsed in memory; ``name`` (``paths.csv``, ``paths.parquet``) gives
        their format and is the name the messages use.
        """
        return cls.from_frame(read_table(source, name=name), separator=separator)

    # -- shape --------------------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        """Number of rows (distinct paths or journeys)."""
        return len(self.offsets) - 1

    @property
    def n_channels(self) -> int:
        """Number of distinct channels."""
        return len(self.channels)

    @cached_property
    def lengths(self) -> NDArray[np.int64]:
        """Number of touches per row."""
        return np.diff(self.offsets)

    @cached_property
    def touch_row(self) -> NDArray[np.int64]:
        """Row index of every touch."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), self.lengths)

    @cached_property
    def touch_position(self) -> NDArray[np.int64]:
        """0-based position of every touch within its row."""
        return np.arange(len(self.touches), dtype=np.int64) - self.offsets[self.touch_row]

    @property
    def total_conversions(self) -> float:
        """Sum of conversions over all rows."""
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        """Sum of conversion value over all rows."""
        return float(self.value.sum())

    @property
    def has_value(self) -> bool:
        """Whether any row carries conversion value."""
        return bool(np.any(self.value != 0))

    def path(self, row: int) -> tuple[str, ...]:
        """The channels of one row, in order."""
        lo, hi = self.offsets[row], self.offsets[row + 1]
        return tuple(self.channels[i] for i in self.touches[lo:hi])

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """One label per row: the journey id if known, else the path text."""
        if self.journey_ids is not None:
            return self.journey_ids
        return tuple(self.separator.join(names) for names in self._row_names())

    def _row_names(self) -> list[list[str]]:
        """The channel names of every row."""
        names = [self.channels[c] for c in self.touches.tolist()]
        bounds = self.offsets.tolist()
        return [names[lo:hi] for lo, hi in pairwise(bounds)]

    @cached_property
    def presence(self) -> sp.csr_array:
        """Sparse ``(n_rows, n_channels)`` 0/1 matrix: the channel occurs in the row."""
        matrix = sp.csr_array(
            (np.ones(len(self.touches)), (self.touch_row, self.touches)),
            shape=(self.n_rows, self.n_channels),
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix

    @cached_property
    def channel_support(self) -> NDArray[np.float64]:
        """Journeys (converting or not) in which each channel appears at least once."""
        return np.asarray(self.presence.T @ (self.conversions + self.nulls))

    # -- derived tables -----------------------------------------------------------------

    def with_counts(
        self,
        conversions: NDArray[np.float64],
        nulls: NDArray[np.float64],
        value: NDArray[np.float64],
    ) -> PathTable:
        """The same paths with other outcome counts (used by the bootstrap)."""
        return PathTable(
            channels=self.channels,
            touches=self.touches,
            offsets=self.offsets,
            conversions=np.asarray(conversions, dtype=np.float64),
            nulls=np.asarray(nulls, dtype=np.float64),
            value=np.asarray(value, dtype=np.float64),
            touch_days=self.touch_days,
            journey_ids=self.journey_ids,
            separator=self.separator,
        )

    def collapse_repeats(self) -> PathTable:
        """Merge consecutive touches of the same channel into one (``a > a > b`` to ``a > b``).

        The kept touch is the last of each run, so touch times stay those of the
        touch nearest the outcome. Rows are not re-aggregated.
        """
        last_in_row = np.zeros(len(self.touches), dtype=bool)
        last_in_row[self.offsets[1:] - 1] = True
        keep = np.ones(len(self.touches), dtype=bool)
        # A touch is dropped when the next touch of the same row has the same channel.
        keep[:-1] = ~((self.touches[1:] == self.touches[:-1]) & ~last_in_row[:-1])
        counts = np.bincount(self.touch_row[keep], minlength=self.n_rows)
        offsets = np.zeros(self.n_rows + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return PathTable(
            channels=self.channels,
            touches=self.touches[keep],
            offsets=offsets,
            conversions=self.conversions,
            nulls=self.nulls,
            value=self.value,
            touch_days=None if self.touch_days is None else self.touch_days[keep],
            journey_ids=self.journey_ids,
            separator=self.separator,
        )

    def aggregated(self) -> PathTable:
        """One row per distinct path, counts summed, touch times and ids dropped.

        Rows are ordered by path text so that the result does not depend on the
        input order.
        """
        labels = ["\x1f".join(names) for names in self._row_names()]
        order = sorted(range(self.n_rows), key=labels.__getitem__)
        keys, first, inverse = _unique_sorted([labels[i] for i in order])
        conv = np.zeros(len(keys))
        null = np.zeros(len(keys))
        val = np.zeros(len(keys))
        np.add.at(conv, inverse, self.conversions[order])
        np.add.at(null, inverse, self.nulls[order])
        np.add.at(val, inverse, self.value[order])
        keep_rows = [order[i] for i in first]
        lengths = self.lengths[keep_rows]
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        idx = np.concatenate(
            [np.arange(self.offsets[r], self.offsets[r + 1]) for r in keep_rows]
            or [np.zeros(0, dtype=np.int64)]
        )
        return PathTable(
            channels=self.channels,
            touches=self.touches[idx],
            offsets=offsets,
            conversions=conv,
            nulls=null,
            value=val,
            separator=self.separator,
        )

    # -- identity -----------------------------------------------------------------------

    @cached_property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the canonical aggregated paths.

        Canonical form: one JSON array ``[channels, conversions, nulls, value]``
        per distinct path, sorted, floats in shortest round-trip form. Touch
        times, when present, are appended per journey so that a time-decay
        result is tied to them too. Row order, duplicate rows and the separator
        do not change the fingerprint.
        """
        digest = hashlib.sha256()
        agg = self if (self.touch_days is None and self.journey_ids is None) else self.aggregated()
        quoted = [json.dumps(c, ensure_ascii=False) for c in self.channels]
        touches, bounds = agg.touches.tolist(), agg.offsets.tolist()
        lines = sorted(
            "[[" + ",".join([quoted[c] for c in touches[lo:hi]]) + f"],{conv!r},{null!r},{val!r}]"
            for lo, hi, conv, null, val in zip(
                bounds[:-1], bounds[1:], agg.conversions.tolist(), agg.nulls.tolist(),
                agg.value.tolist(), strict=True,
            )
        )
        digest.update("\n".join(lines).encode("utf-8"))
        if self.touch_days is not None:
            timed = sorted(
                json.dumps(
                    [list(self.path(r)), self.touch_days[self.offsets[r]:self.offsets[r + 1]]
                     .tolist(), float(self.conversions[r]), float(self.nulls[r])],
                    separators=(",", ":"),
                    ensure_ascii=False,
                )
                for r in range(self.n_rows)
            )
            digest.update(b"\ntouch_days\n")
            digest.update("\n".join(timed).encode("utf-8"))
        return "sha256:" + digest.hexdigest()

    def to_frame(self) -> pd.DataFrame:
        """The table as a data frame in the aggregated-paths file format."""
        frame = pd.DataFrame(
            {
                "path": [self.separator.join(names) for names in self._row_names()],
                "conversions": self.conversions,
                "nulls": self.nulls,
                "value": self.value,
            }
        )
        if self.journey_ids is not None:
            frame.insert(0, "journey_id", list(self.journey_ids))
        if self.touch_days is not None:
            frame["touch_days"] = [
                self.separator.join(
                    _format_days(d) for d in self.touch_days[self.offsets[r]:self.offsets[r + 1]]
                )
                for r in range(self.n_rows)
            ]
        return frame


def _format_days(days: float) -> str:
    return repr(round(float(days), 6))


def _unique_sorted(items: list[str]) -> tuple[list[str], list[int], NDArray[np.int64]]:
    """Distinct items of a sorted list, the first index of each, and each item's group."""
    keys: list[str] = []
    first: list[int] = []
    inverse = np.empty(len(items), dtype=np.int64)
    for i, item in enumerate(items):
        if not keys or keys[-1] != item:
            keys.append(item)
            first.append(i)
        inverse[i] = len(keys) - 1
    return keys, first, inverse
