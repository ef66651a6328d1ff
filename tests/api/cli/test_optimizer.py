"""Tests of the ``spendwise fit``, ``curves``, ``plan`` and ``forecast`` commands.

The model files are built from hand-made posteriors; nothing here samples.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

from api.cli import main
from optimizer.data import MediaData
from optimizer.response_model import ResponseModel
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures"
SPEND, OUTCOMES = FIXTURES / "media_spend.csv", FIXTURES / "media_outcomes.csv"


def hand_posterior(n_channels: int, *, divergences: int = 0, seed: int = 0) -> az.InferenceData:
    """A well-mixed posterior in the model's scaled units (4 chains x 250 draws)."""
    rng = np.random.default_rng(seed)
    size = (4, 250)
    post = {
        "intercept": rng.normal(0.6, 0.02, size),
        "trend": rng.normal(0.05, 0.01, size),
        "season": rng.normal(0.0, 0.02, (*size, 4)),
        "beta": rng.uniform(0.05, 0.12, (*size, n_channels)),
        "lam": rng.uniform(0.5, 2.0, (*size, n_channels)),
        "alpha": rng.uniform(0.1, 0.5, (*size, n_channels)),
        "sigma": rng.uniform(0.02, 0.04, size),
    }
    diverging = np.zeros(size, dtype=bool)
    diverging.flat[:divergences] = True
    return az.from_dict(posterior=post, sample_stats={"diverging": diverging})


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, Path]:
    """A converged and a not-converged model of the media fixture, saved to files."""
    folder = tmp_path_factory.mktemp("models")
    data = MediaData.from_files(SPEND, OUTCOMES)
    files = {}
    for name, divergences in (("good", 0), ("diverged", 3)):
        model = ResponseModel.from_posterior(
            data, hand_posterior(data.n_channels, divergences=divergences),
            value_per_conversion=90.0)
        files[name] = folder / f"{name}.nc"
        model.save(files[name])
    return files


def run(argv, capsys):
    """Run the CLI in process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_spends_the_budget_within_limits(model_files, tmp_path, capsys):
    """A plan spends exactly the horizon budget and keeps each channel under its cap."""
    out = tmp_path / "plan.json"
    code, _, err = run(["plan", model_files["good"], "--budget", 600_000, "-o", out], capsys)
    assert code == 0, err
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["status"] == "optimal"
    assert plan["certificate"]["certified"] is True
    assert sum(c["spend"] for c in plan["channels"]) == pytest.approx(600_000, rel=1e-6)
    for channel in plan["channels"]:
        assert channel["weekly_spend"] <= channel["max_weekly"] * (1 + 1e-9)
        assert set(channel["kpi"]) >= {"mean", "p05", "p50", "p95"}
    assert 0.0 <= plan["prob_beats_current"] <= 1.0


def test_plan_table_chart_and_constraints(model_files, tmp_path, capsys):
    """Bounds, locks and a chart go through; the table ends with the certificate line."""
    bounds = tmp_path / "bounds.csv"
    bounds.write_text("channel,min,max\nsearch,50000,80000\nemail,,2000\n", encoding="utf-8")
    chart = tmp_path / "plan.svg"
    code, out, err = run(["plan", model_files["good"], "--budget", 600_000, "--bounds", bounds,
                          "--lock", "sms", "--format", "table", "--plot", chart], capsys)
    assert code == 0, err
    assert "shadow price of the budget" in out
    assert chart.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    search = next(line for line in out.splitlines() if line.strip().startswith("search"))
    assert 200_000 <= float(search.split()[1].replace(",", "")) <= 320_000


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ("channel,min,max\nsearch,120000,\nfeeds,40000,\n", "above the budget"),
        ("channel,min,max\nsearch,5000,1000\n", "channel search: minimum 5,000"),
        ("channel,min,max\ntiktok,0,10\n", "unknown channel 'tiktok'"),
        ("channel,min,max\nsearch,-5,10\n", "row 1: min must be a non-negative number"),
    ],
)
def test_infeasible_or_bad_bounds_are_one_line(model_files, tmp_path, capsys, bounds, message):
    """Conflicting or malformed bounds exit 2 with one line naming the problem."""
    path = tmp_path / "bounds.csv"
    path.write_text(bounds, encoding="utf-8")
    out = tmp_path / "plan.json"
    code, _, err = run(["plan", model_files["good"], "--budget", 600_000, "--bounds", path,
                        "-o", out], capsys)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_unconverged_model_is_refused_unless_allowed(model_files, tmp_path, capsys):
    """A model with divergences cannot plan unless the caller allows it explicitly."""
    code, _, err = run(["plan", model_files["diverged"], "--budget", 600_000], capsys)
    assert code == 2
    assert "did not converge" in err
    code, out, _ = run(["plan", model_files["diverged"], "--budget", 600_000,
                        "--allow-unconverged"], capsys)
    assert code == 0
    assert json.loads(out)["status"] == "optimal"


def test_objectives_from_the_command_line(model_files, capsys):
    """Profit caps the budget; min_spend reaches the target; CVaR plans too."""
    code, out, _ = run(["plan", model_files["good"], "--budget", 10_000_000, "--objective",
                        "profit"], capsys)
    assert code == 0
    assert json.loads(out)["total"]["spend"] <= 10_000_000 * (1 + 1e-9)
    code, out, _ = run(["plan", model_files["good"], "--objective", "min_spend", "--target",
                        2000], capsys)
    assert code == 0
    assert json.loads(out)["total"]["kpi"]["mean"] == pytest.approx(2000, rel=1e-5)
    code, out, _ = run(["plan", model_files["good"], "--budget", 600_000, "--objective", "cvar",
                        "--alpha", "0.2"], capsys)
    assert code == 0


def test_curves_as_csv_and_chart(model_files, tmp_path, capsys):
    """Curves come as CSV rows per channel and spend, with a PNG chart."""
    chart = tmp_path / "curves.png"
    code, out, _ = run(["curves", model_files["good"], "--format", "csv", "--plot", chart],
                       capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("channel,spend")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_forecast_steady_and_week_by_week(model_files, tmp_path, capsys):
    """A weekly allocation and a week-by-week schedule both forecast against current."""
    steady = tmp_path / "steady.csv"
    steady.write_text("channel,spend\nsearch,30000\nfeeds,20000\n", encoding="utf-8")
    code, out, _ = run(["forecast", model_files["good"], "--allocation", steady], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["forecast"]["total"]["spend"] == pytest.approx(4 * 50_000)
    assert set(report["against_current"]["prob_proposed_beats_current"]) == {
        "kpi", "revenue", "profit"}
    weekly = tmp_path / "weekly.csv"
    weekly.write_text("week,channel,spend\n1,search,30000\n2,search,10000\n", encoding="utf-8")
    code, out, _ = run(["forecast", model_files["good"], "--allocation", weekly, "--format",
                        "table"], capsys)
    assert code == 0
    assert "total spend 40,000" in out


def test_forecast_unknown_channel(model_files, tmp_path, capsys):
    """An allocation naming a channel the model does not know exits 2 in one line."""
    path = tmp_path / "a.csv"
    path.write_text("channel,spend\nradio,100\n", encoding="utf-8")
    code, _, err = run(["forecast", model_files["good"], "--allocation", path], capsys)
    assert code == 2
    assert "unknown channel 'radio'" in err


@pytest.mark.parametrize(
    ("spend", "outcomes", "message"),
    [
        ("date,channel\n2024-01-01,search\n", None, "missing column 'spend'"),
        ("date,channel,spend\n2024-01-01,search,-3\n", None, "spend is negative"),
        (None, "date,conversions\n2024-01-01,5\n", "dates"),
    ],
)
def test_fit_rejects_bad_input_before_sampling(tmp_path, capsys, spend, outcomes, message):
    """Bad spend or outcome files stop fit with one line, before any sampling."""
    spend_path, outcome_path = tmp_path / "spend.csv", tmp_path / "outcomes.csv"
    spend_path.write_text(spend or SPEND.read_text(encoding="utf-8"), encoding="utf-8")
    outcome_path.write_text(outcomes or OUTCOMES.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "model.nc"
    code, _, err = run(["fit", "--spend", spend_path, "--outcomes", outcome_path, "-o", out,
                        "--quiet"], capsys)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_curves_html_writes_the_self_contained_model_page(model_files, tmp_path, capsys):
    """--html writes the service's model page: one inline chart, no script, the checks,
    the contributions and the current spend of the last four weeks."""
    page, curves = tmp_path / "model.html", tmp_path / "curves.json"
    code, out, err = run(["curves", model_files["good"], "--html", page, "-o", curves], capsys)
    assert code == 0, err
    assert out == "" and json.loads(curves.read_text(encoding="utf-8"))["channels"]
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 1
    assert "<script" not in text.lower() and "https://" not in text
    assert "<title>Response model good.nc</title>" in text
    spend = pd.read_csv(SPEND).pivot_table(index="date", columns="channel", values="spend",
                                           fill_value=0.0)  # a missing row spends nothing
    for channel, value in spend.tail(4).mean().items():
        assert re.search(rf'<th scope="row">{channel}</th><td class="n">{value:,.0f}</td>', text)
    assert '<table id="contributions">' in text and 'data-check="r_hat"' in text
    # the file keeps no lift test, so every channel is named as untested
    assert f"No lift test for: {', '.join(spend.columns)}." in text


def test_curves_html_refuses_another_suffix(model_files, tmp_path, capsys):
    """--html needs an .html file; nothing is written otherwise."""
    target = tmp_path / "model.txt"
    code, _, err = run(["curves", model_files["good"], "--html", target, "-o",
                        tmp_path / "c.json"], capsys)
    assert code == 2 and "expected an .html file" in err
    assert not target.exists() and not (tmp_path / "c.json").exists()


def test_curves_html_loads_no_web_framework(model_files, tmp_path):
    """Writing the page imports neither Flask nor SQLAlchemy (checked in a fresh process)."""
    page = tmp_path / "model.html"
    script = (
        "import json, sys\n"
        "from api.cli import main\n"
        f"status = main(['curves', {str(model_files['good'])!r}, '--html', {str(page)!r}, "
        f"'-o', {str(tmp_path / 'c.json')!r}])\n"
        "roots = ('flask', 'apiflask', 'werkzeug', 'sqlalchemy', 'alembic')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in roots)\n"
        "print(json.dumps({'status': status, 'loaded': loaded}))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"status": 0, "loaded": []}
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
