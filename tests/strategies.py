"""Hypothesis strategies for path tables."""

from __future__ import annotations

from hypothesis import strategies as st

from attribution.paths import PathTable

CHANNELS = ("search", "feeds", "short_video", "email", "sms", "微信朋友圈")


@st.composite
def path_tables(
    draw: st.DrawFn, *, max_channels: int = 5, max_rows: int = 8, max_length: int = 5,
    integer_counts: bool = True,
) -> PathTable:
    """A valid table: at least one conversion, every row with some journeys."""
    n_channels = draw(st.integers(1, max_channels))
    channels = CHANNELS[:n_channels]
    n_rows = draw(st.integers(1, max_rows))
    paths = [
        draw(st.lists(st.sampled_from(channels), min_size=1, max_size=max_length))
        for _ in range(n_rows)
    ]
    count = st.integers(0, 40) if integer_counts else st.floats(0, 40, allow_nan=False)
    conversions = [float(draw(count)) for _ in paths]
    nulls = [float(draw(count)) for _ in paths]
    if sum(conversions) == 0:
        conversions[0] = 1.0
    nulls = [n if c + n > 0 else 1.0 for c, n in zip(conversions, nulls, strict=True)]
    value = [c * draw(st.floats(0, 100, allow_nan=False, allow_subnormal=False))
             for c in conversions]
    return PathTable.from_sequences(paths, conversions, nulls, value)


def renamed(table: PathTable, mapping: dict[str, str]) -> PathTable:
    """The same journeys with channels renamed (which also reorders them)."""
    rows = [[mapping[c] for c in table.path(r)] for r in range(table.n_rows)]
    return PathTable.from_sequences(rows, table.conversions, table.nulls, table.value)
