"""Benchmark of :func:`attribution.journeys.build_journeys` on synthetic touch data.

Generates a Parquet touch table (default 10 million rows, 12 channels, users with
about five touches each over 90 days) and a conversion table (3% of the users
convert, a fifth of them twice), then times ``build_journeys`` in a child process
and reads that process's peak resident memory (``VmHWM``), which includes
DuckDB's native allocations.

Run: ``/work/venv/bin/python -m benchmarks.paths [--rows N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

CHANNELS = ("Paid Search", "Organic Search", "Display", "Paid Social", "Email", "Affiliate",
            "Online Video", "Direct", "Referral", "Push", "微信朋友圈", "Podcast")
CHANNEL_WEIGHTS = np.array([20, 18, 12, 14, 10, 5, 6, 8, 3, 2, 1, 1], dtype=float)
TOUCHES_PER_USER = 5
CONVERTING_SHARE = 0.03
DAYS = 90
CHUNK_ROWS = 1_000_000
_START_US = int(np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64))
_SPAN_US = DAYS * 86_400_000_000

_CHILD = """
import json, sys
from attribution.journeys import build_journeys
summary = build_journeys(**json.loads(sys.argv[1]))
# VmHWM is this process's own peak; ru_maxrss would carry the parent's over from fork.
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak_mb = int(status.split()[0]) / 1024  # kB
print(json.dumps(summary.to_dict() | {"peak_rss_mb": peak_mb}))
"""


def _user_ids(numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise("u", pc.cast(pa.array(numbers), pa.string()), "")


def generate(directory: Path, n_touch_rows: int, seed: int = 0) -> tuple[Path, Path, int]:
    """Write ``touches.parquet`` and ``conversions.parquet``; return their paths and
    the number of conversion rows. Touches are written in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    n_users = max(n_touch_rows // TOUCHES_PER_USER, 1)
    weights = CHANNEL_WEIGHTS / CHANNEL_WEIGHTS.sum()
    names = pa.array(CHANNELS)
    schema = pa.schema([("user_id", pa.string()), ("timestamp", pa.timestamp("us")),
                        ("channel", pa.string())])
    touches = directory / "touches.parquet"
    with pq.ParquetWriter(touches, schema) as writer:
        for start in range(0, n_touch_rows, CHUNK_ROWS):
            size = min(CHUNK_ROWS, n_touch_rows - start)
            writer.write_table(pa.table({
                "user_id": _user_ids(rng.integers(0, n_users, size)),
                "timestamp": pa.array(_START_US + rng.integers(0, _SPAN_US, size),
                                      pa.timestamp("us")),
                "channel": pc.take(names, pa.array(rng.choice(len(CHANNELS), size, p=weights))),
            }, schema=schema))
    converters = rng.choice(n_users, max(int(n_users * CONVERTING_SHARE), 1), replace=False)
    converters = np.concatenate([converters, converters[: len(converters) // 5]])
    conversions = directory / "conversions.parquet"
    pq.write_table(pa.table({
        "user_id": _user_ids(converters),
        "timestamp": pa.array(_START_US + rng.integers(0, _SPAN_US, len(converters)),
                              pa.timestamp("us")),
        "value": np.round(rng.lognormal(3.5, 0.8, len(converters)), 2),
    }), conversions)
    return touches, conversions, len(converters)


def run(
    n_touch_rows: int = 10_000_000, seed: int = 0, *, journeys: bool = False,
    memory_limit: str = "2GB",
) -> dict[str, Any]:
    """Generate the data, build the paths (and journeys) in a child process, report.

    Returns the :class:`~attribution.journeys.JourneySummary` fields plus
    ``generate_seconds``, ``process_seconds`` (the child process, interpreter start
    included), ``peak_rss_mb`` (the child's peak resident memory) and the settings.
    """
    with tempfile.TemporaryDirectory(prefix="spendwise-bench-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        touches, conversions, _ = generate(directory, n_touch_rows, seed)
        generated = time.perf_counter() - started
        arguments = {"touches": str(touches), "conversions": str(conversions),
                     "output": str(directory / "paths.parquet"), "memory_limit": memory_limit}
        if journeys:
            arguments["journeys_output"] = str(directory / "journeys.parquet")
        started = time.perf_counter()
        child = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(arguments)],
                               capture_output=True, text=True)
        elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"the benchmark process failed:\n{child.stderr}")
    report: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return report | {"n_touch_rows": n_touch_rows, "seed": seed, "journeys_output": journeys,
                     "memory_limit": memory_limit, "generate_seconds": generated,
                     "process_seconds": elapsed}


def main(argv: list[str] | None = None) -> None:
    """Print a small table: paths only, then paths with the journey file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="touch rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-limit", default="2GB")
    args = parser.parse_args(argv)
    reports = [run(args.rows, args.seed, journeys=j, memory_limit=args.memory_limit)
               for j in (False, True)]
    first = reports[0]
    print(f"build_journeys: {first['touch_rows']:,} touch rows, {first['conversion_rows']:,} "
          f"conversion rows, seed {args.seed}, memory limit {args.memory_limit}")
    print(f"{'outputs':<18}{'seconds':>9}{'process s':>11}{'peak RSS MB':>13}"
          f"{'journeys':>11}{'paths':>9}")
    for label, report in zip(("paths", "paths + journeys"), reports, strict=True):
        print(f"{label:<18}{report['seconds']:>9.2f}{report['process_seconds']:>11.2f}"
              f"{report['peak_rss_mb']:>13.0f}{report['journeys']:>11,}"
              f"{report['distinct_paths']:>9,}")


if __name__ == "__main__":
    main()
