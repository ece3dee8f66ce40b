"""``manage.py metrics``: the JSON it prints and how it refuses bad files."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics.engine.metrics import METRICS

REPO = Path(__file__).resolve().parents[2]

GOOD_CSV = """date,growth_fund,income_fund,index
2024-01-02,0.010,0.002,0.005
2024-01-03,-0.020,0.001,-0.010
2024-01-04,0.015,-0.001,0.010
2024-01-05,0.003,0.002,0.002
2024-01-08,-0.004,0.000,-0.001
2024-01-09,0.006,0.001,0.004
"""

EXPECTED_KEYS = {
    "n_obs",
    "cumulative_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "downside_deviation",
    "calmar",
    "omega",
    "max_drawdown",
    "max_drawdown_duration",
    "skew",
    "kurtosis",
    "tail_ratio",
    "var_historical",
    "cvar_historical",
    "var_normal",
    "cvar_normal",
    "var_cornish_fisher",
    "beta",
    "alpha",
    "correlation",
    "tracking_error",
    "information_ratio",
    "up_capture",
    "down_capture",
}


def run_metrics(path: Path, *args: str) -> dict:
    out = StringIO()
    call_command("metrics", str(path), *args, stdout=out)
    return json.loads(out.getvalue())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "returns.csv"
    path.write_text(text)
    return path


def test_prints_exactly_the_documented_keys_for_every_portfolio(tmp_path):
    result = run_metrics(write(tmp_path, GOOD_CSV), "--benchmark", "index")
    assert set(result) == {"portfolios"}
    assert set(result["portfolios"]) == {"growth_fund", "income_fund"}
    for metrics in result["portfolios"].values():
        assert set(metrics) == EXPECTED_KEYS
    assert set(METRICS) == EXPECTED_KEYS


def test_values_are_plain_numbers_and_a_cumulative_return_checks_by_hand(tmp_path):
    result = run_metrics(write(tmp_path, GOOD_CSV), "--benchmark", "index", "--risk-free", "0.03")
    income = result["portfolios"]["income_fund"]
    assert income["n_obs"] == 6
    # 1.002 × 1.001 × 0.999 × 1.002 × 1.000 × 1.001 − 1.
    assert income["cumulative_return"] == pytest.approx(
        1.002 * 1.001 * 0.999 * 1.002 * 1.000 * 1.001 - 1, abs=1e-15
    )
    # Peak on the 3rd, −0.1 % on the 4th, back above it on the 5th: 2 periods.
    assert income["max_drawdown_duration"] == 2
    assert isinstance(income["max_drawdown_duration"], int)


def test_undefined_metrics_are_null(tmp_path):
    # Never below a peak: the Calmar ratio is undefined.
    csv = "date,steady,index\n2024-01-02,0.001,0.01\n2024-01-03,0.002,-0.01\n2024-01-04,0.001,0.0\n"
    steady = run_metrics(write(tmp_path, csv), "--benchmark", "index")["portfolios"]["steady"]
    assert steady["calmar"] is None
    assert steady["max_drawdown"] == 0.0


def test_a_later_inception_is_computed_on_its_own_returns(tmp_path):
    csv = GOOD_CSV.replace("2024-01-02,0.010,0.002", "2024-01-02,,0.002")
    result = run_metrics(write(tmp_path, csv), "--benchmark", "index")
    assert result["portfolios"]["growth_fund"]["n_obs"] == 5
    assert result["portfolios"]["income_fund"]["n_obs"] == 6


@pytest.mark.parametrize(
    ("csv", "args", "message"),
    [
        (GOOD_CSV, ["--benchmark", "spx"], "no column 'spx' for --benchmark"),
        (
            GOOD_CSV.replace("-0.020,0.001", "-0.020,n/a"),
            ["--benchmark", "index"],
            "line 3, column 'income_fund': 'n/a' is not a number",
        ),
        (
            "date,fund,index\n2024-01-02,0.01,0.01\n",
            ["--benchmark", "index"],
            "need at least 2 dates",
        ),
        (
            "date,fund,index\n2024-01-02,101.5,0.01\n2024-01-03,102.0,0.02\n2024-01-04,101.1,0.0\n",
            ["--benchmark", "index"],
            "column 'fund': values look like price levels",
        ),
        (
            GOOD_CSV.replace("0.015,-0.001", "0.015,"),
            ["--benchmark", "index"],
            "column 'income_fund', row 2024-01-04: missing return after the first one",
        ),
        (
            GOOD_CSV.replace("2024-01-05", "yesterday"),
            ["--benchmark", "index"],
            "line 5, column 'date': 'yesterday' is not a date",
        ),
        (
            GOOD_CSV.replace("2024-01-05", "2024-01-03"),
            ["--benchmark", "index"],
            "line 5: dates must be strictly increasing",
        ),
        (GOOD_CSV, ["--benchmark", "index", "--confidence", "95"], "--confidence must be"),
        (
            GOOD_CSV.replace("income_fund", "growth_fund"),
            ["--benchmark", "index"],
            "repeated column name(s) 'growth_fund'",
        ),
        (
            GOOD_CSV.replace("0.015,-0.001", "0.015,inf"),
            ["--benchmark", "index"],
            "column 'income_fund', row 2024-01-04: not a finite number",
        ),
        (
            "date,index\n2024-01-02,0.01\n2024-01-03,0.02\n",
            ["--benchmark", "index"],
            "no portfolio",
        ),
    ],
)
def test_bad_input_is_refused_with_the_file_and_the_problem(tmp_path, csv, args, message):
    path = write(tmp_path, csv)
    with pytest.raises(CommandError) as refused:
        call_command("metrics", str(path), *args, stdout=StringIO())
    assert str(refused.value).startswith(str(path)) or message.startswith("--")
    assert message in str(refused.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("metrics", str(tmp_path / "absent.csv"), "--benchmark", "index")


def test_bad_input_exits_non_zero_from_the_shell(tmp_path):
    path = write(tmp_path, GOOD_CSV)
    completed = subprocess.run(
        [sys.executable, "manage.py", "metrics", str(path), "--benchmark", "spx"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode != 0
    assert "no column 'spx' for --benchmark" in completed.stderr
    assert completed.stdout == ""
