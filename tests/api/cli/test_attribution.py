"""Tests of the ``spendwise attribute`` command line."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import main
from tests.conftest import GOLDEN

GOOD = "path,conversions,nulls,value\nsearch > email,10,90,500\nsearch,5,45,250\nfeeds,3,60,120\n"


@pytest.fixture
def good_csv(tmp_path):
    """A valid aggregated paths file."""
    target = tmp_path / "paths.csv"
    target.write_text(GOOD, encoding="utf-8")
    return target


def run(argv, capsys):
    """Run the CLI in process and return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


BAD_FILES = {
    "missing column": ("path,conversions\na,1\n", "missing column 'nulls'"),
    "non-numeric count": ("path,conversions,nulls\na,1,2\nb,x,3\n",
                          "row 2: conversions is not a number ('x')"),
    "negative count": ("path,conversions,nulls\na,1,-2\n", "row 1: nulls is negative"),
    "NaN count": ("path,conversions,nulls\na,NaN,2\n", "row 1: conversions is not a number"),
    "empty path": ("path,conversions,nulls\n,1,2\n", "row 1: path is empty"),
    "empty channel": ("path,conversions,nulls\nsearch >  > email,1,2\n",
                      "row 1: path 'search >  > email' has an empty channel name at position 2"),
    "no conversions": ("path,conversions,nulls\na,0,2\nb,0,5\n", "the input has no conversions"),
    "empty file": ("path,conversions,nulls\n", "the input has no rows"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_gives_one_line_and_no_output(tmp_path, capsys, case):
    """Bad input exits 2 with one error line naming the problem, and writes nothing."""
    content, message = BAD_FILES[case]
    source = tmp_path / "bad.csv"
    source.write_text(content, encoding="utf-8")
    out = tmp_path / "report.json"
    code, stdout, stderr = run(["attribute", source, "-o", out, "--plot", tmp_path / "c.png"],
                               capsys)
    assert code == 2
    assert stderr.startswith("spendwise: error: ")
    assert message in stderr
    assert stderr.count("\n") == 1
    assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "lasttouch"], "argument --model: invalid choice: 'lasttouch'"),
        (["--order", "7"], "--order: must be an integer from 1 to 5 or 'auto', got 7"),
        (["--order", "high"], "--order: must be an integer from 1 to 5 or 'auto', got 'high'"),
        (["--shapley-value", "banzhaf"], "argument --shapley-value: invalid choice"),
        (["--bootstrap", "1"],
         "--bootstrap: must be 0 (no intervals) or from 2 to 1000 replicates"),
        (["--position-weights", "0.7,0.6", "--model", "position_based"], "add up to at most 1"),
        (["--plot", "chart.pdf"], "chart.pdf: expected a .png or .svg file"),
        (["--transitions", "t.csv", "--model", "linear"], "--transitions: needs --model markov"),
    ],
)
def test_bad_options_give_one_line(good_csv, tmp_path, capsys, argv, message):
    """Unknown models, orders out of range and similar option errors exit 2 in one line."""
    out = tmp_path / "report.json"
    code, _, stderr = run(["attribute", good_csv, "-o", out, *argv], capsys)
    assert code == 2
    assert message in stderr
    assert stderr.count("\n") == 1
    assert not out.exists()


def test_argparse_errors_are_one_line(good_csv):
    """Option errors caught by the parser also print one line and exit 2, without usage."""
    completed = subprocess.run(
        [sys.executable, "-m", "api", "attribute", str(good_csv), "--model", "lasttouch"],
        capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1
    assert "invalid choice: 'lasttouch'" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_failed_run_keeps_existing_output(tmp_path, capsys):
    """A failing run leaves a report already at the output path untouched."""
    source = tmp_path / "bad.csv"
    source.write_text("path,conversions,nulls\na,-1,2\n", encoding="utf-8")
    out = tmp_path / "report.json"
    out.write_text("previous", encoding="utf-8")
    code, _, _ = run(["attribute", source, "-o", out], capsys)
    assert code == 2
    assert out.read_text(encoding="utf-8") == "previous"


def test_json_report_shape(good_csv, capsys):
    """The JSON report has the documented fields and one entry per channel."""
    code, stdout, _ = run(["attribute", good_csv, "--model", "markov"], capsys)
    assert code == 0
    report = json.loads(stdout)
    assert report["model"] == "markov"
    assert report["fingerprint"].startswith("sha256:")
    assert report["total_conversions"] == pytest.approx(18)
    assert [c["channel"] for c in report["channels"]] == ["email", "feeds", "search"]
    assert set(report["channels"][0]) == {"channel", "conversions", "value", "share"}
    assert report["params"]["order"] == 1


def test_several_models_with_intervals(good_csv, tmp_path, capsys):
    """Several models give a list, each channel with a bootstrap interval, and a chart."""
    chart = tmp_path / "credit.svg"
    code, stdout, _ = run(["attribute", good_csv, "--model", "markov", "--model", "linear",
                           "--model", "shapley", "--bootstrap", "20", "--seed", "3",
                           "--plot", chart], capsys)
    assert code == 0
    reports = json.loads(stdout)
    assert [r["model"] for r in reports] == ["markov", "linear", "shapley"]
    for report in reports:
        assert report["params"]["bootstrap"] == 20
        for channel in report["channels"]:
            low, high = channel["ci"]["conversions"]
            assert low <= high
    assert chart.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_same_input_gives_byte_identical_output(good_csv, tmp_path, capsys):
    """Two runs with the same input and settings differ only in created_at."""
    outputs = []
    for i in range(2):
        out = tmp_path / f"r{i}.json"
        run(["attribute", good_csv, "--model", "markov", "--model", "shapley", "--shapley-value",
             "conversion_rate", "--bootstrap", "10", "-o", out], capsys)
        lines = out.read_text(encoding="utf-8").splitlines()
        outputs.append([line for line in lines if '"created_at"' not in line])
    assert outputs[0] == outputs[1]


def test_csv_and_table_formats(good_csv, capsys):
    """CSV has one row per model and channel; the table is readable text."""
    code, stdout, _ = run(["attribute", good_csv, "--model", "linear", "--format", "csv"], capsys)
    assert code == 0
    assert stdout.splitlines()[0] == "model,channel,conversions,value,share"
    assert len(stdout.splitlines()) == 4
    code, stdout, _ = run(["attribute", good_csv, "--format", "table"], capsys)
    assert stdout.startswith("markov: 18.0 conversions, value 870.00\n")


def test_credit_and_transition_exports(good_csv, tmp_path, capsys):
    """Per-journey credit and the Markov transition matrix are written as CSV."""
    credit, transitions = tmp_path / "credit.csv", tmp_path / "transitions.csv"
    code, _, _ = run(["attribute", good_csv, "--credit", credit, "--transitions", transitions,
                      "-o", tmp_path / "r.json"], capsys)
    assert code == 0
    assert credit.read_text(encoding="utf-8").startswith("model,journey,channel,conversions")
    assert "(start),search" in transitions.read_text(encoding="utf-8")


def test_formula_cells_are_neutralised(tmp_path, capsys):
    """A channel name a spreadsheet would run as a formula is quoted in CSV output."""
    source = tmp_path / "p.csv"
    source.write_text("path,conversions,nulls\n=HYPERLINK(1),2,3\n", encoding="utf-8")
    code, stdout, _ = run(["attribute", source, "--model", "linear", "--format", "csv"], capsys)
    assert code == 0
    assert ",'=HYPERLINK(1)," in stdout


def test_tiny_support_is_a_warning(tmp_path, capsys):
    """A channel seen in fewer than 30 journeys gets a warning line; the run succeeds."""
    source = tmp_path / "p.csv"
    source.write_text("path,conversions,nulls\nsearch,40,400\nsms > search,1,5\n",
                      encoding="utf-8")
    code, stdout, stderr = run(["attribute", source], capsys)
    assert code == 0
    assert stderr == ("spendwise: warning: channel 'sms' appears in only 6 journeys "
                      "(fewer than 30); its credit is uncertain\n")
    assert json.loads(stdout)["warnings"] == [stderr.removeprefix("spendwise: warning: ").strip()]


def test_channelattribution_names_and_golden_file(capsys):
    """The golden Markov file runs end to end from the command line."""
    code, stdout, _ = run(["attribute", GOLDEN / "markov_3path.csv"], capsys)
    assert code == 0
    assert json.loads(stdout)["details"]["removal_effects"]["C"] == pytest.approx(0.25)


def test_console_script_is_installed():
    """The spendwise console script is installed beside the interpreter and runs."""
    script = shutil.which("spendwise", path=str(Path(sys.executable).parent))
    assert script is not None
    completed = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0
    assert completed.stdout.startswith("spendwise ")


def test_outputs_follow_the_umask(good_csv, tmp_path, capsys):
    """Written reports get the usual permissions, not the 0600 of a temporary file."""
    out = tmp_path / "report.json"
    previous = os.umask(0o022)
    try:
        code, _, _ = run(["attribute", good_csv, "-o", out], capsys)
    finally:
        os.umask(previous)
    assert code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


# -- --html ----------------------------------------------------------------------------------------


def test_html_page_shows_the_report_of_the_json(good_csv, tmp_path, capsys):
    """--html writes one self-contained page whose tables hold the numbers of the JSON report."""
    from tests.api.test_pages import Tables

    page, report = tmp_path / "report.html", tmp_path / "report.json"
    code, _, _ = run(["attribute", good_csv, "--model", "markov", "--model", "linear",
                      "--bootstrap", "10", "--quiet", "-o", report, "--html", page], capsys)
    assert code == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 1
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert "<title>Attribution report paths.csv</title>" in text
    models = json.loads(report.read_text(encoding="utf-8"))
    tables = Tables(text)
    for index, model in enumerate(models, start=1):
        rows = tables.rows(f"credit-{index}")
        for channel in model["channels"]:
            assert rows[channel["channel"]][0] == f"{channel['conversions']:,.1f}"
            assert rows[channel["channel"]][2] == f"{100 * channel['share']:,.1f}%"
    comparison = tables.rows("comparison")
    for position, channel in enumerate(models[0]["channels"]):
        assert comparison[channel["channel"]] == [
            f"{100 * m['channels'][position]['share']:,.1f}%" for m in models]
    facts = tables.rows("facts")
    assert facts["input"] == ["paths.csv"] and facts["paths fingerprint"] == [
        models[0]["fingerprint"]]
    assert facts["created at"] == [models[0]["created_at"]]


def test_html_page_is_the_service_renderer(good_csv, tmp_path, capsys):
    """The page is api.html.report_page on the models' JSON, as GET /v1/reports/{id}/html."""
    from api import html
    from attribution.requests import AttributionRequest

    page, report = tmp_path / "report.html", tmp_path / "report.json"
    run(["attribute", good_csv, "--model", "linear", "-o", report, "--html", page], capsys)
    model = json.loads(report.read_text(encoding="utf-8"))
    facts = [("input", "paths.csv"), ("paths fingerprint", model["fingerprint"]),
             ("version", model["spendwise_version"]), ("created at", model["created_at"]),
             ("created by", "spendwise attribute")]
    parameters = {"paths": "paths.csv",
                  **AttributionRequest.build(models=["linear"]).canonical()}
    rendered = html.report_page(model, title="Attribution report paths.csv", facts=facts,
                                parameters=parameters)
    assert page.read_text(encoding="utf-8") == rendered


def test_html_needs_an_html_file(good_csv, tmp_path, capsys):
    """--html with another suffix is a one-line error and writes nothing."""
    code, _, stderr = run(["attribute", good_csv, "--html", tmp_path / "page.pdf"], capsys)
    assert code == 2 and "page.pdf: expected a .html or .htm file" in stderr
    assert list(tmp_path.iterdir()) == [good_csv]


IMPORTED = ("import sys\nfrom api.cli import main\n"
            "code = main(sys.argv[1:])\n"
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'apiflask', 'werkzeug', 'sqlalchemy') or m in "
            "('api.app', 'api.reports', 'api.database', 'api.routes'))))\n")


def imported_by_html(good_csv, tmp_path):
    """The service modules loaded by ``spendwise attribute ... --html`` in a fresh process."""
    completed = subprocess.run(
        [sys.executable, "-c", IMPORTED, "attribute", str(good_csv), "--model", "linear",
         "--html", str(tmp_path / "page.html"), "-o", str(tmp_path / "r.json")],
        capture_output=True, text=True, check=True)
    assert (tmp_path / "page.html").exists()
    return set(completed.stdout.split())


def test_html_does_not_load_the_web_service(good_csv, tmp_path):
    """Writing the page loads neither Flask nor the service's application, routes or reports."""
    loaded = imported_by_html(good_csv, tmp_path)
    assert not {m for m in loaded if m.split(".")[0] in ("flask", "apiflask", "werkzeug")}
    assert not loaded & {"api.app", "api.reports", "api.database", "api.routes"}


def test_html_does_not_load_sqlalchemy(good_csv, tmp_path):
    """Writing the page does not load SQLAlchemy."""
    loaded = imported_by_html(good_csv, tmp_path)
    assert not {m for m in loaded if m.split(".")[0] == "sqlalchemy"}
