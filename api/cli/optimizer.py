"""The ``spendwise fit``, ``curves``, ``plan`` and ``forecast`` commands.

The commands parse options, call the optimizer package and write outputs.
Reports are rendered in memory and moved into place together at the end, so
a failed run leaves no partial file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from api.cli.common import Writer, defaults_of, request_of
from api.cli.progress import showing
from optimizer.curves import CURVES
from optimizer.errors import InputError, ParameterError
from optimizer.priors import report_shares
from optimizer.problem import OBJECTIVES
from optimizer.report import FORMATS, render
from optimizer.requests import PERIOD_WEEKS, FitRequest, ForecastRequest, PlanRequest
from spendwise import __version__
from spendwise.export import to_csv
from spendwise.money import parse_amount
from spendwise.reading import ReadError, parse_numbers, read_frame

FIT = defaults_of(FitRequest)
PLAN = defaults_of(PlanRequest)


def register(commands: Any) -> None:
    """Add the optimizer commands to the ``spendwise`` sub-command parser."""
    _register_fit(commands)
    curves = commands.add_parser("curves", help="response curves of a fitted model",
                                 description="Weekly KPI and marginal ROMI per channel on a "
                                             "spend grid, with 5/50/95% bands.")
    curves.add_argument("model", type=Path, help="fitted model file (from spendwise fit)")
    curves.add_argument("--format", choices=("json", "csv"), default="json", dest="fmt")
    curves.add_argument("-o", "--output", type=Path, help="write here, not stdout")
    curves.add_argument("--plot", type=Path, help="chart of the curves (.png or .svg)")
    curves.add_argument("--html", type=Path, metavar="FILE",
                        help="the model as a self-contained HTML page (as the service shows "
                             "it): checks, contributions, curves and marginal returns")
    curves.set_defaults(handler=run_curves)
    _register_plan(commands)
    _register_forecast(commands)


def _register_fit(commands: Any) -> None:
    fit = commands.add_parser(
        "fit", help="fit Bayesian response curves of spend to conversions",
        description="Fit weekly response curves (adstock + saturation, PyMC/NUTS) to spend "
                    "and outcomes, and save the fitted model to one file.")
    fit.add_argument("--spend", type=Path, required=True, help="date, channel, spend")
    fit.add_argument("--outcomes", type=Path, required=True,
                     help="date, conversions[, revenue]")
    fit.add_argument("--controls", type=Path, help="date, <numeric columns>")
    fit.add_argument("--lift-tests", type=Path,
                     help="channel, spend_before, spend_after, lift, lift_sd (weekly)")
    fit.add_argument("--attribution-prior", type=Path, metavar="REPORT.json",
                     help="a spendwise attribute JSON report centring the media shares")
    fit.add_argument("--prior-width", type=float, help="width of the attribution prior "
                     f"(default {FIT['prior_width']:g})")
    fit.add_argument("--kpi", choices=("conversions", "revenue"),
                     help=f"(default {FIT['kpi']})")
    fit.add_argument("--curve", choices=list(CURVES), help=f"(default {FIT['curve']})")
    fit.add_argument("--value-per-conversion", type=float,
                     help="revenue per conversion, for plans in revenue or profit")
    fit.add_argument("--max-lag", type=int,
                     help=f"adstock length in weeks (default {FIT['max_lag']})")
    fit.add_argument("--fourier-order", type=int,
                     help=f"yearly seasonality terms (default {FIT['fourier_order']})")
    fit.add_argument("--draws", type=int, help=f"draws per chain (default {FIT['draws']})")
    fit.add_argument("--tune", type=int, help=f"tuning steps (default {FIT['tune']})")
    fit.add_argument("--chains", type=int, help=f"(default {FIT['chains']})")
    fit.add_argument("--seed", type=int, help=f"(default {FIT['seed']})")
    fit.add_argument("--sampler", choices=("nutpie", "pymc", "numpyro"), default=None)
    fit.add_argument("--holdout-weeks", type=int,
                     help="last weeks kept out of the fit to score forecasts (default "
                          f"{FIT['holdout_weeks']})")
    fit.add_argument("--quiet", action="store_true", help="no progress on standard error")
    fit.add_argument("-o", "--output", type=Path, required=True, help="model file to write")
    fit.set_defaults(handler=run_fit)


def _register_plan(commands: Any) -> None:
    plan = commands.add_parser(
        "plan", help="propose a budget allocation",
        description="Allocate a budget over channels to maximise the objective on the "
                    "model's posterior draws, as a certified global optimum.")
    plan.add_argument("model", type=Path, help="fitted model file")
    plan.add_argument("--budget", type=amount, help="spend over the whole horizon (or the "
                      "period), written as people write it: 1.2M, 1,200,000, 120万")
    plan.add_argument("--budget-mode", choices=("equal", "cap"),
                      help="spend exactly the budget or at most (default: equal; cap for "
                           "profit and min_spend)")
    plan.add_argument("--horizon-weeks", type=int,
                      help=f"weeks the budget covers (default {PLAN['horizon_weeks']})")
    plan.add_argument("--period", choices=tuple(PERIOD_WEEKS),
                      help="the budget is a week's, a month's (52/12 weeks) or a quarter's "
                           "(13 weeks), instead of --horizon-weeks")
    plan.add_argument("--objective", choices=OBJECTIVES, help=f"(default {PLAN['objective']})")
    plan.add_argument("--alpha", type=float, help=f"CVaR level (default {PLAN['alpha']:g})")
    plan.add_argument("--target", type=amount,
                      help="KPI over the horizon (or the period), for min_spend: 5000, 5k")
    plan.add_argument("--per-week", action="store_true",
                      help="a spend per channel and week, with adstock carryover")
    plan.add_argument("--current", type=Path, help="current weekly spend: channel, spend")
    plan.add_argument("--bounds", type=Path, help="weekly limits: channel, min, max")
    plan.add_argument("--max-change", type=float,
                      help="largest relative change against current (0.3 = +-30%%)")
    plan.add_argument("--lock", action="append", default=[], metavar="CHANNEL",
                      help="keep a channel at its current spend (repeatable)")
    plan.add_argument("--romi-floor", type=float, help="minimum (revenue - spend) / spend")
    plan.add_argument("--max-spend-multiple", type=float,
                      help="cap per channel as a multiple of its largest weekly spend "
                           f"(default {PLAN['max_spend_multiple']:g})")
    plan.add_argument("--allow-unconverged", action="store_true",
                      help="plan even if the model's sampler did not converge")
    plan.add_argument("--format", choices=FORMATS, default="json", dest="fmt")
    plan.add_argument("-o", "--output", type=Path)
    plan.add_argument("--plot", type=Path, help="current against proposed (.png or .svg)")
    plan.add_argument("--html", type=Path, metavar="FILE",
                      help="the plan as one self-contained HTML page (.html), as the service "
                           "shows it")
    plan.add_argument("--quiet", action="store_true",
                      help="no progress on standard error while the convex program runs")
    plan.set_defaults(handler=run_plan)


def _register_forecast(commands: Any) -> None:
    fc = commands.add_parser(
        "forecast", help="ROMI forecast of an allocation",
        description="Distribution of conversions, revenue and ROMI of an allocation over the "
                    "horizon, per channel and in total, against the current allocation.")
    fc.add_argument("model", type=Path, help="fitted model file")
    fc.add_argument("--allocation", type=Path, required=True,
                    help="channel, spend (weekly) or week, channel, spend (week by week)")
    fc.add_argument("--horizon-weeks", type=int,
                    help=f"weeks the forecast covers (default {PLAN['horizon_weeks']})")
    fc.add_argument("--period", choices=tuple(PERIOD_WEEKS),
                    help="forecast a week, a month (52/12 weeks) or a quarter (13 weeks), "
                         "instead of --horizon-weeks")
    fc.add_argument("--allow-unconverged", action="store_true")
    fc.add_argument("--format", choices=FORMATS, default="json", dest="fmt")
    fc.add_argument("-o", "--output", type=Path)
    fc.add_argument("--html", type=Path, metavar="FILE",
                    help="the forecast as one self-contained HTML page (.html), as the service "
                         "shows it")
    fc.set_defaults(handler=run_forecast)


# -- handlers ---------------------------------------------------------------------------------


def run_fit(args: argparse.Namespace, write_outputs: Writer) -> int:
    """Fit the response model and save it."""
    from optimizer.data import MediaData
    from optimizer.response_model import ResponseModel

    if args.output.suffix.lower() not in (".nc", ".spendwise", ".model", ".zip"):
        raise ParameterError(f"{args.output}: expected a .nc model file")
    prior = None if args.attribution_prior is None else \
        report_shares(_read_json(args.attribution_prior))
    request = request_of(FitRequest, {
        "kpi": args.kpi, "curve": args.curve, "max_lag": args.max_lag,
        "fourier_order": args.fourier_order, "draws": args.draws, "tune": args.tune,
        "chains": args.chains, "seed": args.seed, "holdout_weeks": args.holdout_weeks,
        "value_per_conversion": args.value_per_conversion, "prior_width": args.prior_width,
        "attribution_prior": prior})
    data = MediaData.from_files(args.spend, args.outcomes, controls=args.controls,
                                lift_tests=args.lift_tests)
    sampler = {} if args.sampler is None else {"sampler": args.sampler}
    with showing("fit", "draws", quiet=args.quiet) as progress:
        model = ResponseModel.for_request(request, **sampler).fit(data, progress=progress)
    staged = args.output.with_name(f".{args.output.name}.staged")
    try:
        model.save(staged)
        write_outputs({args.output: staged.read_bytes()})
    finally:
        staged.unlink(missing_ok=True)
    result = model.result_.to_dict()
    shown = ("max_r_hat", "min_ess_bulk", "divergences", "r2", "mape", "holdout_mape",
             "holdout_coverage_90", "seconds")
    print(f"spendwise: fit {result.get('status', '')}: " + ", ".join(
        f"{k} {result[k]:.4g}" if isinstance(result[k], float) else f"{k} {result[k]}"
        for k in shown if result.get(k) is not None), file=sys.stderr)
    return 0


def run_curves(args: argparse.Namespace, write_outputs: Writer) -> int:
    """Write the model's response curves (and its page, with ``--html``)."""
    _check_page(args.html)
    model = _load(args.model)
    curves = model.curves()
    text = (json.dumps(curves.to_dict(), indent=2, ensure_ascii=False) + "\n"
            if args.fmt == "json" else to_csv(curves.to_frame()))
    outputs: dict[Path, bytes] = {}
    if args.plot is not None:
        _check_chart(args.plot)
        staged = args.plot.with_name(f".{args.plot.stem}.staged{args.plot.suffix}")
        try:
            model.plot_curves(staged)
            outputs[args.plot] = staged.read_bytes()
        finally:
            staged.unlink(missing_ok=True)
    if args.html is not None:
        from api.html import model_file_page  # the renderer, not the service

        outputs[args.html] = model_file_page(args.model.name, model).encode("utf-8")
    return _emit(text, args.output, outputs, write_outputs)


def plan_request(args: argparse.Namespace) -> PlanRequest:
    """The request of the ``plan`` options (files read, nothing checked against a model)."""
    fields: dict[str, Any] = {
        "budget": args.budget, "budget_mode": args.budget_mode, "objective": args.objective,
        "alpha": args.alpha, "target": args.target, "horizon_weeks": args.horizon_weeks,
        "period": args.period,
        "per_week": args.per_week or None, "max_change": args.max_change,
        "locked": tuple(args.lock) or None, "romi_floor": args.romi_floor,
        "max_spend_multiple": args.max_spend_multiple,
        "allow_unconverged": args.allow_unconverged or None,
        "current": None if args.current is None else _spend_map(args.current),
        "bounds": None if args.bounds is None else _bounds(args.bounds),
    }
    return request_of(PlanRequest, fields, {"locked": "--lock"})


def run_plan(args: argparse.Namespace, write_outputs: Writer) -> int:
    """Solve the budget problem and report the plan."""
    from optimizer.allocator import BudgetAllocator

    request = plan_request(args)
    _check_page(args.html)
    model = _load(args.model)
    model.require_converged(allow=request.allow_unconverged)
    allocator = BudgetAllocator.for_request(model.response_draws(), request)
    prepared = allocator.prepare(request)
    with showing("plan", "steps", quiet=args.quiet or prepared.engine != "conic",
                 eta=False) as progress:
        plan = allocator.plan(prepared, progress=progress)
    payload = plan.to_dict()
    outputs: dict[Path, bytes] = {}
    if args.plot is not None:
        _check_chart(args.plot)
        from optimizer.charts import plan_chart

        outputs[args.plot] = plan_chart(plan, args.plot.suffix.lower().lstrip("."))
    if args.html is not None:
        outputs[args.html] = html_page(args.model, model, "plan", payload, request)
    return _emit(render(payload, args.fmt), args.output, outputs, write_outputs)


def run_forecast(args: argparse.Namespace, write_outputs: Writer) -> int:
    """Forecast an allocation against the current one."""
    from optimizer.forecast import forecast_of

    request = request_of(ForecastRequest, {
        **_allocation(args.allocation), "horizon_weeks": args.horizon_weeks,
        "period": args.period, "allow_unconverged": args.allow_unconverged or None},
        {"allocation": "--allocation", "schedule": "--allocation"})
    _check_page(args.html)
    model = _load(args.model)
    model.require_converged(allow=request.allow_unconverged)
    payload = forecast_of(model.response_draws(), request)
    outputs = {} if args.html is None else \
        {args.html: html_page(args.model, model, "forecast", payload, request)}
    return _emit(render(payload, args.fmt), args.output, outputs, write_outputs)


def amount(text: str) -> float:
    """An amount of an option as people write it (:func:`spendwise.money.parse_amount`:
    ``1.2M``, ``1,200,000``, ``120万``). A plain number (``-5``, ``1e13``) is passed on as
    it is, so that the request judges its range in the words it uses on every front door."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def html_page(path: Path, model: Any, kind: str, payload: dict[str, Any],
              request: PlanRequest | ForecastRequest) -> bytes:
    """The page of ``GET /v1/plans/{id}/html`` for a plan or forecast of the command line:
    the same renderer on the same JSON, the facts naming the model file."""
    from api.html import file_facts, plan_page, plan_title  # the renderer, not the service

    draws = model.response_draws()
    history = {c: float(v) for c, v in zip(draws.channels, draws.max_weekly_spend, strict=True)}
    facts = [("kind", kind), *file_facts(path.name, model), ("version", __version__),
             ("created by", f"spendwise {kind}")]
    return plan_page(payload, kind=kind, title=plan_title(kind, path.name), facts=facts,
                     parameters={"model": path.name, **request.canonical()},
                     history=history).encode("utf-8")


# -- inputs and outputs -------------------------------------------------------------------------


def _load(path: Path) -> Any:
    from optimizer.response_model import ResponseModel

    if not path.is_file():
        raise InputError(f"{path}: no such model file")
    return ResponseModel.load(path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable JSON report ({exc})") from None


def _open_frame(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file (within the shared reading limits) with lower-case, stripped
    column names."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        frame = read_frame(path)
    except ReadError as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _amounts(frame: pd.DataFrame, column: str, path: Path, *, blank: bool = False
             ) -> NDArray[np.float64]:
    """A column of non-negative, finite amounts (blank cells as NaN when ``blank``)."""
    values, empty, bad = parse_numbers(frame[column])
    wrong = bad | (~empty & ~(np.isfinite(values) & (values >= 0)))
    if not blank:
        wrong |= empty
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0]) + 1
        raise InputError(f"{path}: row {row}: {column} must be a non-negative number")
    return values


def _read_frame(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """A file with the required columns; the ones besides channel and week are
    non-negative amounts."""
    frame = _open_frame(path)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column '{missing[0]}'; columns found: "
                         f"{', '.join(frame.columns) or 'none'}")
    for column in (c for c in required if c not in ("channel", "week")):
        frame[column] = _amounts(frame, column, path)
    frame["channel"] = frame["channel"].astype(str).str.strip()
    return frame


def _spend_map(path: Path) -> dict[str, float]:
    """``channel -> weekly spend`` of a ``channel, spend`` file (a later row replaces)."""
    frame = _read_frame(path, ("channel", "spend"))
    return {str(c): float(v) for c, v in zip(frame["channel"], frame["spend"], strict=True)}


def _bounds(path: Path) -> dict[str, dict[str, float | None]]:
    frame = _open_frame(path)
    if "channel" not in frame.columns or not {"min", "max"} & set(frame.columns):
        raise InputError(f"{path}: expected columns channel, min, max")
    sides = {side: _amounts(frame, side, path, blank=True)
             for side in ("min", "max") if side in frame.columns}
    return {str(channel).strip(): {side: None if np.isnan(values[row]) else float(values[row])
                                   for side, values in sides.items()}
            for row, channel in enumerate(frame["channel"])}


def _allocation(path: Path) -> dict[str, Any]:
    """``{"allocation": ...}`` of a ``channel, spend`` file, or ``{"schedule": ...}`` of a
    ``week, channel, spend`` file (weeks in their sorted order)."""
    frame = _read_frame(path, ("channel", "spend"))
    if "week" not in frame.columns:
        return {"allocation": _spend_map(path)}
    schedule: dict[Any, dict[str, float]] = {}
    for record in frame.to_dict("records"):
        week = schedule.setdefault(record["week"], {})
        channel = str(record["channel"])
        week[channel] = week.get(channel, 0.0) + float(record["spend"])
    return {"schedule": tuple(schedule[w] for w in sorted(schedule))}


def _check_page(path: Path | None) -> None:
    if path is not None and path.suffix.lower() not in (".html", ".htm"):
        raise ParameterError(f"{path}: expected an .html file")


def _check_chart(path: Path) -> None:
    if path.suffix.lower() not in (".png", ".svg"):
        raise ParameterError(f"{path}: expected a .png or .svg file")


def _emit(text: str, output: Path | None, outputs: dict[Path, bytes],
          write_outputs: Writer) -> int:
    if output is not None:
        outputs = {output: text.encode("utf-8"), **outputs}
    write_outputs(outputs)
    if output is None:
        sys.stdout.write(text)
    return 0
