"""The executive summary: one row per portfolio of the report, equal to the
stored data, with the total under management in the reporting currency.

* TRIO (``conftest``): 10 AAA at 101.9494 on 28 March 2024 = 1,019.494 USD; its
  monthly returns +1 %, −2 %, +3 %: day and month to date +3 %, year to date
  1.01 × 0.98 × 1.03 − 1 = 1.9494 %.
  Its VaR is the stored 500-day (here 3-return) historical VaR.
* DESK (``desk_book``): 10,630 USD on 31 January 2024, no snapshot yet.
* EURUSD 1.10 on 31 January: in EUR, 1,019.494 / 1.1 and 10,630 / 1.1.
"""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import FxRate
from compliance.models import Alert, Rule
from reports.blocks import executive_summary
from reports.blocks.base import BlockContext, PortfolioInput
from tests.reports.blocks.conftest import SINCE_INCEPTION
from tests.reports.blocks.desk_book import JANUARY, desk_book, rows_of

TRIO_ASSETS = 10 * 101.9494
DESK_ASSETS = 10_630.0


@pytest.fixture
def desk(alice, bob, django_capture_on_commit_callbacks):
    return desk_book(owner=alice, trader=bob, capture=django_capture_on_commit_callbacks)


@pytest.fixture
def alerts(trio, income):
    rule = Rule.objects.create(name="Issuer at most 10%", kind="max_instrument_weight", limit=0.1)
    for portfolio, severity in ((trio, "breach"), (income, "breach")):
        Alert.objects.create(
            rule=rule,
            portfolio=portfolio,
            severity=severity,
            opened_on=dt.date(2024, 3, 28),
            last_observed_on=dt.date(2024, 3, 28),
        )


def context(user, inputs, reporting_currency=None) -> BlockContext:
    return BlockContext(
        user=user,
        portfolios=inputs,
        period_key="since_inception",
        benchmark=None,
        reporting_currency=reporting_currency,
    )


def test_one_row_per_portfolio_with_the_stored_figures(
    alice, trio, trio_view, desk, empty_view, alerts
):
    inputs = [
        PortfolioInput(portfolio=trio, snapshot=trio_view, period=SINCE_INCEPTION),
        PortfolioInput(portfolio=desk, snapshot=empty_view, period=JANUARY),
    ]
    [section] = executive_summary.BLOCK.build(context(alice, inputs))

    assert section.portfolio is None and section.key == "executive_summary"
    rows = {row["portfolio"]: row for row in rows_of(section.tables[0])}
    assert list(rows) == ["TRIO", "DESK"]  # INCOME is not in the report
    row = rows["TRIO"]
    assert (row["as_of"], row["currency"]) == (dt.date(2024, 3, 28), "USD")
    assert row["net_assets"] == pytest.approx(TRIO_ASSETS)
    assert (row["day"], row["mtd"]) == (pytest.approx(0.03), pytest.approx(0.03))
    assert row["ytd"] == pytest.approx(1.01 * 0.98 * 1.03 - 1)
    # Less than a year of history: no one-year volatility. VaR 95 % of the returns
    # −2 %, +1 %, +3 % (linear quantile at 5 %): −(−0.02 + 0.1 × 0.03) = 1.7 %.
    assert row["volatility"] is None
    assert row["var_95"] == pytest.approx(0.017)
    assert row["var_95"] == trio_view.section("risk_values")["var_95"]
    assert (row["breaches"], row["warnings"]) == (1, 0)
    assert rows["DESK"]["net_assets"] == pytest.approx(DESK_ASSETS)
    assert rows["DESK"]["day"] is None  # no snapshot yet: shown as missing, never 0

    kpis = {kpi.label: kpi for kpi in section.kpis}
    assert kpis["Assets under management"].value == pytest.approx(TRIO_ASSETS + DESK_ASSETS)
    assert kpis["Assets under management"].note == "USD"
    assert kpis["Open breaches"].value == 1  # INCOME's breach is not counted


def test_net_assets_in_the_reporting_currency(alice, trio, trio_view, desk, empty_view):
    FxRate.objects.create(
        date=dt.date(2024, 1, 31), base_currency="EUR", quote_currency="USD", rate=Decimal("1.10")
    )
    inputs = [
        PortfolioInput(portfolio=trio, snapshot=trio_view, period=SINCE_INCEPTION),
        PortfolioInput(portfolio=desk, snapshot=empty_view, period=JANUARY),
    ]
    [section] = executive_summary.BLOCK.build(context(alice, inputs, reporting_currency="EUR"))

    rows = {row["portfolio"]: row for row in rows_of(section.tables[0])}
    assert rows["TRIO"]["currency"] == "EUR"
    assert rows["TRIO"]["net_assets"] == pytest.approx(TRIO_ASSETS / 1.1)
    assert rows["DESK"]["net_assets"] == pytest.approx(DESK_ASSETS / 1.1)
    total = next(kpi for kpi in section.kpis if kpi.label == "Assets under management")
    assert total.value == pytest.approx((TRIO_ASSETS + DESK_ASSETS) / 1.1)


def test_a_missing_fx_rate_leaves_the_portfolio_out_of_the_total_visibly(alice, trio, trio_view):
    inputs = [PortfolioInput(portfolio=trio, snapshot=trio_view, period=SINCE_INCEPTION)]
    [section] = executive_summary.BLOCK.build(context(alice, inputs, reporting_currency="GBP"))
    [row] = rows_of(section.tables[0])
    assert row["net_assets"] is None
    total = next(kpi for kpi in section.kpis if kpi.label == "Assets under management")
    assert total.value == 0.0 and "without TRIO" in total.note
    assert any("No net assets for TRIO" in note for note in section.notes)


def test_a_report_without_portfolios_is_unavailable(alice):
    [section] = executive_summary.BLOCK.build(context(alice, []))
    assert section.unavailable
