"""A small trading book whose figures are computed by hand, for the holdings,
trades and trading-review blocks.

Alice's USD portfolio "DESK" receives 10,000 USD on 2 January 2024 and trades:

==========  ====  =====  ======  ========  ========  ==========  ======
date        side  qty    instr.  price     close     strategy    trader
==========  ====  =====  ======  ========  ========  ==========  ======
2 Jan       buy   100    ALP     10.00     10.00     momentum    bob
2 Jan       buy   200    BET     20.10     20.00     value       alice
8 Jan       buy   100    ALP     12.00     12.00     momentum    bob
15 Jan      sell  150    ALP     13.00     13.00     rebalance   bob
==========  ====  =====  ======  ========  ========  ==========  ======

Closes on 31 January: ALP 14, BET 21 (BET closes 20 on the other days).

* Cash: 10,000 − 1,000 − 4,020 = 4,980 (2 Jan); − 1,200 = 3,780 (8 Jan);
  + 1,950 = 5,730 (15 Jan).
* Net assets: 2 Jan 1,000 + 4,000 + 4,980 = 9,980; 8 Jan 2,400 + 4,000 + 3,780
  = 10,180; 15 Jan 650 + 4,000 + 5,730 = 10,380; 31 Jan 700 + 4,200 + 5,730 =
  10,630. Their average: 41,170 / 4 = 10,292.5.
* FIFO: the sale closes 100 @ 10 (+300, 13 days) and 50 @ 12 (+50, 7 days), both
  opened by momentum/bob: realised 350. Open on 31 Jan: 50 ALP @ 12 (+100) and
  200 BET @ 20.10 (+180). Total P&L 630.
* Slippage: only BET's buy, 200 × 0.10 = 20 USD over 8,150 USD of notional at the
  close: 24.54 bp; the BET fill itself: 0.10 / 20 = 50 bp.
"""

import datetime as dt
from decimal import Decimal

from analytics.services.positions import portfolio_positions_rebuild
from reports.blocks.base import BlockContext, PortfolioInput, ReportPeriod
from tests.analytics.factories import CashFlowFactory, PriceFactory, TradeFactory
from tests.factories import InstrumentFactory, PortfolioFactory

JAN_2, JAN_8, JAN_15, JAN_31 = (dt.date(2024, 1, d) for d in (2, 8, 15, 31))
JANUARY = ReportPeriod("mtd", "Month to date", dt.date(2024, 1, 1), JAN_31)
AVERAGE_NET_ASSETS = 41_170 / 4


def desk_book(*, owner, trader, capture):
    portfolio = PortfolioFactory(code="DESK", name="Desk", base_currency="USD", owner=owner)
    alp = InstrumentFactory(
        identifier="ALP", name="Alpha", currency="USD", sector="Energy", country="US"
    )
    bet = InstrumentFactory(
        identifier="BET", name="Beta", currency="USD", sector="Technology", country="GB"
    )
    CashFlowFactory(portfolio=portfolio, date=JAN_2, amount=Decimal("10000"))
    for day, instrument, side, quantity, price, strategy, who in (
        (JAN_2, alp, "buy", 100, "10", "momentum", trader),
        (JAN_2, bet, "buy", 200, "20.10", "value", owner),
        (JAN_8, alp, "buy", 100, "12", "momentum", trader),
        (JAN_15, alp, "sell", 150, "13", "rebalance", trader),
    ):
        TradeFactory(
            portfolio=portfolio,
            instrument=instrument,
            trade_date=day,
            side=side,
            quantity=quantity,
            price=Decimal(price),
            strategy=strategy,
            trader=who,
        )
    for day, close in ((JAN_2, "10"), (JAN_8, "12"), (JAN_15, "13"), (JAN_31, "14")):
        PriceFactory(instrument=alp, date=day, close=Decimal(close))
    for day, close in ((JAN_2, "20"), (JAN_8, "20"), (JAN_15, "20"), (JAN_31, "21")):
        PriceFactory(instrument=bet, date=day, close=Decimal(close))
    with capture(execute=False):
        portfolio_positions_rebuild(portfolio=portfolio)
    portfolio.refresh_from_db()
    return portfolio


def context_of(user, portfolio, view, period=JANUARY, **options) -> BlockContext:
    return BlockContext(
        user=user,
        portfolios=[PortfolioInput(portfolio=portfolio, snapshot=view, period=period)],
        period_key=period.key,
        benchmark=None,
        reporting_currency=None,
        options=options,
    )


def rows_of(table):
    keys = [column.key for column in table.columns]
    return [dict(zip(keys, row, strict=True)) for row in table.rows]
