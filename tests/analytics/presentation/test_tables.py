"""Display tables arrange stored snapshot sections; they never compute a metric."""

from analytics.presentation import tables


def test_var_rows_run_by_confidence_then_horizon_then_method():
    rows = [
        {"method": "normal", "confidence": 0.99, "horizon": 1},
        {"method": "historical", "confidence": 0.95, "horizon": 10},
        {"method": "monte_carlo", "confidence": 0.95, "horizon": 1},
        {"method": "historical", "confidence": 0.95, "horizon": 1},
    ]
    ordered = tables.var_rows(rows)
    assert [(r["confidence"], r["horizon"], r["method_label"]) for r in ordered] == [
        (0.95, 1, "Historical"),
        (0.95, 1, "Monte Carlo"),
        (0.95, 10, "Historical"),
        (0.99, 1, "Normal"),
    ]


def test_period_table_marks_a_column_whose_since_inception_basis_differs():
    section = {
        "portfolio": {"day": 0.01, "since_inception_annualised": True},
        "benchmark": {"day": 0.02, "since_inception_annualised": False},
        "active_arithmetic": {"day": -0.01},
    }
    columns, rows = tables.period_table(section)
    assert [c["key"] for c in columns] == ["portfolio", "benchmark", "active_arithmetic"]
    assert [c["basis_differs"] for c in columns] == [False, True, False]
    day = rows[0]
    assert day["key"] == "day"
    assert [cell["value"] for cell in day["cells"]] == [0.01, 0.02, -0.01]
    assert rows[-1]["short_label"] == "SI"


def test_calendar_rows_put_the_newest_year_first_with_the_year_return_apart():
    months = [0.01] * 12
    rows = tables.calendar_rows({"2023": [*months, 0.1268], "2024": [*months, 0.05]})
    assert [r["year"] for r in rows] == ["2024", "2023"]
    assert rows[1]["months"] == months
    assert rows[1]["year_return"] == 0.1268


def test_metric_groups_name_the_confidence_and_keep_missing_values_missing():
    section = {"definitions": {"sharpe": "excess return over volatility"}}
    window = {"portfolio": {"sharpe": 1.5}, "benchmark": None}
    groups = tables.metric_groups(section, window, confidence=0.95)
    tail = next(g for g in groups if g["label"].startswith("Distribution"))
    assert tail["label"] == "Distribution and tail (1 day, 95%)"
    sharpe = next(r for g in groups for r in g["rows"] if r["key"] == "sharpe")
    assert sharpe == {
        "key": "sharpe",
        "label": "Sharpe ratio",
        "kind": "ratio",
        "definition": "excess return over volatility",
        "portfolio": 1.5,
        "benchmark": None,
    }


def test_exposure_rows_sort_by_gross_and_label_cash_as_none():
    rows = [{"sector": "", "gross": 0.05}, {"sector": "Energy", "gross": 0.4}]
    assert [(r["label"], r["gross"]) for r in tables.exposure_rows(rows, "sector")] == [
        ("Energy", 0.4),
        ("(none)", 0.05),
    ]


def test_factor_rows_put_alpha_then_the_market_first():
    section = {"coefficients": {"SMB": 0.1, "Mkt-RF": 0.9, "alpha": 0.001, "HML": -0.2}}
    assert [r["label"] for r in tables.factor_rows(section)] == [
        "Alpha (monthly)",
        "Market (Mkt−RF)",
        "Value (HML)",
        "Size (SMB)",
    ]


def test_a_section_marked_unavailable_gives_its_reason():
    assert tables.unavailable_reason(None) == "This snapshot has no such section."
    assert tables.unavailable_reason({"available": False, "reason": "no benchmark"}) == (
        "no benchmark"
    )
    assert tables.unavailable_reason({"available": True}) is None
