"""A hand-built report document: one fund, one month, the numbers typed in by hand
(so every test knows what the file must show without asking the code)."""

import datetime as dt
import math

from analytics.presentation.figures import cumulative_return_figure
from reports.document import (
    Column,
    Document,
    Figure,
    Kpi,
    Layout,
    PortfolioHeader,
    Section,
    SheetChart,
    Table,
)

HOSTILE_INSTRUMENTS = ('=HYPERLINK("http://x","y")', "+1", "-1+1", "@SUM(A1)")
TRADE_ROWS = 150  # enough for the trades table to cross a page break


def cumulative_figure() -> dict:
    start = dt.date(2024, 1, 1)
    dates = [(start + dt.timedelta(days=day)).isoformat() for day in range(90)]
    # Wavy, so that no two segments are collinear and plotly draws every point.
    portfolio = [0.001 * day + 0.01 * math.sin(day / 4) for day in range(90)]
    benchmark = [0.0008 * day + 0.008 * math.cos(day / 5) for day in range(90)]
    return cumulative_return_figure(
        {
            "cumulative": {"dates": dates, "values": portfolio},
            "benchmark_cumulative": {"dates": dates, "values": benchmark},
        },
        benchmark="MSCI World",
    )


def trade_rows() -> list[tuple]:
    rows = []
    for index in range(TRADE_ROWS):
        instrument = (
            HOSTILE_INSTRUMENTS[index]
            if index < len(HOSTILE_INSTRUMENTS)
            else f"Instrument {index:03d}"
        )
        pnl = -12.5 if index == 0 else 100.0 + index
        rows.append(
            (dt.date(2024, 3, 1 + index % 28), instrument, "BUY", 1000 + index, 101.25, pnl, 3.4)
        )
    return rows


def sample_document(**overrides) -> Document:
    performance = Section(
        key="performance_summary-GEQ",
        block="performance_summary",
        title="Performance summary",
        portfolio="GEQ",
        kpis=[
            Kpi("Return (MTD)", 0.0123, "percent"),
            Kpi("Benchmark (MTD)", 0.0101, "percent"),
            Kpi("Excess return", -0.0022, "percent"),
            Kpi("Sharpe ratio (1Y)", 1.27, "ratio"),
        ],
        tables=[
            Table(
                name="period-returns",
                title="Period returns",
                columns=[
                    Column("period", "Period"),
                    Column("portfolio", "Portfolio", "percent"),
                    Column("benchmark", "Benchmark", "percent"),
                ],
                rows=[
                    ("MTD", 0.0123, 0.0101),
                    ("YTD", 0.0456, 0.0399),
                    ("1Y", 0.2999, 0.2512),
                    ("Since inception", None, 0.8),
                ],
                note="Returns over one year are annualised (GIPS).",
            )
        ],
        figures=[
            Figure(
                "cumulative",
                "Cumulative return vs benchmark",
                cumulative_figure(),
                "Portfolio and MSCI World, January to March 2024.",
            )
        ],
        notes=["Time-weighted returns, daily valuation."],
    )
    monthly = Section(
        key="monthly_returns-GEQ",
        block="monthly_returns",
        title="Monthly returns",
        portfolio="GEQ",
        tables=[
            Table(
                name="monthly",
                title="Monthly returns",
                columns=[
                    Column("month", "Month end", "date"),
                    Column("portfolio", "Portfolio", "percent"),
                    Column("benchmark", "Benchmark", "percent"),
                ],
                rows=[
                    (dt.date(2024, 1, 31), 0.0211, 0.0187),
                    (dt.date(2024, 2, 29), -0.0105, -0.0093),
                    (dt.date(2024, 3, 31), 0.0123, 0.0101),
                ],
                chart=SheetChart("line", "Monthly returns", "month", ("portfolio", "benchmark")),
            )
        ],
    )
    trades = Section(
        key="trades-GEQ",
        block="trades",
        title="Trades",
        portfolio="GEQ",
        tables=[
            Table(
                name="trades",
                title="Trades with realised P&L",
                columns=[
                    Column("trade_date", "Trade date", "date"),
                    Column("instrument", "Instrument"),
                    Column("side", "Side"),
                    Column("quantity", "Quantity", "integer"),
                    Column("price", "Price", "number"),
                    Column("realised_pnl", "Realised P&L", "currency", decimals=2, currency="USD"),
                    Column("slippage", "Slippage", "bps"),
                ],
                rows=trade_rows(),
            )
        ],
    )
    attribution = Section(
        key="attribution-GEQ",
        block="attribution",
        title="Brinson attribution",
        portfolio="GEQ",
        unavailable="The benchmark has no constituent weights for March 2024.",
    )
    fields = {
        "title": "Monthly performance",
        "template_slug": "monthly-performance",
        "template_version": 3,
        "run_id": 42,
        "generated_at": dt.datetime(2024, 4, 2, 6, 15, tzinfo=dt.UTC),
        "run_as": "Alice Analyst",
        "period_key": "previous_month",
        "period_label": "Previous month",
        "period_start": dt.date(2024, 3, 1),
        "period_end": dt.date(2024, 3, 31),
        "as_of": dt.date(2024, 3, 28),
        "reporting_currency": "USD",
        "portfolios": [
            PortfolioHeader(
                id=1,
                code="GEQ",
                name="Global Equity Fund",
                base_currency="USD",
                as_of=dt.date(2024, 3, 28),
                data_version=7,
                snapshot_id=11,
                stale=True,
            )
        ],
        "layout": Layout(
            disclaimer=(
                "For professional investors only. "
                "Past performance is not a guide to future returns."
            )
        ),
        "description": "Returns, risk and trading of the month.",
        "incomplete": [
            "Global Equity Fund: no prices after 2024-03-28 (3 valuation days missing)."
        ],
        "sections": [performance, monthly, trades, attribution],
    }
    fields.update(overrides)
    return Document(**fields)
