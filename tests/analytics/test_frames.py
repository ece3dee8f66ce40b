"""The one loader of frames: valuations, flows, holdings and returns in the base
currency, with a gap kept as NaN, and the same returns for snapshots and compliance.

The book (USD): 1,000 USD arrive on Monday 8 January 2024 and buy 9 X at 100 and
10 Y at 10, so no cash is left. X closes 100, 110, —, 105, 110 from Monday to
Friday; Y closes 10 every day. On Wednesday 100 EUR arrive and stay as euro cash;
EUR/USD is 1.10 on Wednesday and Thursday and 1.20 on Friday. X has no close on
Wednesday, so Wednesday has no valuation: a gap.

Net assets by hand: Monday 9 × 100 + 10 × 10 = 1,000; Tuesday 990 + 100 = 1,090;
Wednesday unknown; Thursday 945 + 100 + 110 = 1,155; Friday 990 + 100 + 120 = 1,210.
Returns are end-of-day time-weighted, r = (V_t − F_t) / V_{t−1} − 1 (for one interval
with the flow at the close, Modified Dietz with the flow's weight 0).
"""

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from analytics.selectors import frames
from analytics.services.positions import portfolio_positions_rebuild
from analytics.services.snapshots import snapshot_result_compute
from compliance.services.frames import realised_returns
from tests.analytics.factories import CashFlowFactory, FxRateFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

MON, TUE, WED, THU, FRI = (dt.date(2024, 1, d) for d in (8, 9, 10, 11, 12))
SAT, SUN, NEXT_MON, NEXT_TUE = (dt.date(2024, 1, d) for d in (13, 14, 15, 16))
X_CLOSES = {MON: "100", TUE: "110", THU: "105", FRI: "110"}

TUESDAY = 1090 / 1000 - 1
THURSDAY_ACROSS_THE_GAP = (1155 - 110) / 1090 - 1  # the Wednesday flow counts on Thursday
FRIDAY = 1210 / 1155 - 1  # the euro cash earns the FX move


@pytest.fixture
def book(db):
    portfolio = PortfolioFactory(code="GAPFX", base_currency="USD", inception_date=MON)
    x = InstrumentFactory(identifier="X", currency="USD")
    y = InstrumentFactory(identifier="Y", currency="USD")
    CashFlowFactory(portfolio=portfolio, date=MON, amount=Decimal(1000), currency="USD")
    CashFlowFactory(portfolio=portfolio, date=WED, amount=Decimal(100), currency="EUR")
    TradeFactory(portfolio=portfolio, instrument=x, trade_date=MON, quantity=9, price=100)
    TradeFactory(portfolio=portfolio, instrument=y, trade_date=MON, quantity=10, price=10)
    for day, close in X_CLOSES.items():
        PriceFactory(instrument=x, date=day, close=Decimal(close))
    for day in (MON, TUE, WED, THU, FRI):
        PriceFactory(instrument=y, date=day, close=Decimal("10"))
    for day, rate in ((WED, "1.10"), (THU, "1.10"), (FRI, "1.20")):
        FxRateFactory(date=day, base_currency="EUR", quote_currency="USD", rate=Decimal(rate))
    portfolio_positions_rebuild(portfolio=portfolio)
    portfolio.x = x
    return portfolio


def _by_date(frame: pd.DataFrame, column: str) -> dict[dt.date, float]:
    return {day.date(): value for day, value in zip(frame["date"], frame[column], strict=True)}


def test_a_date_with_an_unvalued_holding_is_a_gap_not_a_partial_sum(book):
    valuations = frames.valuations_frame(portfolio_ids=[book.pk], last=FRI)

    net_assets = _by_date(valuations, "net_assets")
    assert list(net_assets) == [MON, TUE, WED, THU, FRI]
    assert [net_assets[d] for d in (MON, TUE, THU, FRI)] == pytest.approx([1000, 1090, 1155, 1210])
    assert np.isnan(net_assets[WED])
    assert _by_date(valuations, "unvalued_holdings") == {MON: 0, TUE: 0, WED: 1, THU: 0, FRI: 0}


def test_a_foreign_currency_flow_is_in_base_at_its_dates_rate(book):
    flows = frames.flows_frame(portfolio_ids=[book.pk], last=FRI)

    assert _by_date(flows, "amount") == pytest.approx({MON: 1000.0, WED: 110.0})


def test_holdings_keep_the_unvalued_holding_as_nan(book):
    holdings = frames.holdings_frame(dates={book.pk: WED}).set_index("identifier")

    assert np.isnan(holdings.loc["X", "market_value_base"])
    assert holdings.loc["Y", "market_value_base"] == pytest.approx(100)
    assert holdings.loc["CASH-EUR", "market_value_base"] == pytest.approx(110)


def test_returns_keep_the_gap_and_the_day_after_it_as_nan(book):
    returns = frames.portfolio_history(portfolio_ids=[book.pk], last=FRI).returns

    measured = _by_date(returns, "return")
    assert list(measured) == [TUE, WED, THU, FRI]  # Monday starts the first interval
    assert [measured[TUE], measured[FRI]] == pytest.approx([TUESDAY, FRIDAY])
    assert np.isnan(measured[WED]) and np.isnan(measured[THU])
    assert _by_date(returns, "flow") == pytest.approx({TUE: 0, WED: 110, THU: 0, FRI: 0})


def test_returns_across_gaps_span_the_gap_and_count_its_flow_on_the_next_valuation(book):
    history = frames.portfolio_history(portfolio_ids=[book.pk], last=FRI)

    returns = frames.returns_across_gaps(history)
    assert _by_date(returns, "return") == pytest.approx(
        {TUE: TUESDAY, THU: THURSDAY_ACROSS_THE_GAP, FRI: FRIDAY}
    )


def _valuations(rows):
    frame = pd.DataFrame(rows, columns=["portfolio", "date", "net_assets"])
    return frame.assign(date=pd.to_datetime(frame["date"]), unvalued_holdings=0)


def _flows(rows):
    frame = pd.DataFrame(rows, columns=["portfolio", "date", "amount"])
    return frame.assign(date=pd.to_datetime(frame["date"]))


def test_flow_dating_on_each_portfolios_own_calendar():
    # Portfolio 1 is valued Thursday, Friday and Monday; portfolio 2 (another
    # exchange's holidays) Thursday and Monday only: no gap on its Friday.
    valuations = _valuations(
        [
            (1, THU, 100.0),
            (1, FRI, 110.0),
            (1, NEXT_MON, 121.0),
            (2, THU, 200.0),
            (2, NEXT_MON, 230.0),
        ]
    )
    flows = _flows([(1, SAT, 10.0), (2, SUN, 20.0), (1, NEXT_TUE, 5.0)])

    returns = frames.interval_returns(valuations=valuations, flows=flows)

    by_portfolio = {p: _by_date(rows, "return") for p, rows in returns.groupby("portfolio")}
    # The weekend flows count on Monday; the flow after the last valuation is not counted.
    assert by_portfolio[1] == pytest.approx({FRI: 0.10, NEXT_MON: (121 - 10) / 110 - 1})
    assert by_portfolio[2] == pytest.approx({NEXT_MON: (230 - 20) / 200 - 1})


def test_a_flow_without_a_rate_makes_its_interval_unknown():
    valuations = _valuations([(1, THU, 100.0), (1, FRI, 110.0)])
    flows = _flows([(1, FRI, 5.0), (1, FRI, np.nan)])

    returns = frames.interval_returns(valuations=valuations, flows=flows)

    assert np.isnan(returns["return"].iloc[0]) and np.isnan(returns["flow"].iloc[0])


def _snapshot_returns(portfolio) -> dict[dt.date, float]:
    series = snapshot_result_compute(portfolio=portfolio, as_of=FRI)["series"]["returns"]
    days = [dt.date.fromisoformat(day) for day in series["dates"]]
    return dict(zip(days, series["values"], strict=True))


def test_snapshots_and_compliance_measure_the_same_return_across_a_gap(book):
    snapshot = _snapshot_returns(book)
    compliance = realised_returns(portfolio_ids=[book.pk], end=FRI, days=10)[book.pk]

    assert snapshot == pytest.approx({TUE: TUESDAY, THU: THURSDAY_ACROSS_THE_GAP, FRI: FRIDAY})
    # Both span Wednesday's missing valuation with one return from Tuesday to Thursday,
    # so the compliance rules read the series the Risk tab shows.
    assert list(compliance.index) == [TUE, THU, FRI]
    assert compliance.to_dict() == pytest.approx(snapshot)


def test_snapshots_and_compliance_give_the_same_returns_without_a_gap(book):
    PriceFactory(instrument=book.x, date=WED, close=Decimal("100"))
    portfolio_positions_rebuild(portfolio=book)
    book.refresh_from_db()

    snapshot = _snapshot_returns(book)
    compliance = realised_returns(portfolio_ids=[book.pk], end=FRI, days=10)[book.pk]

    # Wednesday 900 + 100 + 110 = 1,110 with the 110 flow at the close.
    expected = {TUE: TUESDAY, WED: (1110 - 110) / 1090 - 1, THU: 1155 / 1110 - 1, FRI: FRIDAY}
    assert snapshot == pytest.approx(expected)
    assert compliance.to_dict() == pytest.approx(expected)
