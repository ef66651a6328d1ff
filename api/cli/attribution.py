"""The ``spendwise paths`` and ``spendwise attribute`` commands.

The commands parse options, call the attribution package and write the
outputs. All outputs are rendered in memory first and then moved into place,
so a failed run leaves no partial file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from api.cli.common import Writer, defaults_of, request_of
from api.cli.progress import showing
from attribution.base import AttributionResult
from attribution.bootstrap import METHODS
from attribution.errors import ParameterError
from attribution.journeys import MEMORY_LIMIT, JourneyRequest, build_journeys
from attribution.markov import MAX_ORDER, Markov
from attribution.models import MODELS
from attribution.paths import DEFAULT_SEPARATOR, PathTable
from attribution.report import FORMATS, plot_comparison, render, to_json
from attribution.requests import AttributionRequest, AttributionSettings
from attribution.run import attribute
from attribution.shapley import VALUE_FUNCTIONS
from spendwise import __version__
from spendwise.export import to_csv

SETTINGS = defaults_of(AttributionSettings)
JOURNEYS = defaults_of(JourneyRequest)
#: Options whose name is not the field's.
OPTIONS = {"models": "--model", "settings.keep_repeats": "--keep-repeats"}


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
    paths.add_argument("--lookback-days", type=float, help="look-back window before a "
                       f"conversion, in days (default {JOURNEYS['lookback_days']:g})")
    paths.add_argument("--journeys", type=Path, help="also write one row per journey here")
    paths.add_argument("--separator", help="channel separator in paths (default "
                       f"{JOURNEYS['separator']!r})")
    paths.add_argument("--memory-limit", type=memory_limit, default=MEMORY_LIMIT,
                       help=f"DuckDB memory limit (default {MEMORY_LIMIT})")
    paths.set_defaults(handler=run_paths)

    attribute_ = commands.add_parser(
        "attribute", help="attribute conversions and value to channels",
        description="Attribute the conversions and value of aggregated paths (or journeys) "
                    "to channels with one or more models.",
    )
    add = attribute_.add_argument
    add("paths", type=Path, help="aggregated paths or journeys, CSV or Parquet")
    add("--model", action="append", choices=list(MODELS), metavar="NAME",
        help=f"model to run, repeatable: {', '.join(MODELS)} (default markov)")
    add("--order", help=f"Markov order, 1 to {MAX_ORDER} or 'auto' (default "
        f"{SETTINGS['order']})")
    add("--keep-repeats", action="store_true", default=None,
        help="Markov: keep consecutive repeats of a channel as separate states")
    add("--shapley-value", choices=VALUE_FUNCTIONS,
        help=f"Shapley value function (default {SETTINGS['shapley_value']})")
    add("--min-support", type=float,
        help="conversion_rate Shapley: journeys a channel set needs to count (default "
             f"{SETTINGS['min_support']:g})")
    add("--position-weights", metavar="FIRST,LAST", help="position_based shares of first "
        "and last touch (default {:g},{:g})".format(*SETTINGS["position_weights"]))
    add("--half-life-days", type=float, help="time_decay half-life in days (default "
        f"{SETTINGS['half_life_days']:g})")
    add("--half-life-touches", type=float, help="time_decay half-life in touches, without "
        f"touch times (default {SETTINGS['half_life_touches']:g})")
    add("--bootstrap", type=int, metavar="B", help="bootstrap replicates for confidence "
        "intervals (default 0: none)")
    add("--bootstrap-method", choices=METHODS,
        help=f"(default {SETTINGS['bootstrap_method']})")
    add("--ci-level", type=float,
        help=f"confidence level of the intervals (default {SETTINGS['ci_level']:g})")
    add("--seed", type=int, help=f"random seed (default {SETTINGS['seed']})")
    add("--separator", default=DEFAULT_SEPARATOR,
        help="channel separator in paths (default ' > ')")
    add("--format", choices=FORMATS, default="json", dest="fmt",
        help="report format (default json)")
    add("-o", "--output", type=Path, help="write the report here, not stdout")
    add("--plot", type=Path, help="chart of credit by channel (.png or .svg)")
    add("--credit", type=Path,
        help="per-journey credit table (CSV): journey, channel, model, ...")
    add("--transitions", type=Path,
        help="Markov transition matrix (CSV): from, to, count, probability")
    add("--html", type=Path, metavar="FILE",
        help="the report as one self-contained HTML page (.html), as the service shows it")
    add("--quiet", action="store_true", help="no bootstrap progress on standard error")
    attribute_.set_defaults(handler=run_attribute)


def run_paths(args: argparse.Namespace, write_outputs: Writer) -> int:
    """Build journeys with DuckDB; it writes its own outputs atomically."""
    request = request_of(JourneyRequest, {"lookback_days": args.lookback_days,
                                          "separator": args.separator})
    summary = build_journeys(
        args.touches, args.conversions, args.output, lookback_days=request.lookback_days,
        journeys_output=args.journeys, separator=request.separator,
        memory_limit=args.memory_limit,
    )
    facts = summary.to_dict()
    print(", ".join(f"{k.replace('_', ' ')}: {v:g}" if isinstance(v, float) else
                    f"{k.replace('_', ' ')}: {v}" for k, v in facts.items()), file=sys.stderr)
    return 0


def memory_limit(text: str) -> str:
    """``--memory-limit``: an amount of memory such as ``2GB`` or ``512MiB``."""
    if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]+)?\s?[KMGT]i?B", text):
        raise argparse.ArgumentTypeError(f"expected an amount such as 2GB or 512MB, got "
                                         f"{text[:20]!r}")
    return text


def parse_order(text: str | None) -> int | str | None:
    """``--order``: an integer, or the text as given (the request says what is allowed)."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def parse_position_weights(text: str | None) -> tuple[float, float] | None:
    """``--position-weights FIRST,LAST`` as two floats."""
    if text is None:
        return None
    try:
        first, last = (float(x) for x in text.split(","))
    except ValueError:
        raise ParameterError(
            f"--position-weights: expected two numbers like 0.4,0.4, got {text!r}"
        ) from None
    return first, last


def attribution_request(args: argparse.Namespace) -> AttributionRequest:
    """The request of the ``attribute`` options."""
    settings = {
        "order": parse_order(args.order), "keep_repeats": args.keep_repeats,
        "shapley_value": args.shapley_value, "min_support": args.min_support,
        "position_weights": parse_position_weights(args.position_weights),
        "half_life_days": args.half_life_days, "half_life_touches": args.half_life_touches,
        "bootstrap": args.bootstrap, "bootstrap_method": args.bootstrap_method,
        "ci_level": args.ci_level, "seed": args.seed,
    }
    return request_of(AttributionRequest, {
        "models": tuple(args.model) if args.model else None,
        "settings": {k: v for k, v in settings.items() if v is not None}}, OPTIONS)


def html_report(source: Path, paths: PathTable, request: AttributionRequest,
                results: list[AttributionResult]) -> bytes:
    """The page of ``GET /v1/reports/{id}/html`` for results of the command line.

    The same renderer (:func:`api.html.report_page`) on the same models JSON;
    the facts name the input file and its fingerprint instead of a dataset.
    """
    from api.html import report_page  # the page's renderer only, not the service

    facts = [("input", source.name), ("paths fingerprint", paths.fingerprint),
             ("version", __version__), ("created at", results[0].created_at),
             ("created by", "spendwise attribute")]
    page = report_page(json.loads(to_json(results)), title=f"Attribution report {source.name}",
                       facts=facts, parameters={"paths": source.name, **request.canonical()})
    return page.encode("utf-8")


def run_attribute(args: argparse.Namespace, write_outputs: Writer) -> int:
    """Fit every requested model, render every output, then write them all."""
    for target, suffixes in ((args.plot, (".png", ".svg")), (args.credit, (".csv",)),
                             (args.transitions, (".csv",)), (args.html, (".html", ".htm"))):
        if target is not None and target.suffix.lower() not in suffixes:
            raise ParameterError(f"{target}: expected a {' or '.join(suffixes)} file")
    request = attribution_request(args)
    if args.transitions is not None and "markov" not in request.models:
        raise ParameterError("--transitions: needs --model markov")
    paths = PathTable.read(args.paths, separator=args.separator)
    with showing("attribute", "replicates",
                 quiet=args.quiet or not request.settings.bootstrap) as progress:
        models, results = attribute(paths, request, progress)
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
        markov = next(m for m in models if isinstance(m, Markov))
        outputs[args.transitions] = to_csv(markov.transition_matrix()).encode("utf-8")
    if args.html is not None:
        outputs[args.html] = html_report(args.paths, paths, request, results)
    write_outputs(outputs)
    if args.output is None:
        sys.stdout.write(report.decode("utf-8"))
    return 0
