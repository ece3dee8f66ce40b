"""The trading review engine on small books computed by hand.

The main example: buy 100 @ 10 (2 Jan), buy 100 @ 12 (8 Jan), sell 150 @ 13
(15 Jan), marked at 14 on 31 Jan.
* FIFO: the sale closes the first lot (100 × (13 − 10) = 300, held 13 days) and
  half the second (50 × (13 − 12) = 50, held 7 days): realised 350; 50 @ 12 stay
  open, unrealised 50 × (14 − 12) = 100.
* Average cost 11: realised 150 × (13 − 11) = 300; 50 @ 11 open, unrealised 150.
* Either way the period's total is the mark-to-market gain:
  150 × 13 + 50 × 14 − (100 × 10 + 100 × 12) = 450.
"""

import datetime as dt
import math

import pandas as pd
import pytest

from analytics.engine.trading import lots_match, trading_review

JAN = dt.date(2024, 1, 1)


def day(number: int) -> pd.Timestamp:
    return pd.Timestamp(2024, 1, number)


def trades(*rows, portfolio=1, instrument=10):
    """Rows (day, side, quantity, price[, fees[, strategy[, trader]]])."""
    records = []
    for number, row in enumerate(rows, start=1):
        when, side, quantity, price, *rest = row
        fees = rest[0] if rest else 0.0
        strategy = rest[1] if len(rest) > 1 else ""
        trader = rest[2] if len(rest) > 2 else ""
        records.append(
            (
                number,
                portfolio,
                instrument,
                day(when),
                side,
                quantity,
                price,
                fees,
                strategy,
                trader,
            )
        )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "trade",
            "portfolio",
            "instrument",
            "date",
            "side",
            "quantity",
            "price",
            "fees",
            "strategy",
            "trader",
        ],
    )


def closes(*rows, portfolio=1, instrument=10):
    return pd.DataFrame(
        [(portfolio, instrument, day(when), close) for when, close in rows],
        columns=["portfolio", "instrument", "date", "close"],
    )


def net_assets(*rows, portfolio=1):
    return pd.DataFrame(
        [(portfolio, day(when), value) for when, value in rows],
        columns=["portfolio", "date", "net_assets"],
    )


MAIN = trades((2, "buy", 100, 10.0), (8, "buy", 100, 12.0), (15, "sell", 150, 13.0))
MAIN_CLOSES = closes((2, 10.0), (8, 12.0), (15, 13.0), (31, 14.0))
MAIN_ASSETS = net_assets((2, 4000.0), (15, 5000.0), (31, 6000.0))


def review(frame=MAIN, marks=MAIN_CLOSES, assets=MAIN_ASSETS, **options):
    options.setdefault("start", None)
    options.setdefault("end", dt.date(2024, 1, 31))
    return trading_review(frame, marks, assets, **options)


def only(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1
    return frame.iloc[0]


def test_fifo_closes_the_oldest_lot_first():
    matched = lots_match(MAIN, method="fifo")
    trips = matched.round_trips
    assert trips["quantity"].tolist() == [100, 50]
    assert trips["pnl"].tolist() == pytest.approx([300.0, 50.0])
    assert trips["holding_days"].tolist() == [13, 7]
    assert matched.realised_by_trade.to_dict() == pytest.approx({3: 350.0})
    [lot] = matched.open_lots.itertuples()
    assert (lot.quantity, lot.entry_price, lot.direction, lot.opened) == (50, 12.0, 1, day(8))


def test_average_cost_pools_the_lots():
    matched = lots_match(MAIN, method="average")
    trip = only(matched.round_trips)
    assert (trip["quantity"], trip["entry_price"], trip["pnl"]) == (150, 11.0, 300.0)
    # Opened on average on 5 January (2 and 8 January, equal quantities): 10 days.
    assert trip["holding_days"] == 10
    lot = only(matched.open_lots)
    assert (lot["quantity"], lot["entry_price"]) == (50, 11.0)


def test_the_review_of_the_main_example():
    summary = only(review().by_portfolio)
    assert summary["realised_pnl"] == pytest.approx(350.0)
    assert summary["unrealised_pnl_change"] == pytest.approx(100.0)
    assert summary["total_pnl"] == pytest.approx(450.0)
    assert (summary["round_trips"], summary["wins"], summary["losses"]) == (2, 2, 0)
    assert summary["hit_rate"] == 1.0
    assert math.isnan(summary["win_loss_ratio"])  # no losing round trip
    # Quantity-weighted: (100 × 13 + 50 × 7) / 150 = 11 days.
    assert summary["average_holding_days"] == pytest.approx(11.0)
    # Bought 2,200, sold 1,950; average net assets (4,000 + 5,000 + 6,000) / 3.
    assert (summary["bought"], summary["sold"]) == (2200.0, 1950.0)
    assert summary["average_net_assets"] == pytest.approx(5000.0)
    assert summary["turnover"] == pytest.approx(1950.0 / 5000.0)
    assert summary["contribution"] == pytest.approx(450.0 / 5000.0)
    assert summary["slippage_bps"] == 0.0  # every fill at its day's close


def test_the_total_does_not_depend_on_the_lot_method():
    fifo = only(review(method="fifo").by_portfolio)
    average = only(review(method="average").by_portfolio)
    assert average["realised_pnl"] == pytest.approx(300.0)
    assert average["unrealised_pnl_change"] == pytest.approx(150.0)
    assert average["total_pnl"] == pytest.approx(fifo["total_pnl"]) == pytest.approx(450.0)


def test_each_fill_shows_what_it_realised():
    fills = review().fills.set_index("trade")
    assert fills.loc[3, "realised_pnl"] == pytest.approx(350.0)
    assert fills.loc[[1, 2], "realised_pnl"].isna().all()  # buys only opened lots


def test_fees_of_both_fills_are_charged_pro_rata():
    # Buy 100 @ 10 with 10 of fees, sell 40 @ 12 with 2: 40 × 2 − 40 % of 10 − 2 = 74.
    book = trades((2, "buy", 100, 10.0, 10.0), (3, "sell", 40, 12.0, 2.0))
    trip = only(lots_match(book).round_trips)
    assert trip["pnl"] == pytest.approx(74.0)
    # The 60 still open carry the other 6 of opening fees: 60 × (12 − 10) − 6 = 114.
    marks = closes((2, 10.0), (3, 12.0))
    summary = only(
        review(book, marks, net_assets((3, 1000.0)), end=dt.date(2024, 1, 3)).by_portfolio
    )
    assert summary["unrealised_pnl_change"] == pytest.approx(114.0)


def test_short_lots_hit_rate_and_win_loss_ratio():
    # Sell 10 @ 50 opens a short; buy 4 @ 45 closes 4: +20; buy 10 @ 55 closes the
    # other 6: 6 × (50 − 55) = −30, and opens a long of 4 @ 55.
    book = trades((2, "sell", 10, 50.0), (3, "buy", 4, 45.0), (4, "buy", 10, 55.0))
    matched = lots_match(book)
    assert matched.round_trips["direction"].tolist() == [-1, -1]
    assert matched.round_trips["pnl"].tolist() == pytest.approx([20.0, -30.0])
    assert only(matched.open_lots)[["direction", "quantity", "entry_price"]].tolist() == [
        1,
        4,
        55.0,
    ]

    summary = only(
        review(
            book, closes((4, 55.0)), net_assets((4, 1000.0)), end=dt.date(2024, 1, 4)
        ).by_portfolio
    )
    assert summary["hit_rate"] == 0.5
    assert summary["win_loss_ratio"] == pytest.approx(20.0 / 30.0)


def test_slippage_is_positive_when_it_costs():
    # Buy above the close (+50 bp), sell below it (+50 bp), buy below it (−20 bp).
    book = trades((2, "buy", 100, 20.10), (3, "sell", 100, 19.90), (4, "buy", 100, 19.96))
    marks = closes((2, 20.0), (3, 20.0), (4, 20.0))
    result = review(book, marks, net_assets((4, 10_000.0)), end=dt.date(2024, 1, 4))
    assert result.fills["slippage_bps"].tolist() == pytest.approx([50.0, 50.0, -20.0])
    assert result.fills["slippage_cost"].tolist() == pytest.approx([10.0, 10.0, -4.0])
    # Notional-weighted: (10 + 10 − 4) / (3 × 2,000) = 26.67 bp.
    summary = only(result.by_portfolio)
    assert summary["slippage_bps"] == pytest.approx(16.0 / 6000.0 * 10_000.0)


def test_a_fill_without_its_days_close_has_no_slippage():
    book = trades((2, "buy", 100, 10.0), (3, "buy", 100, 11.0))
    result = review(book, closes((2, 10.0)), net_assets((3, 1000.0)), end=dt.date(2024, 1, 3))
    assert math.isnan(result.fills["slippage_bps"].iloc[1])
    assert only(result.by_portfolio)["slippage_bps"] == 0.0  # over the priced fill only


def test_a_period_counts_the_mark_to_market_gain_of_lots_it_inherits():
    # Bought 100 @ 10 on 2 Jan; the period starts on 5 Jan (close of 4 Jan: 11); sold
    # 100 @ 12 on 8 Jan. Realised 200 in the period, of which 100 was unrealised at
    # its start: the period's gain is 100 × (12 − 11) = 100.
    book = trades((2, "buy", 100, 10.0), (8, "sell", 100, 12.0))
    marks = closes((2, 10.0), (4, 11.0), (8, 12.0))
    result = review(
        book,
        marks,
        net_assets((2, 1000.0), (8, 1200.0)),
        start=dt.date(2024, 1, 5),
        end=dt.date(2024, 1, 8),
    )
    summary = only(result.by_portfolio)
    assert summary["realised_pnl"] == pytest.approx(200.0)
    assert summary["unrealised_pnl_change"] == pytest.approx(-100.0)
    assert summary["total_pnl"] == pytest.approx(100.0)
    # Only the period's fills count for turnover and only its valuations average.
    assert (summary["bought"], summary["sold"], summary["average_net_assets"]) == (
        0.0,
        1200.0,
        1200.0,
    )
    assert summary["turnover"] == 0.0
    assert result.fills["trade"].tolist() == [2]


def test_round_trips_belong_to_the_strategy_and_trader_that_opened_them():
    book = trades(
        (2, "buy", 100, 10.0, 0.0, "momentum", "alice"),
        (3, "buy", 50, 20.0, 0.0, "value", "bob"),
        (9, "sell", 150, 12.0, 0.0, "rebalance", "bob"),
    )
    # FIFO: momentum 100 × (12 − 10) = +200, value 50 × (12 − 20) = −400.
    result = review(book, closes((9, 12.0)), net_assets((9, 2000.0)), end=dt.date(2024, 1, 9))
    strategies = result.by_strategy.set_index("strategy")
    assert strategies["realised_pnl"].to_dict() == pytest.approx(
        {"momentum": 200.0, "rebalance": 0.0, "value": -400.0}
    )
    assert strategies.loc["rebalance", "sold"] == 1800.0
    assert strategies.loc["momentum", "hit_rate"] == 1.0
    assert strategies.loc["value", "hit_rate"] == 0.0
    assert strategies.loc["momentum", "contribution"] == pytest.approx(200.0 / 2000.0)
    traders = result.by_trader.set_index("trader")
    assert traders["realised_pnl"].to_dict() == pytest.approx({"alice": 200.0, "bob": -400.0})
    assert traders.loc["bob", "round_trips"] == 1


def test_a_missing_mark_makes_the_total_unknown():
    result = review(MAIN, MAIN_CLOSES.iloc[0:0], MAIN_ASSETS)  # no close at all
    summary = only(result.by_portfolio)
    assert summary["realised_pnl"] == pytest.approx(350.0)
    assert math.isnan(summary["unrealised_pnl_change"]) and math.isnan(summary["total_pnl"])


def test_portfolios_are_reviewed_independently_in_one_call():
    other = trades((3, "buy", 10, 100.0), (4, "sell", 10, 90.0), portfolio=2, instrument=10)
    book = pd.concat([MAIN, other.assign(trade=other["trade"] + 10)], ignore_index=True)
    marks = pd.concat([MAIN_CLOSES, closes((3, 100.0), (4, 90.0), portfolio=2)])
    assets = pd.concat([MAIN_ASSETS, net_assets((3, 1000.0), (4, 900.0), portfolio=2)])
    summary = review(book, marks, assets).by_portfolio.set_index("portfolio")
    assert summary.loc[1, "total_pnl"] == pytest.approx(450.0)
    assert summary.loc[2, "realised_pnl"] == pytest.approx(-100.0)
    assert summary.loc[2, "contribution"] == pytest.approx(-100.0 / 950.0)
    assert summary.loc[2, "hit_rate"] == 0.0


def test_an_unknown_lot_method_is_refused():
    with pytest.raises(ValueError, match="unknown lot method"):
        lots_match(MAIN, method="lifo")  # type: ignore[arg-type]
