"""The command line and the HTTP API build the same requests: a bad one gets the same sentence.

Each case is one mistake made through both doors: options for ``spendwise``
and a JSON body for the API. The command line prints ``spendwise: error:
<option>: <sentence>``; the API answers a 422 problem whose ``errors`` hold
``<field>: <sentence>``. The sentence, what is wrong, must be the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.cli import main as spendwise
from tests.conftest import ROOT

PATHS = ROOT / "fixtures" / "sample_paths.csv"

#: (command-line options, HTTP body change, sentence both must give).
ATTRIBUTION: list[tuple[list[str], dict[str, Any], str]] = [
    (["--order", "7"], {"settings": {"order": 7}},
     "must be an integer from 1 to 5 or 'auto', got 7"),
    (["--order", "best"], {"settings": {"order": "best"}},
     "must be an integer from 1 to 5 or 'auto', got 'best'"),
    (["--bootstrap", "1"], {"settings": {"bootstrap": 1}},
     "must be 0 (no intervals) or from 2 to 1000 replicates, got 1"),
    (["--bootstrap", "5000"], {"settings": {"bootstrap": 5000}},
     "Input should be less than or equal to 1000"),
    (["--position-weights", "0.7,0.6"], {"settings": {"position_weights": [0.7, 0.6]}},
     "first and last must add up to at most 1"),
    (["--ci-level", "1.5"], {"settings": {"ci_level": 1.5}}, "Input should be less than 1"),
    (["--seed", "-1"], {"settings": {"seed": -1}},
     "Input should be greater than or equal to 0"),
    (["--half-life-days", "0"], {"settings": {"half_life_days": 0}},
     "Input should be greater than or equal to 0.001"),
    (["--min-support", "-2"], {"settings": {"min_support": -2}},
     "Input should be greater than or equal to 0"),
    (["--model", "linear", "--model", "linear"], {"models": ["linear", "linear"]},
     "each model at most once; repeated: linear"),
]

#: (command-line options, HTTP body change, sentence both must give).
PLANS: list[tuple[list[str], dict[str, Any], str]] = [
    (["--budget", "-5"], {"budget": -5}, "Input should be greater than 0"),
    (["--budget", "1e13"], {"budget": 1e13},
     "Input should be less than or equal to 1000000000000"),
    (["--budget", "1000", "--alpha", "0"], {"alpha": 0}, "Input should be greater than 0"),
    (["--budget", "1000", "--horizon-weeks", "0"], {"horizon_weeks": 0},
     "Input should be greater than or equal to 1"),
    (["--budget", "1000", "--horizon-weeks", "500"], {"horizon_weeks": 500},
     "Input should be less than or equal to 104"),
    (["--budget", "1000", "--max-spend-multiple", "0"], {"max_spend_multiple": 0},
     "Input should be greater than 0"),
    (["--budget", "1000", "--romi-floor", "-3"], {"romi_floor": -3},
     "Input should be greater than -1"),
    (["--budget", "1000", "--max-change", "-0.5"], {"max_change": -0.5},
     "Input should be greater than or equal to 0"),
    (["--budget", "1000", "--lock", "tab\there"], {"locked": ["tab\there"]},
     "must not contain control characters (found U+0009)"),
    ([], {"budget": None}, "required for the conversions objective"),
    (["--budget", "1000", "--target", "5"], {"target": 5},
     "required by min_spend and only used by it"),
    (["--budget", "1000", "--objective", "profit", "--budget-mode", "equal"],
     {"objective": "profit", "budget_mode": "equal"}, "the budget of profit is a cap"),
]


def cli_sentence(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line error of ``spendwise argv``, without the prefix."""
    assert spendwise([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spendwise: error: ") and err.count("\n") == 1, err
    return err.removeprefix("spendwise: error: ").strip()


def http_sentences(response: Any) -> list[str]:
    """The messages of a 422 problem's field errors."""
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    return [e["msg"] for e in response.json["errors"]] + [response.json["detail"]]


@pytest.mark.parametrize(("argv", "body", "sentence"), ATTRIBUTION,
                         ids=[" ".join(c[0]) for c in ATTRIBUTION])
def test_attribution_requests_fail_alike(client, acme, capsys, tmp_path: Path, argv, body,
                                         sentence):
    """A bad attribution request gives the same sentence on the command line and over HTTP."""
    printed = cli_sentence(["attribute", PATHS, "-o", tmp_path / "r.json", *argv], capsys)
    assert printed.endswith(sentence) or f": {sentence}" in printed, printed
    response = client.post("/v1/reports", json={"dataset": "ds_any", **body},
                           headers=acme["owner"])
    assert any(sentence in message for message in http_sentences(response))
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(("argv", "body", "sentence"), PLANS,
                         ids=[" ".join(c[0]) or "no budget" for c in PLANS])
def test_plan_requests_fail_alike(client, acme, capsys, tmp_path: Path, argv, body,
                                  sentence):
    """A bad plan request gives the same sentence on the command line and over HTTP, before
    any model is read."""
    printed = cli_sentence(["plan", tmp_path / "absent.nc", *argv], capsys)
    assert sentence in printed, printed
    if argv and printed.startswith("--"):  # the option the user typed is named
        assert printed.split(":")[0] in argv, printed
    response = client.post("/v1/plans", json={"model": "rm_any", "budget": 1000.0, **body},
                           headers=acme["owner"])
    assert any(sentence in message for message in http_sentences(response))
