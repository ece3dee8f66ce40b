"""Risk figures per window, and risk limits that state the window they apply to.

The crafted history: daily returns on every weekday of 2019–2021, all zero except

* 3 June 2019: −20 %, and 4 June 2019: +25 % (0.8 × 1.25 = 1: fully recovered);
* 1 June 2021: −10 %, and 1 September 2021: +5 %.

By hand, on the as-of date 31 December 2021:

* since inception the deepest fall is 20 % (1 → 0.8);
* over the last year (returns after 31 December 2020) it is 10 % (1 → 0.9);
* the current drawdown is 1 − 0.9 × 1.05 = 5.5 % on both windows (the peak, 1,
  was last seen before 1 June 2021);
* the last year's volatility: n weekdays in 2021, two non-zero returns, so
  mean = −0.05 / n and the sample variance is (0.10² + 0.05² − n·mean²) / (n − 1),
  annualised × 252.
"""

import datetime as dt
import math

import pandas as pd
import pytest
from rest_framework.test import APIClient

from analytics.models import (
    AnalyticsSnapshot,
    RiskLimit,
    RiskLimitMetric,
    RiskWindow,
    SnapshotStatus,
    risk_value_key,
)
from analytics.selectors.portfolios import SnapshotView, risk_limit_utilisation
from analytics.services.risk_limits import risk_limits_replace
from analytics.services.snapshots.risk import risk_values

AS_OF = dt.date(2021, 12, 31)


def crafted_returns() -> pd.Series:
    days = pd.bdate_range("2019-01-01", "2021-12-31")
    returns = pd.Series(0.0, index=days)
    returns[pd.Timestamp("2019-06-03")] = -0.20
    returns[pd.Timestamp("2019-06-04")] = 0.25
    returns[pd.Timestamp("2021-06-01")] = -0.10
    returns[pd.Timestamp("2021-09-01")] = 0.05
    return returns


@pytest.fixture
def values() -> dict:
    return risk_values(returns=crafted_returns(), benchmark=None, exposures={})


def test_drawdowns_depend_on_the_window(values):
    max_drawdown, current = RiskLimitMetric.MAX_DRAWDOWN, RiskLimitMetric.CURRENT_DRAWDOWN

    assert values[risk_value_key(max_drawdown, RiskWindow.SINCE_INCEPTION)] == pytest.approx(0.20)
    assert values[risk_value_key(max_drawdown, RiskWindow.ONE_YEAR)] == pytest.approx(0.10)
    assert values[risk_value_key(current, RiskWindow.SINCE_INCEPTION)] == pytest.approx(0.055)
    assert values[risk_value_key(current, RiskWindow.ONE_YEAR)] == pytest.approx(0.055)


def test_one_year_volatility_matches_the_hand_computation(values):
    n = len(pd.bdate_range("2021-01-01", "2021-12-31"))  # 261 weekdays
    mean = -0.05 / n
    variance = (0.10**2 + 0.05**2 - n * mean**2) / (n - 1)

    one_year = values[risk_value_key(RiskLimitMetric.VOLATILITY, RiskWindow.ONE_YEAR)]

    assert one_year == pytest.approx(math.sqrt(variance * 252), rel=1e-12)
    # The bare key is the metric's default window, one year for volatility.
    assert values[RiskLimitMetric.VOLATILITY] == one_year


def test_a_window_longer_than_the_history_has_no_value(values):
    assert values[risk_value_key(RiskLimitMetric.VOLATILITY, RiskWindow.FIVE_YEARS)] is None
    # Three years back from 31 December 2021 is where the history starts.
    assert values[risk_value_key(RiskLimitMetric.MAX_DRAWDOWN, RiskWindow.THREE_YEARS)] == (
        pytest.approx(0.20)
    )


def test_limits_on_one_year_and_since_inception_use_their_own_windows(db, growth, values):
    risk_limits_replace(
        portfolio=growth,
        limits=[
            {"metric": "max_drawdown", "window": "SI", "limit": 0.16},
            {"metric": "max_drawdown", "window": "1Y", "limit": 0.16},
            {"metric": "current_drawdown", "limit": 0.10},  # default window: since inception
            {"metric": "annual_volatility", "window": "5Y", "limit": 0.20},
        ],
    )
    snapshot = AnalyticsSnapshot(
        portfolio=growth,
        as_of=AS_OF,
        data_version=0,
        status=SnapshotStatus.DONE,
        result={"risk_values": values},
    )
    view = SnapshotView(snapshot=snapshot, current_status="done", current_error="", stale=False)

    used = {(u.metric, u.window): u for u in risk_limit_utilisation(portfolio=growth, view=view)}

    # The recovered 2019 fall breaches a since-inception limit: 0.20 / 0.16 = 125 %.
    assert used[("max_drawdown", "SI")].utilisation == pytest.approx(1.25)
    assert used[("max_drawdown", "SI")].status == "breach"
    # On the last year only the 10 % fall counts: 0.10 / 0.16 = 62.5 %.
    assert used[("max_drawdown", "1Y")].utilisation == pytest.approx(0.625)
    assert used[("max_drawdown", "1Y")].status == "ok"
    assert used[("max_drawdown", "1Y")].window_label == "last 1 year"
    # The current drawdown, 5.5 %, against 10 %: 55 %.
    assert used[("current_drawdown", "SI")].utilisation == pytest.approx(0.55)
    # Three years of history cannot give a five-year volatility.
    assert used[("annual_volatility", "5Y")].status == "no_value"


def test_a_limit_without_a_window_is_stored_with_the_default_window(db, growth):
    risk_limits_replace(portfolio=growth, limits=[{"metric": "var_95", "limit": 0.02}])

    assert RiskLimit.objects.get(portfolio=growth).window == RiskWindow.LAST_500_DAYS


def test_the_api_refuses_a_window_the_metric_cannot_be_measured_on(alice, growth):
    client = APIClient()
    client.force_authenticate(alice)

    response = client.put(
        f"/api/portfolios/{growth.pk}/risk-limits/",
        [{"metric": "gross_exposure", "window": "1Y", "limit": 1.0}],
        format="json",
    )

    assert response.status_code == 400
    assert "window" in str(response.json())
    assert not RiskLimit.objects.filter(portfolio=growth).exists()
