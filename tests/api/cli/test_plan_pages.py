"""``spendwise plan`` and ``forecast``: amounts as people write them, periods, ``--html``.

The model files are the hand-made posteriors of :mod:`tests.api.cli.test_optimizer`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.html import file_facts, plan_page, plan_title
from optimizer.requests import PlanRequest
from optimizer.response_model import ResponseModel
from spendwise import __version__
from tests.api.cli.test_optimizer import model_files, run  # noqa: F401 (a fixture)
from tests.conftest import ROOT

MONTH = 52 / 12


def test_a_months_budget_written_as_people_write_it(model_files, tmp_path, capsys):  # noqa: F811
    """``--budget 700k --period month`` plans 700,000 over 52/12 weeks, as ``700,000`` does."""
    out, again = tmp_path / "plan.json", tmp_path / "again.json"
    code, _, err = run(["plan", model_files["good"], "--budget", "700k", "--period", "month",
                        "-o", out], capsys)
    assert code == 0, err
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["budget"]["amount"] == 700_000.0 and plan["budget"]["period"] == "month"
    assert plan["horizon_weeks"] == pytest.approx(MONTH)
    assert sum(c["spend"] for c in plan["channels"]) == pytest.approx(700_000.0, rel=1e-9)
    assert sum(c["weekly_spend"] for c in plan["channels"]) == pytest.approx(700_000 / MONTH)
    code, _, err = run(["plan", model_files["good"], "--budget", "700,000", "--period",
                        "month", "-o", again], capsys)
    assert code == 0, err
    assert json.loads(again.read_text(encoding="utf-8"))["channels"] == plan["channels"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--budget", "1,20,000"], "argument --budget: '1,20,000': the thousands separator must "
                               "group three digits"),
    (["--budget", "-5"], "--budget: Input should be greater than 0"),
    (["--budget=-1.2M"], "argument --budget: '-1.2M': an amount cannot be negative"),
    (["--target", "5 apples", "--objective", "min_spend"],
     "argument --target: '5 apples': 'apples' is not a currency or a unit"),
    (["--budget", "1.2MK"], "argument --budget: '1.2MK': give one unit"),
    (["--budget", "1M", "--period", "month", "--per-week"], "--period: a per-week plan counts "
                                                            "whole weeks"),
    (["--budget", "1M", "--html", "plan.pdf"], "plan.pdf: expected an .html file"),
])
def test_bad_amounts_and_periods_name_the_option(model_files, tmp_path, capsys, argv,  # noqa: F811
                                                 message):
    """A budget that is not an amount, or a per-week month, is one line naming the option."""
    code, out, err = run(["plan", model_files["good"], *argv], capsys)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_plan_html_is_the_services_page(model_files, tmp_path, capsys):  # noqa: F811
    """``--html`` writes the page of ``GET /v1/plans/{id}/html`` for the plan it prints:
    the same renderer on the same JSON, with the model file's facts."""
    out, page = tmp_path / "plan.json", tmp_path / "plan.html"
    code, _, err = run(["plan", model_files["good"], "--budget", "700k", "--period", "month",
                        "--max-change", "0.3", "-o", out, "--html", page], capsys)
    assert code == 0, err
    payload = json.loads(out.read_text(encoding="utf-8"))
    model = ResponseModel.load(model_files["good"])
    draws = model.response_draws()
    history = dict(zip(draws.channels, draws.max_weekly_spend.tolist(), strict=True))
    request = PlanRequest.build(budget=700_000.0, period="month", max_change=0.3)
    facts = [("kind", "plan"), *file_facts("good.nc", model), ("version", __version__),
             ("created by", "spendwise plan")]
    text = page.read_text(encoding="utf-8")
    assert text == plan_page(payload, kind="plan", title=plan_title("plan", "good.nc"),
                             facts=facts, history=history,
                             parameters={"model": "good.nc", **request.canonical()})
    assert "a month&#39;s budget" in text and "spend over a month (4.33 weeks)" in text
    assert "<script" not in text and 'id="narrative"' in text


def test_forecast_of_a_quarter_with_its_page(model_files, tmp_path, capsys):  # noqa: F811
    """``forecast --period quarter --html`` forecasts 13 weeks and writes its page."""
    allocation, out, page = tmp_path / "a.csv", tmp_path / "f.json", tmp_path / "f.html"
    allocation.write_text("channel,spend\nsearch,60000\nfeeds,20000\n", encoding="utf-8")
    code, _, err = run(["forecast", model_files["good"], "--allocation", allocation,
                        "--period", "quarter", "-o", out, "--html", page], capsys)
    assert code == 0, err
    body = json.loads(out.read_text(encoding="utf-8"))["forecast"]
    assert body["period"] == "quarter" and body["horizon_weeks"] == 13
    assert body["total"]["spend"] == pytest.approx(13 * 80_000)
    assert "ROMI forecast good.nc" in page.read_text(encoding="utf-8")


def test_the_page_commands_import_no_web_stack(model_files, tmp_path):  # noqa: F811
    """``plan --html`` runs without Flask or the service's application and tables modules,
    and the page renderer imports no SQLAlchemy."""
    page = tmp_path / "p.html"
    code = (
        "import sys\n"
        "from api.cli import main\n"
        f"assert main(['plan', {str(model_files['good'])!r}, '--budget', '700k', "
        f"'--period', 'month', '--html', {str(page)!r}, '-o', {str(tmp_path / 'p.json')!r}]) "
        "== 0\n"
        "loaded = [m for m in ('flask', 'apiflask', 'werkzeug', 'api.app', 'api.routes',"
        " 'api.web', 'api.plans', 'api.fits') if m in sys.modules]\n"
        "sys.exit(', '.join(loaded) or None)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert Path(page).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    renderer = ("import sys, json\n"
                "from api.html import plan_page\n"
                f"payload = json.load(open({str(tmp_path / 'p.json')!r}))\n"
                "plan_page(payload, kind='plan', title='t', facts=[], parameters={})\n"
                "sys.exit(', '.join(m for m in ('sqlalchemy', 'flask') if m in sys.modules)"
                " or None)\n")
    done = subprocess.run([sys.executable, "-c", renderer], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
