"""Benchmarks of the attribution models against the project's targets.

Data: :func:`attribution.synthetic.simulate_paths` with 1 million journeys
(``--quick``: 100,000), 12 and 50 channels, seed 0. What is measured:

* **Model time.** Wall time (``time.perf_counter``) of ``fit`` with a fresh
  model instance, median of three runs, with the best run and the process's
  CPU time beside it (the wall time grows when other work shares the cores).
  The :class:`~attribution.paths.PathTable`, its fingerprint, labels and index
  arrays are built before timing; that input handling is reported on a row of its own.
* **Memory of the Markov fits**, each in a fresh process: the resident set
  after loading the data, its high-water mark during the fit (``VmHWM``, reset
  through ``/proc/self/clear_refs`` just before the fit) and the process's
  ``ru_maxrss``, which also covers the data simulation.
* **Bootstrap** of order-1 Markov with 200 replicates (the fit included).
* **spendwise paths** on 10 million touch rows through :func:`benchmarks.paths.run`,
  without and with the per-journey file: wall time of the whole process that
  builds the journeys, and its ``ru_maxrss`` next to DuckDB's ``memory_limit``.
* **ChannelAttribution** (optional ``peers`` group), order 1 on 12 channels:
  one ``markov_model`` call per setting at growing ``nsim_start`` until every
  channel is within 1% of the exact result, its spread over ten seeds, and
  orders 2 and 3 at its defaults.

Run: ``python -m benchmarks.attribution [--quick] [--skip-peers] [--skip-paths] [--json FILE]``.
MB means 2**20 bytes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import pandas as pd

from attribution.base import AttributionModel
from attribution.bootstrap import bootstrap
from attribution.heuristics import FirstTouch, LastTouch, Linear, PositionBased, TimeDecay
from attribution.markov import Markov
from attribution.paths import PathTable
from attribution.shapley import Shapley
from attribution.synthetic import simulate_paths

REPO = Path(__file__).resolve().parents[1]
JOURNEYS, QUICK_JOURNEYS = 1_000_000, 100_000
TOUCH_ROWS, QUICK_TOUCH_ROWS = 10_000_000, 1_000_000
CHANNEL_COUNTS = (12, 50)
SEED = 0
REPEATS = 3
MARKOV_ORDERS = (1, 2, 3, 4)
BOOTSTRAP_REPLICATES = 200
PACKAGES = ("numpy", "scipy", "pandas", "duckdb", "pyarrow", "spendwise", "ChannelAttribution")

# Targets from the project's issue.
MARKOV_SECONDS = {12: 1.0, 50: 3.0}
FAST_SECONDS = 0.3  # heuristics and simplified Shapley
SHAPLEY_SECONDS = 5.0  # ordered and conversion-rate Shapley
MEMORY_MB = 500.0
BOOTSTRAP_SECONDS = 30.0
PATHS_SECONDS = 20.0
AGREEMENT = 0.01  # largest per-channel relative difference from the exact result

#: ChannelAttribution settings: fixed ``nsim_start`` values first, then doubling
#: from the last one until agreement, the largest setting, or the time cap.
PEER_NSIM = (1e6, 1e7)
PEER_MAX_NSIM, QUICK_PEER_MAX_NSIM = 1.28e9, 1e7
PEER_TIME_CAP = 300.0  # seconds one call may be expected to take
PEER_ORDERS = (2, 3)
#: Runs for the spread over seeds. ChannelAttribution seeds fold ``f`` of seed
#: ``s`` with ``s + f`` and reports one fold, so seeds less than ``nfold`` apart
#: share folds and often give identical numbers; the seeds are ``nfold`` apart.
PEER_SEEDS = 10
PEER_NFOLD = 10  # ChannelAttribution's default


@dataclass(frozen=True)
class Row:
    """One line of the results table: a time (``s``) or a memory figure (``MB``)."""

    benchmark: str
    data: str
    result: float
    unit: str
    target: float | None
    notes: str = ""
    runs: tuple[float, ...] = ()
    quick: bool = False
    cpu_runs: tuple[float, ...] = ()

    @property
    def met(self) -> bool | None:
        """Whether the target is met; ``None`` without a target or on quick data."""
        if self.target is None or self.quick:
            return None
        return self.result < self.target

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return asdict(self) | {"met": self.met}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Simulated aggregated paths, as a frame and as a ready table."""

    n_journeys: int
    n_channels: int
    frame: pd.DataFrame
    paths: PathTable
    input_seconds: float

    @property
    def label(self) -> str:
        """Short description for the tables."""
        return f"{self.n_channels} ch, {self.paths.n_rows:,} paths"


# -- machine -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """CPU, cores, memory, operating system, Python and package versions."""
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor()
    mem_kib = _proc_field("/proc/meminfo", "MemTotal")
    os_name = _proc_field("/etc/os-release", "PRETTY_NAME", sep="=").strip('"')
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(int(mem_kib.split()[0]) / 2**20, 1) if mem_kib else None,
        "os": f"{os_name} ({platform.platform()})",
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in PACKAGES},
        "blas": _blas(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
    }


def _commit() -> str:
    """The checked-out commit, marked when tracked files of the package or the
    benchmarks differ from it."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                              check=False)

    head = git("rev-parse", "--short=12", "HEAD")
    if head.returncode != 0:
        return "unknown"
    changed = git("diff", "--quiet", "HEAD", "--", "attribution", "benchmarks").returncode != 0
    return head.stdout.strip() + (" with uncommitted changes" if changed else "")


def _proc_field(path: str, key: str, sep: str = ":") -> str:
    """The value of the first ``key<sep>value`` line of a text file, or ``""``."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    found = (line.split(sep, 1)[1].strip() for line in lines
             if sep in line and line.split(sep, 1)[0].strip() == key)
    return next(found, "")


def _blas() -> str:
    """numpy's BLAS library and version, with any thread limit set in the environment."""
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        name = f"{blas['name']} {blas['version']}"
    except (AttributeError, KeyError):
        name = "unknown"
    limits = [f"{k}={os.environ[k]}" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                               "MKL_NUM_THREADS") if k in os.environ]
    return ", ".join([name, *limits])


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _status_mb(key: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` (``VmRSS``, ``VmHWM``)."""
    return float(_proc_field("/proc/self/status", key).split()[0]) / 1024


def _reset_peak() -> bool:
    """Reset this process's ``VmHWM`` to its current resident set (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- data and model time ---------------------------------------------------------------


def table_of(frame: pd.DataFrame) -> PathTable:
    """The validated paths table with everything derived from the input alone computed."""
    paths = PathTable.from_frame(frame)
    for name in ("fingerprint", "labels", "lengths", "touch_row", "touch_position",
                 "presence", "channel_support"):
        getattr(paths, name)
    return paths


def load(n_journeys: int, n_channels: int) -> Dataset:
    """Simulate the journeys, then build (and time) the paths table."""
    frame = simulate_paths(n_journeys, n_channels, seed=SEED)
    start = time.perf_counter()
    paths = table_of(frame)
    return Dataset(n_journeys, n_channels, frame, paths, time.perf_counter() - start)


def model_cases(n_channels: int) -> list[tuple[str, Callable[[], AttributionModel], float | None]]:
    """Name, factory and target seconds of every timed model."""
    cases: list[tuple[str, Callable[[], AttributionModel], float | None]] = [
        (f"markov order {k}", partial(Markov, order=k), MARKOV_SECONDS.get(n_channels))
        for k in MARKOV_ORDERS
    ]
    cases += [(cls.name, cls, FAST_SECONDS)
              for cls in (FirstTouch, LastTouch, Linear, PositionBased, TimeDecay)]
    cases += [(f"shapley {vf}", partial(Shapley, value_function=vf), target)
              for vf, target in (("simplified", FAST_SECONDS), ("ordered", SHAPLEY_SECONDS),
                                 ("conversion_rate", SHAPLEY_SECONDS))]
    return cases


def timed(action: Callable[[], object], repeats: int) -> tuple[list[float], list[float], object]:
    """Wall and CPU seconds (this process, all threads) of ``repeats`` calls of
    ``action``, and the last call's result. CPU time shows what a run costs
    when other work on the machine stretches its wall time."""
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        out = action()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu, out


def time_models(data: Dataset, quick: bool) -> list[Row]:
    """The input-handling row, then one row per model."""
    rows = [Row("input: PathTable.from_frame + fingerprint", data.label, data.input_seconds,
                "s", None, "once per data set, before the fits; not model time", quick=quick)]
    for name, make, target in model_cases(data.n_channels):
        _say(f"timing {name} on {data.label}")
        runs, cpu, model = timed(partial(_fit, make, data.paths), REPEATS)
        notes = f"best {min(runs):.3f} s, cpu {median(cpu):.3f} s"
        if isinstance(model, Markov):
            notes += f", {model.result.details['n_states']:,} states"
        rows.append(Row(name, data.label, median(runs), "s", target, notes, tuple(runs), quick,
                        tuple(cpu)))
    return rows


def _fit(make: Callable[[], AttributionModel], paths: PathTable) -> AttributionModel:
    return make().fit(paths)


def time_bootstrap(data: Dataset, quick: bool) -> Row:
    """``bootstrap(Markov(order=1).fit(paths), paths, replicates=200, seed=0)``."""
    _say(f"timing the bootstrap on {data.label}")
    paths = data.paths
    runs, cpu, _ = timed(lambda: bootstrap(Markov(order=1).fit(paths), paths,
                                           replicates=BOOTSTRAP_REPLICATES, seed=0), REPEATS)
    return Row(f"bootstrap markov order 1, B={BOOTSTRAP_REPLICATES}", data.label, median(runs),
               "s", BOOTSTRAP_SECONDS,
               f"best {min(runs):.2f} s, cpu {median(cpu):.2f} s, fit included", tuple(runs),
               quick, tuple(cpu))


# -- memory ------------------------------------------------------------------------------

_MEMORY_CHILD = (
    "import json, sys\n"
    "from benchmarks.attribution import fit_memory\n"
    "print(json.dumps(fit_memory(*json.loads(sys.argv[1]))))\n"
)


def fit_memory(n_journeys: int, n_channels: int, order: int) -> dict[str, float | None]:
    """Memory of one Markov fit, measured in this (fresh) process, in MB.

    The data frame is dropped once the table is built, as when reading a file.
    """
    paths = table_of(simulate_paths(n_journeys, n_channels, seed=SEED))
    gc.collect()
    after_load, load_peak = _status_mb("VmRSS"), _status_mb("VmHWM")
    reset = _reset_peak()
    Markov(order=order).fit(paths)
    return {
        "paths": paths.n_rows,
        "after_load_mb": after_load,
        "load_peak_mb": load_peak,
        "fit_peak_mb": _status_mb("VmHWM") if reset else None,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def memory_rows(n_journeys: int, quick: bool) -> list[Row]:
    """Peak memory of every Markov order on every data set, one process each."""
    rows = []
    for n_channels in CHANNEL_COUNTS:
        for order in MARKOV_ORDERS:
            _say(f"memory of markov order {order}, {n_channels} channels")
            child = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, json.dumps([n_journeys, n_channels, order])],
                cwd=REPO, capture_output=True, text=True, check=False,
            )
            if child.returncode != 0:
                raise RuntimeError(f"the memory benchmark process failed:\n{child.stderr}")
            m = json.loads(child.stdout.strip().splitlines()[-1])
            peak = m["fit_peak_mb"] if m["fit_peak_mb"] is not None else m["ru_maxrss_mb"]
            notes = (f"after load {m['after_load_mb']:.0f} MB, fit +{peak - m['after_load_mb']:.0f}"
                     f" MB; ru_maxrss {m['ru_maxrss_mb']:.0f} MB")
            rows.append(Row(f"markov order {order} peak memory",
                            f"{n_channels} ch, {m['paths']:,} paths", peak, "MB", MEMORY_MB,
                            notes, quick=quick))
    return rows


# -- spendwise paths ---------------------------------------------------------------------


def paths_rows(n_touch_rows: int, quick: bool) -> tuple[list[Row], list[dict[str, Any]]]:
    """``spendwise paths`` (``build_journeys``) from :mod:`benchmarks.paths`, without and
    with the per-journey file; the targets apply to the first."""
    try:
        from benchmarks.paths import run
    except ImportError as exc:
        _say(f"benchmarks.paths is not available ({exc}); skipped")
        return [], [{"error": str(exc)}]
    rows: list[Row] = []
    reports: list[dict[str, Any]] = []
    for journeys in (False, True):
        _say(f"spendwise paths on {n_touch_rows:,} touch rows, journeys file: {journeys}")
        try:
            report = run(n_touch_rows, journeys=journeys)
        except Exception as exc:  # report whatever went wrong and carry on
            _say(f"benchmarks.paths failed ({exc}); skipped")
            return rows, [*reports, {"error": str(exc)}]
        # A child process starts with its parent's peak as its own ru_maxrss.
        parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reports.append(report | {"parent_peak_rss_mb": parent})
        name = "spendwise paths" + (" --journeys" if journeys else "")
        data = f"{report['touch_rows']:,} touch rows"
        limit = report["memory_limit"]
        inherited = ", may be the parent's" if report["peak_rss_mb"] <= parent + 1 else ""
        rows += [
            Row(name, data, report["process_seconds"], "s", None if journeys else PATHS_SECONDS,
                f"whole process; build_journeys {report['seconds']:.1f} s, "
                f"{report['journeys']:,} journeys, {report['distinct_paths']:,} paths",
                quick=quick),
            Row(f"{name} peak memory", data, report["peak_rss_mb"], "MB",
                None if journeys else _duckdb_mb(limit),
                f"ru_maxrss{inherited}; DuckDB memory_limit {limit}", quick=quick),
        ]
    return rows, reports


def _duckdb_mb(limit: str) -> float:
    """A DuckDB size setting in MB: ``KB``/``MB``/``GB`` are powers of 1000, ``KiB``... of 1024."""
    units = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
             "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
    text = limit.strip().upper()
    unit = next(u for u in sorted(units, key=len, reverse=True) if text.endswith(u))
    return float(text[: -len(unit)]) * units[unit] / 2**20


# -- ChannelAttribution ------------------------------------------------------------------


@dataclass(frozen=True)
class PeerRow:
    """One ChannelAttribution run next to the exact result of the same order."""

    order: int
    setting: str
    simulations: float
    seconds: float
    largest_difference: float
    channel: str
    ours_seconds: float

    @property
    def agrees(self) -> bool:
        """Every channel within :data:`AGREEMENT` of the exact result."""
        return self.largest_difference < AGREEMENT

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return asdict(self) | {"agrees": self.agrees}


def exact_conversions(paths: PathTable, order: int) -> dict[str, float]:
    """Spendwise's exact Markov conversions per channel."""
    result = Markov(order=order).fit(paths).result
    return dict(zip(result.channels, result.conversions.tolist(), strict=True))


def largest_difference(peer: Mapping[str, float], ours: Mapping[str, float]) -> tuple[float, str]:
    """Largest per-channel ``|peer / ours - 1|`` and its channel."""
    gaps = {c: abs(peer[c] / ours[c] - 1.0) for c in ours}
    channel = max(gaps, key=gaps.__getitem__)
    return gaps[channel], channel


def peer_run(data: Dataset, ours: Mapping[str, float], ours_seconds: float, order: int,
             nsim: float | None, **options: Any) -> PeerRow:
    """One ChannelAttribution ``markov_model`` call compared with ``ours``."""
    from benchmarks.peers import channelattribution_markov

    setting = "default" if nsim is None else f"nsim_start={_sci(nsim)}"
    setting += "".join(f", {k}={v}" for k, v in options.items())
    _say(f"ChannelAttribution order {order}, {setting}")
    peer = channelattribution_markov(data.frame, order=order, nsim=nsim, seed=0, **options)
    gap, channel = largest_difference(peer.conversions, ours)
    return PeerRow(order, setting, peer.diagnostics.get("simulations", float("nan")),
                   peer.seconds, gap, channel, ours_seconds)


def _sci(x: float) -> str:
    """``1e6``, ``1.6e8``: a simulation count in short scientific notation."""
    mantissa, exponent = f"{x:.3g}".split("e")
    return f"{mantissa}e{int(exponent)}"


def peer_ladder(data: Dataset, ours: Mapping[str, float], ours_seconds: float,
                max_nsim: float) -> list[PeerRow]:
    """Order 1 at the default, at :data:`PEER_NSIM`, then doubling until agreement."""
    rows = [peer_run(data, ours, ours_seconds, 1, None)]
    rows += [peer_run(data, ours, ours_seconds, 1, nsim) for nsim in PEER_NSIM]
    nsim = PEER_NSIM[-1]
    while (not rows[-1].agrees and nsim * 2 <= max_nsim
           and rows[-1].seconds * 2 <= PEER_TIME_CAP):
        nsim *= 2
        rows.append(peer_run(data, ours, ours_seconds, 1, nsim))
    if rows[-1].agrees and rows[-1].setting != "default":
        # The same simulation spread over both cores (same numbers, shorter wall time).
        rows.append(peer_run(data, ours, ours_seconds, 1, nsim, ncore=2))
    return rows


def peer_spread(data: Dataset, ours: Mapping[str, float], nsim: float = 1e6) -> pd.DataFrame:
    """ChannelAttribution over :data:`PEER_SEEDS` independent seeds: mean and spread
    per channel, and the exact value's distance from the mean in standard
    deviations of one run (``z``) and in standard errors of the mean (``z_mean``)."""
    from benchmarks.peers import channelattribution_markov

    seeds = [PEER_NFOLD * i for i in range(PEER_SEEDS)]
    _say(f"ChannelAttribution order 1, nsim_start={_sci(nsim)}, seeds {seeds}")
    runs = pd.DataFrame([channelattribution_markov(data.frame, order=1, nsim=nsim, seed=s,
                                                   nfold=PEER_NFOLD).conversions
                         for s in seeds])
    table = pd.DataFrame({"ours": pd.Series(ours), "peer_mean": runs.mean(),
                          "peer_std": runs.std(ddof=1)})
    table["z"] = (table["ours"] - table["peer_mean"]) / table["peer_std"]
    table["z_mean"] = table["z"] * np.sqrt(PEER_SEEDS)
    return table.rename_axis("channel").reset_index()


def compare_peers(data: Dataset, ours_seconds: Mapping[int, float],
                  quick: bool) -> dict[str, Any] | None:
    """ChannelAttribution next to the exact results; ``None`` when it is not installed."""
    if find_spec("ChannelAttribution") is None:
        _say("ChannelAttribution is not installed (pip install 'spendwise[peers]'); "
             "the comparison is skipped")
        return None
    exact = {k: exact_conversions(data.paths, k) for k in (1, *PEER_ORDERS)}
    rows = peer_ladder(data, exact[1], ours_seconds[1],
                       QUICK_PEER_MAX_NSIM if quick else PEER_MAX_NSIM)
    rows += [peer_run(data, exact[k], ours_seconds[k], k, None) for k in PEER_ORDERS]
    spread = peer_spread(data, exact[1])
    return {"data": data.label, "rows": rows, "spread": spread, "exact": exact}


# -- output ------------------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 right: Sequence[int] = ()) -> str:
    """Plain-text table; the columns in ``right`` are right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def results_table(rows: Sequence[Row]) -> str:
    """The main table: benchmark, data, result, target, met, notes."""
    def amount(x: float, unit: str) -> str:
        return f"{x:.0f} MB" if unit == "MB" else f"{x:.3f} s" if x < 10 else f"{x:.1f} s"

    body = [[r.benchmark, r.data, amount(r.result, r.unit),
             "" if r.target is None else f"< {amount(r.target, r.unit)}",
             {True: "yes", False: "NO", None: "-"}[r.met], r.notes] for r in rows]
    return format_table(["benchmark", "data", "result", "target", "met", "notes"], body, (2, 3))


def peer_tables(peers: Mapping[str, Any]) -> str:
    """The ChannelAttribution comparison and its spread over seeds."""
    body = [[str(r.order), r.setting, f"{r.simulations:,.0f}", f"{r.seconds:.2f}",
             f"{r.largest_difference:.2%} ({r.channel})", "yes" if r.agrees else "no",
             f"{r.ours_seconds:.3f}", "yes" if r.ours_seconds < r.seconds else "NO"]
            for r in peers["rows"]]
    comparison = format_table(
        ["order", "ChannelAttribution setting", "nsim used", "CA s", "largest diff", "< 1%",
         "ours s", "ours faster"], body, (2, 3, 4, 6))
    spread = peers["spread"]
    lines = [[r.channel, f"{r.ours:,.1f}", f"{r.peer_mean:,.1f}", f"{r.peer_std:,.1f}",
              f"{r.peer_std / r.peer_mean:.2%}", f"{r.z:+.2f}", f"{r.z_mean:+.2f}"]
             for r in spread.itertuples()]
    seeds = format_table(["channel", "ours (exact)", "CA mean", "CA std", "CA std/mean",
                          "(ours-mean)/std", "(ours-mean)/se"], lines, (1, 2, 3, 4, 5, 6))
    inside = bool((spread["z"].abs() < 3).all())
    return (f"ChannelAttribution, Markov, {peers['data']}; CA s: one call\n{comparison}\n\n"
            f"ChannelAttribution order 1, nsim_start=1e6, {PEER_SEEDS} seeds "
            f"(0, {PEER_NFOLD}, {2 * PEER_NFOLD}, ...): exact value within 3 std of their mean "
            f"for every channel: {'yes' if inside else 'NO'}\n{seeds}")


def header(info: Mapping[str, Any], command: str, n_journeys: int) -> str:
    """Machine, versions and the command, for the top of the output."""
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    load = " ".join(f"{x:g}" for x in info["load_average_at_start"])
    return (f"spendwise attribution benchmarks, {info['date']}, commit {info['commit']}\n"
            f"command: {command}\n"
            f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
            f"{info['ram_gib']} GiB RAM\n"
            f"os: {info['os']}\n"
            f"python {info['python']}; {versions}\n"
            f"BLAS: {info['blas']}\n"
            f"load average at start: {load}\n"
            f"data: simulate_paths({n_journeys:_}, n_channels, seed={SEED}); times: wall clock, "
            f"median of {REPEATS} runs; cpu: CPU time of the process, median\n")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_JOURNEYS:,} journeys and {QUICK_TOUCH_ROWS:,} touch rows; "
                             "targets are not judged")
    parser.add_argument("--skip-peers", action="store_true", help="leave out ChannelAttribution")
    parser.add_argument("--skip-paths", action="store_true", help="leave out spendwise paths")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    command = " ".join(["python -m benchmarks.attribution", *(argv or sys.argv[1:])])
    n_journeys = QUICK_JOURNEYS if args.quick else JOURNEYS
    info = machine()
    print(header(info, command, n_journeys), flush=True)
    # Child processes start with this process's peak as their ru_maxrss, so the
    # subprocess benchmarks run before any data is loaded here.
    paths_out, paths_report = ([], []) if args.skip_paths else paths_rows(
        QUICK_TOUCH_ROWS if args.quick else TOUCH_ROWS, args.quick)
    memory = memory_rows(n_journeys, args.quick)
    datasets = [load(n_journeys, n) for n in CHANNEL_COUNTS]
    rows = [row for data in datasets for row in time_models(data, args.quick)]
    rows += [time_bootstrap(datasets[0], args.quick), *memory, *paths_out]
    ours = {k: next(r.result for r in rows
                    if r.benchmark == f"markov order {k}" and r.data == datasets[0].label)
            for k in MARKOV_ORDERS}
    peers = None if args.skip_peers else compare_peers(datasets[0], ours, args.quick)
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(results_table(rows))
    if peers is not None:
        print("\n" + peer_tables(peers))
    print("\nload average at end: " + " ".join(f"{x:g}" for x in info["load_average_at_end"]))
    if args.json:
        save(args.json, info, command, rows, paths_report, peers)


def save(target: Path, info: Mapping[str, Any], command: str, rows: Sequence[Row],
         paths_report: Sequence[Mapping[str, Any]], peers: Mapping[str, Any] | None) -> None:
    """Write everything measured to a JSON file."""
    out: dict[str, Any] = {"machine": dict(info), "command": command,
                           "results": [r.to_dict() for r in rows], "paths": list(paths_report)}
    if peers is not None:
        out["channelattribution"] = {
            "data": peers["data"], "exact": peers["exact"],
            "rows": [r.to_dict() for r in peers["rows"]],
            "spread": peers["spread"].to_dict(orient="records"),
        }
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=float) + "\n")


if __name__ == "__main__":
    main()
