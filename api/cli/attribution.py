"""The ``spendwise paths`` and ``spendwise attribute`` commands.

The commands parse options, call the attribution package and write the
outputs. All outputs are rendered in memory first and then moved into place,
so a failed run leaves no partial file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from attribution.base import AttributionResult
from attribution.bootstrap import METHODS, bootstrap
from attribution.errors import ParameterError
from attribution.journeys import DEFAULT_LOOKBACK_DAYS, build_journeys
from attribution.markov import MAX_ORDER, Markov
from attribution.models import MODELS, make_model
from attribution.paths import DEFAULT_SEPARATOR, PathTable
from attribution.report import FORMATS, plot_comparison, render, to_csv
from attribution.shapley import VALUE_FUNCTIONS

Writer = Callable[[dict[Path, bytes]], None]


def register(commands: Any) -> None:
    """Add the attribution commands to the ``spendwise`` sub-command parser."""
    paths = commands.add_parser(
        "paths", help="turn raw touchpoints and conversions into journeys",
        description="Build customer journeys from a touch table (user_id, timestamp, channel) "
                    "and a conversion table (user_id, timestamp[, value]) and write the "
                    "aggregated paths (path, conversions, nulls, value).",
    )
    paths.add_argument("touches", type=Path, help="touch table, CSV or Parquet")
    paths.add_argument("conversions", type=Path, help="conversion table, CSV or Parquet")
    paths.add_argument("-o", "--output", type=Path, required=True,
                       help="aggregated paths file to write (.csv or .parquet)")
    paths.add_argument("--lookback-days", type=float, default=DEFAULT_LOOKBACK_DAYS,
                       help="look-back window before a conversion, in days (default 30)")
    paths.add_argument("--journeys", type=Path, help="also write one row per journey here")
    paths.add_argument("--separator", default=DEFAULT_SEPARATOR,
                       help="channel separator in paths (default ' > ')")
    paths.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit (default 2GB)")
    paths.set_defaults(handler=run_paths)

    attribute = commands.add_parser(
        "attribute", help="attribute conversions and value to channels",
        description="Attribute the conversions and value of aggregated paths (or journeys) "
                    "to channels with one or more models.",
    )
    attribute.add_argument("paths", type=Path, help="aggregated paths or journeys, CSV or Parquet")
    attribute.add_argument("--model", action="append", choices=list(MODELS), metavar="NAME",
                           help=f"model to run, repeatable: {', '.join(MODELS)} "
                                "(default markov)")
    attribute.add_argument("--order", default="1",
                           help=f"Markov order, 1 to {MAX_ORDER} or 'auto' (default 1)")
    attribute.add_argument("--keep-repeats", action="store_true",
                           help="Markov: keep consecutive repeats of a channel as separate states")
    attribute.add_argument("--shapley-value", choices=VALUE_FUNCTIONS, default="simplified",
                           help="Shapley value function (default simplified)")
    attribute.add_argument("--min-support", type=float,
                           help="conversion_rate Shapley: journeys a channel set needs to count")
    attribute.add_argument("--position-weights", metavar="FIRST,LAST",
                           help="position_based shares of first and last touch (default 0.4,0.4)")
    attribute.add_argument("--half-life-days", type=float, help="time_decay half-life in days")
    attribute.add_argument("--half-life-touches", type=float,
                           help="time_decay half-life in touches, without touch times")
    attribute.add_argument("--bootstrap", type=int, default=0, metavar="B",
                           help="bootstrap replicates for confidence intervals (default 0: none)")
    attribute.add_argument("--bootstrap-method", choices=METHODS, default="poisson")
    attribute.add_argument("--ci-level", type=float, default=0.95,
                           help="confidence level of the intervals (default 0.95)")
    attribute.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    attribute.add_argument("--separator", default=DEFAULT_SEPARATOR,
                           help="channel separator in paths (default ' > ')")
    attribute.add_argument("--format", choices=FORMATS, default="json", dest="fmt",
                           help="report format (default json)")
    attribute.add_argument("-o", "--output", type=Path, help="write the report here, not stdout")
    attribute.add_argument("--plot", type=Path, help="chart of credit by channel (.png or .svg)")
    attribute.add_argument("--credit", type=Path,
                           help="per-journey credit table (CSV): journey, channel, model, ...")
    attribute.add_argument("--transitions", type=Path,
                           help="Markov transition matrix (CSV): from, to, count, probability")
    attribute.set_defaults(handler=run_attribute)


def run_paths(args: argparse.Namespace, write_outputs: Writer) -> int:
    """Build journeys with DuckDB; it writes its own outputs atomically."""
    summary = build_journeys(
        args.touches, args.conversions, args.output, lookback_days=args.lookback_days,
        journeys_output=args.journeys, separator=args.separator, memory_limit=args.memory_limit,
    )
    facts = summary.to_dict()
    print(", ".join(f"{k.replace('_', ' ')}: {v:g}" if isinstance(v, float) else
                    f"{k.replace('_', ' ')}: {v}" for k, v in facts.items()), file=sys.stderr)
    return 0


def parse_order(text: str) -> int | str:
    """``--order``: an integer from 1 to MAX_ORDER, or ``auto``."""
    if text == "auto":
        return text
    try:
        order = int(text)
    except ValueError:
        raise ParameterError(f"--order: expected 1 to {MAX_ORDER} or 'auto', got {text!r}") \
            from None
    if not 1 <= order <= MAX_ORDER:
        raise ParameterError(f"--order: must be from 1 to {MAX_ORDER}, got {order}")
    return order


def parse_position_weights(text: str | None) -> tuple[float | None, float | None]:
    """``--position-weights FIRST,LAST`` as two floats."""
    if text is None:
        return None, None
    try:
        first, last = (float(x) for x in text.split(","))
    except ValueError:
        raise ParameterError(
            f"--position-weights: expected two numbers like 0.4,0.4, got {text!r}"
        ) from None
    return first, last


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    """Settings for :func:`make_model` from the command line."""
    first, last = parse_position_weights(args.position_weights)
    return {
        "order": parse_order(args.order),
        "collapse_repeats": not args.keep_repeats,
        "value_function": args.shapley_value,
        "min_support": args.min_support,
        "first": first,
        "last": last,
        "half_life_days": args.half_life_days,
        "half_life_touches": args.half_life_touches,
        "seed": args.seed,
    }


def run_attribute(args: argparse.Namespace, write_outputs: Writer) -> int:
    """Fit every requested model, render every output, then write them all."""
    if args.bootstrap and args.bootstrap < 2:
        raise ParameterError(f"--bootstrap: needs at least 2 replicates, got {args.bootstrap}")
    for target, suffixes in ((args.plot, (".png", ".svg")), (args.credit, (".csv",)),
                             (args.transitions, (".csv",))):
        if target is not None and target.suffix.lower() not in suffixes:
            raise ParameterError(f"{target}: expected a {' or '.join(suffixes)} file")
    options = model_options(args)
    models = [make_model(name, **options) for name in (args.model or ["markov"])]
    paths = PathTable.read(args.paths, separator=args.separator)
    results = [fit_one(model, paths, args) for model in models]
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        print(f"spendwise: warning: {warning}", file=sys.stderr)

    report = render(results, args.fmt).encode("utf-8")
    outputs: dict[Path, bytes] = {}
    if args.output is not None:
        outputs[args.output] = report
    if args.plot is not None:
        outputs[args.plot] = plot_comparison(results, args.plot.suffix.lower().lstrip("."))
    if args.credit is not None:
        outputs[args.credit] = to_csv(
            pd.concat([r.journey_table() for r in results], ignore_index=True)
        ).encode("utf-8")
    if args.transitions is not None:
        markov = [m for m in models if isinstance(m, Markov)]
        if not markov:
            raise ParameterError("--transitions: needs --model markov")
        outputs[args.transitions] = to_csv(markov[0].transition_matrix()).encode("utf-8")
    write_outputs(outputs)
    if args.output is None:
        sys.stdout.write(report.decode("utf-8"))
    return 0


def fit_one(model: Any, paths: PathTable, args: argparse.Namespace) -> AttributionResult:
    """Fit one model and attach bootstrap intervals when asked for."""
    result: AttributionResult = model.fit(paths).result
    if args.bootstrap:
        intervals = bootstrap(model, paths, replicates=args.bootstrap, seed=args.seed,
                              method=args.bootstrap_method, level=args.ci_level)
        result = result.with_intervals(intervals)
    return result
