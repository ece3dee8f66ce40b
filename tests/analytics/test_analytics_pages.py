"""The portfolio tabs show the stored analytics snapshot: alice owns GROWTH, bob sees
it through the equity desk, mallory is an outsider. Snapshots are built by the real
``snapshot_result_compute`` on a small portfolio (four stocks, a benchmark, monthly
factors) and stored as rows, as the Celery task would store them; the pages only read.
"""

import copy
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import (
    AnalyticsSnapshot,
    Benchmark,
    BenchmarkReturn,
    BenchmarkWeight,
    FactorReturn,
    Portfolio,
    Price,
    RiskLimit,
    RiskLimitMetric,
    SnapshotStatus,
)
from analytics.presentation import figures
from analytics.services.positions import portfolio_positions_rebuild
from analytics.services.snapshots import portfolio_as_of, snapshot_result_compute
from tests.analytics.factories import CashFlowFactory, TradeFactory
from tests.factories import PASSWORD, InstrumentFactory

TABS = ("portfolio-detail", "portfolio-performance", "portfolio-risk", "portfolio-attribution")

STOCKS = (
    # ticker, sector, country, first close, benchmark weight
    ("AAA", "Information Technology", "US", 120, 0.40),
    ("BBB", "Health Care", "GB", 40, 0.20),
    ("CCC", "Financials", "DE", 75, 0.25),
    ("DDD", "Energy", "US", 60, 0.15),
)


def snapshot_portfolio_build(
    portfolio: Portfolio, *, days: int = 300, benchmark_weights: bool = True
) -> Portfolio:
    """Give ``portfolio`` ``days`` business days of history from 2023-01-02: a
    subscription, four stocks bought on day one, seeded random-walk prices, a
    benchmark (with constituent weights unless told otherwise) and monthly
    Fama-French-style factors; then derive its positions."""
    rng = np.random.default_rng(7)
    dates = [day.date() for day in pd.bdate_range("2023-01-02", periods=days)]
    benchmark = Benchmark.objects.create(
        code=f"{portfolio.code}-BM", name=f"{portfolio.code} benchmark", currency="USD"
    )
    portfolio.benchmark = benchmark
    portfolio.inception_date = dates[0]
    portfolio.save(update_fields=["benchmark", "inception_date"])
    CashFlowFactory(portfolio=portfolio, date=dates[0], amount=Decimal(1_000_000), currency="USD")
    market = rng.normal(0.0004, 0.01, size=days)
    for n, (ticker, sector, country, first_close, weight) in enumerate(STOCKS):
        stock = InstrumentFactory(
            identifier=f"{portfolio.code}-{ticker}", sector=sector, country=country
        )
        closes = first_close * np.cumprod(
            1 + market * (0.8 + 0.2 * n) + rng.normal(0, 0.008, size=days)
        )
        Price.objects.bulk_create(
            Price(instrument=stock, date=day, close=Decimal(f"{close:.4f}"), currency="USD")
            for day, close in zip(dates, closes, strict=True)
        )
        TradeFactory(
            portfolio=portfolio,
            instrument=stock,
            trade_date=dates[0],
            quantity=Decimal(2000),
            price=Decimal(first_close),
        )
        if benchmark_weights:
            BenchmarkWeight.objects.create(
                benchmark=benchmark, instrument=stock, date=dates[0], weight=weight
            )
    BenchmarkReturn.objects.bulk_create(
        BenchmarkReturn(benchmark=benchmark, date=day, value=float(value))
        for day, value in zip(dates, market, strict=True)
    )
    for month in pd.period_range(dates[0], dates[-1], freq="M"):
        for factor, value in (
            ("Mkt-RF", rng.normal(0.008, 0.04)),
            ("SMB", rng.normal(0, 0.02)),
            ("HML", rng.normal(0, 0.02)),
            ("RF", 0.003),
        ):
            FactorReturn.objects.update_or_create(
                factor=factor, date=month.end_time.date(), defaults={"value": value}
            )
    portfolio_positions_rebuild(portfolio=portfolio)
    portfolio.refresh_from_db()
    return portfolio


def snapshot_store(portfolio: Portfolio, *, result: dict | None = None) -> AnalyticsSnapshot:
    """Compute and store the snapshot of ``portfolio``'s current key (``done``), as the
    task does; the row may already exist ``pending`` if the data-changed signal ran."""
    as_of = portfolio_as_of(portfolio=portfolio)
    if result is None:
        result = snapshot_result_compute(portfolio=portfolio, as_of=as_of)
    snapshot, _ = AnalyticsSnapshot.objects.update_or_create(
        portfolio=portfolio,
        as_of=as_of,
        data_version=portfolio.data_version,
        defaults={
            "status": SnapshotStatus.DONE,
            "result": result,
            "finished_at": timezone.now(),
            "error": "",
            "stale": False,
        },
    )
    snapshot.refresh_from_db()  # the result as JSON gives it back (enums become strings)
    return snapshot


def data_changed(portfolio: Portfolio, *, status: str, error: str = "") -> AnalyticsSnapshot:
    """The portfolio's data moved on: older snapshots stale, the new key ``status``."""
    Portfolio.objects.filter(pk=portfolio.pk).update(data_version=portfolio.data_version + 1)
    portfolio.refresh_from_db()
    AnalyticsSnapshot.objects.filter(portfolio=portfolio).update(stale=True)
    return AnalyticsSnapshot.objects.create(
        portfolio=portfolio,
        as_of=portfolio_as_of(portfolio=portfolio),
        data_version=portfolio.data_version,
        status=status,
        error=error,
    )


@pytest.fixture
def snapshotted(growth):
    """GROWTH with 300 business days of history and a done snapshot."""
    snapshot_portfolio_build(growth)
    snapshot_store(growth)
    return growth


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def url(name, portfolio, **query):
    path = reverse(name, args=[portfolio.pk])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- every tab, entitlements -------------------------------------------------------


@pytest.mark.parametrize("tab", TABS)
def test_teammate_sees_every_tab_of_a_snapshotted_portfolio(client, bob, snapshotted, tab):
    response = login(client, bob).get(url(tab, snapshotted))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="snapshot-status"' in html
    assert 'data-state="current"' in html
    assert f"Analytics as of <strong>{portfolio_as_of(portfolio=snapshotted)}" in html
    for name in TABS:  # the sub-navigation links every tab
        assert f'href="{url(name, snapshotted)}"' in html
    assert 'aria-current="page"' in html


@pytest.mark.parametrize("tab", TABS)
def test_outsider_gets_404_on_every_tab(client, mallory, snapshotted, tab):
    response = login(client, mallory).get(url(tab, snapshotted, window="SI"))

    assert response.status_code == 404


@pytest.mark.parametrize("tab", TABS)
def test_anonymous_visitor_is_sent_to_log_in(client, snapshotted, tab):
    response = client.get(url(tab, snapshotted))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- overview ------------------------------------------------------------------------


def test_overview_shows_snapshot_charts_period_returns_and_holdings(client, alice, snapshotted):
    response = login(client, alice).get(url("portfolio-detail", snapshotted))

    html = response.content.decode()
    assert 'id="net-assets-chart"' in html and 'id="net-assets-figure"' in html
    assert 'id="cumulative-chart"' in html
    assert "value-chart" not in html  # the per-request value series is gone
    columns = {column["key"]: column for column in response.context["period_columns"]}
    assert set(columns) == {"portfolio", "benchmark", "active_arithmetic", "active_geometric"}
    rows = {row["key"]: row for row in response.context["period_rows"]}
    period_returns = snapshotted.snapshots.get().result["period_returns"]
    assert rows["ytd"]["cells"][0]["value"] == period_returns["portfolio"]["ytd"]
    assert rows["ytd"]["cells"][1]["value"] == period_returns["benchmark"]["ytd"]
    # 300 business days is more than a year: since inception is annualised (GIPS)
    assert columns["portfolio"]["annualised"] is True
    assert ">ann.</abbr>" in html
    assert 'id="holdings-table"' in html and "GROWTH-AAA" in html


def test_since_inception_under_a_year_is_cumulative_and_missing_periods_show_a_dash(
    client, alice, growth
):
    snapshot_portfolio_build(growth, days=120)
    snapshot_store(growth)

    response = login(client, alice).get(url("portfolio-detail", growth))

    html = response.content.decode()
    assert response.context["period_columns"][0]["annualised"] is False
    assert ">cum.</abbr>" in html and ">ann.</abbr>" not in html
    assert "never annualised" in html
    three_years = next(row for row in response.context["period_rows"] if row["key"] == "3y")
    assert three_years["cells"][0]["value"] is None
    assert '<td class="num ">—</td>' in html


def test_data_gaps_are_listed_with_their_count(client, alice, growth):
    snapshot_portfolio_build(growth)
    result = snapshot_result_compute(portfolio=growth, as_of=portfolio_as_of(portfolio=growth))
    result["data"]["gaps"] = [
        {
            "date": "2023-03-01",
            "reason": "no valuation: 1 holding(s) without a base-currency value",
        },
        {"date": "2023-03-02", "reason": "external flow without an FX rate"},
    ]
    snapshot_store(growth, result=result)

    for tab in TABS:
        html = login(client, alice).get(url(tab, growth)).content.decode()
        assert 'id="data-gaps"' in html
        assert "2 dates with missing valuations or flows" in html
        assert "2023-03-02</time>: external flow without an FX rate" in html


# --- snapshot status banner -----------------------------------------------------------


def test_no_snapshot_yet_says_it_is_being_computed(client, alice, growth):
    for tab in TABS:
        response = login(client, alice).get(url(tab, growth))

        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-state="computing"' in html
        assert "Analytics are being computed" in html


def test_pending_first_snapshot_says_it_is_being_computed(client, alice, growth):
    snapshot_portfolio_build(growth)
    AnalyticsSnapshot.objects.update_or_create(
        portfolio=growth,
        as_of=portfolio_as_of(portfolio=growth),
        data_version=growth.data_version,
        defaults={"status": SnapshotStatus.RUNNING},
    )

    html = login(client, alice).get(url("portfolio-performance", growth)).content.decode()

    assert "Analytics are being computed" in html
    assert "The snapshot is running." in html
    assert 'id="metrics"' not in html


def test_stale_snapshot_shows_its_numbers_and_says_recomputing(client, alice, snapshotted):
    old = snapshotted.snapshots.get()
    data_changed(snapshotted, status=SnapshotStatus.PENDING)

    for tab in TABS:
        response = login(client, alice).get(url(tab, snapshotted))
        html = response.content.decode()
        assert 'data-state="stale"' in html
        assert f"Numbers from {old.as_of:%Y-%m-%d}, data changed;" in html
        assert "recomputing (queued)" in html
    # the old numbers are still shown
    assert response.context["linked"] is not None


def test_failed_recompute_shows_the_error(client, alice, snapshotted):
    data_changed(snapshotted, status=SnapshotStatus.FAILED, error="ValueError: no FX rate")

    html = login(client, alice).get(url("portfolio-risk", snapshotted)).content.decode()

    assert 'data-state="stale"' in html
    assert "recomputing failed" in html
    assert "ValueError: no FX rate" in html
    assert 'id="var-table"' in html


def test_failed_first_snapshot_shows_the_error(client, alice, growth):
    snapshot_portfolio_build(growth)
    AnalyticsSnapshot.objects.update_or_create(
        portfolio=growth,
        as_of=portfolio_as_of(portfolio=growth),
        data_version=growth.data_version,
        defaults={"status": SnapshotStatus.FAILED, "error": "RuntimeError: boom"},
    )

    html = login(client, alice).get(url("portfolio-detail", growth)).content.decode()

    assert 'data-state="failed"' in html
    assert "RuntimeError: boom" in html


# --- performance -----------------------------------------------------------------------


def test_performance_shows_metrics_with_definitions_for_the_chosen_window(
    client, alice, snapshotted
):
    response = login(client, alice).get(url("portfolio-performance", snapshotted, window="1Y"))

    assert response.status_code == 200
    html = response.content.decode()
    window = response.context["window"]
    assert window["key"] == "1Y"
    metrics = snapshotted.snapshots.get().result["metrics"]["windows"]["1Y"]
    sharpe = f"{metrics['portfolio']['sharpe']:.2f}"
    volatility = f"{metrics['portfolio']['annual_volatility'] * 100:.2f}%"
    assert f'<td class="num">{sharpe}</td>' in html  # ratios as numbers
    assert f'<td class="num">{volatility}</td>' in html  # fractions as percentages
    assert "mean(r − rf) / std(r − rf) × √N" in html  # the stored definition
    # windows offered are the ones the snapshot holds (no 5Y/3Y on 300 days)
    assert [c.value for c in response.context["window_choices"]] == ["SI", "1Y", "YTD"]


@pytest.mark.parametrize("section", ["calendar-chart", "underwater-chart", "rolling-chart"])
def test_performance_embeds_the_charts(client, alice, snapshotted, section):
    html = login(client, alice).get(url("portfolio-performance", snapshotted)).content.decode()

    assert f'id="{section}"' in html
    assert f'id="{section.replace("-chart", "-figure")}"' in html


def test_drawdown_table_says_not_recovered(client, alice, snapshotted):
    snapshot = snapshotted.snapshots.get()
    result = copy.deepcopy(snapshot.result)
    result["drawdowns"]["episodes"][0].update(recovery_date=None, time_to_recover=None)
    AnalyticsSnapshot.objects.filter(pk=snapshot.pk).update(result=result)

    html = login(client, alice).get(url("portfolio-performance", snapshotted)).content.decode()

    assert 'id="drawdown-table"' in html
    assert "not recovered" in html


def test_known_window_the_history_cannot_cover_falls_back_with_a_notice(client, alice, snapshotted):
    response = login(client, alice).get(url("portfolio-performance", snapshotted, window="5Y"))

    assert response.status_code == 200
    assert response.context["window"]["key"] == "SI"
    assert "5 years is not available: the history is too short." in response.content.decode()


@pytest.mark.parametrize(
    ("tab", "query", "name"),
    [
        ("portfolio-performance", {"window": "10Y"}, "window"),
        ("portfolio-risk", {"by": "colour"}, "by"),
        ("portfolio-attribution", {"by": "issuer"}, "by"),
        ("portfolio-attribution", {"window": "YTD"}, "window"),
    ],
)
def test_unknown_parameter_is_a_400_naming_the_choices(
    client, alice, snapshotted, tab, query, name
):
    response = login(client, alice).get(url(tab, snapshotted, **query))

    assert response.status_code == 400
    html = response.content.decode()
    assert f"Unknown {name} “{query[name]}”" in html
    assert response.context["choices"]  # links to every valid value
    assert 'id="snapshot-status"' in html  # still inside the portfolio's frame


def test_unknown_parameter_of_a_forbidden_portfolio_is_still_a_404(client, mallory, snapshotted):
    response = login(client, mallory).get(url("portfolio-risk", snapshotted, by="colour"))

    assert response.status_code == 404


# --- risk ----------------------------------------------------------------------------


def test_risk_shows_var_with_its_assumptions_and_the_backtest(client, alice, snapshotted):
    response = login(client, alice).get(url("portfolio-risk", snapshotted))

    html = response.content.decode()
    assert len(response.context["var_rows"]) == 16  # 4 methods × 2 confidences × 2 horizons
    assert "Square-root-of-time" in html
    assert "seed 20240101" in html
    assert 'id="backtest-chart"' in html
    assert 'id="basel-zone"' in html
    assert "Kupiec" in html


def test_exposures_by_the_chosen_dimension(client, alice, snapshotted):
    response = login(client, alice).get(url("portfolio-risk", snapshotted, by="country"))

    assert response.status_code == 200
    labels = [row["label"] for row in response.context["exposure_rows"]]
    assert {"US", "GB", "DE"} <= set(labels)
    html = response.content.decode()
    assert 'id="exposure-chart"' in html
    assert "Herfindahl" in html and "Effective holdings" in html


def test_risk_limits_show_utilisation_and_status(client, alice, snapshotted):
    values = snapshotted.snapshots.get().result["risk_values"]
    RiskLimit.objects.create(
        portfolio=snapshotted, metric=RiskLimitMetric.VAR_95, limit=values["var_95"] * 0.5
    )
    RiskLimit.objects.create(
        portfolio=snapshotted, metric=RiskLimitMetric.GROSS_EXPOSURE, limit=2.0
    )
    RiskLimit.objects.create(portfolio=snapshotted, metric=RiskLimitMetric.BETA, limit=1.5)

    html = login(client, alice).get(url("portfolio-risk", snapshotted)).content.decode()

    assert 'id="limits-table"' in html
    assert 'class="limit-breach" data-metric="var_95"' in html
    assert 'class="limit-ok" data-metric="gross_exposure"' in html
    assert "util-bar status-breach" in html
    assert "200%" in html  # var_95 at twice its limit


def test_no_risk_limits_is_an_empty_state(client, alice, snapshotted):
    html = login(client, alice).get(url("portfolio-risk", snapshotted)).content.decode()

    assert 'id="no-limits"' in html
    assert "No risk limits are set for this portfolio" in html


# --- attribution ---------------------------------------------------------------------


def test_attribution_table_by_country_with_totals_and_trading_effect(client, alice, snapshotted):
    response = login(client, alice).get(
        url("portfolio-attribution", snapshotted, by="country", window="1Y")
    )

    assert response.status_code == 200
    linked = response.context["linked"]
    stored = snapshotted.snapshots.get().result["attribution"]["groupings"]["country"]["1Y"]
    assert linked == stored
    html = response.content.decode()
    assert 'id="attribution-table"' in html and "<tfoot>" in html
    assert {row["label"] for row in response.context["group_rows"]} >= {"US", "GB", "DE"}
    assert 'id="trading-effect-note"' in html
    assert 'id="effects-chart"' in html
    assert 'id="factor-table"' in html and "Adjusted R²" in html


def test_unavailable_attribution_shows_the_reason(client, alice, growth):
    snapshot_portfolio_build(growth, benchmark_weights=False)
    snapshot_store(growth)

    html = login(client, alice).get(url("portfolio-attribution", growth)).content.decode()

    assert 'id="attribution-unavailable"' in html
    assert f"Benchmark {growth.code}-BM has no constituent weights" in html
    assert 'id="factor-table"' in html  # the factor regression does not need weights


def test_short_history_renders_every_tab(client, alice, growth):
    """60 business days: no 1Y window, no 252-day rolling, no VaR backtest."""
    snapshot_portfolio_build(growth, days=60)
    snapshot_store(growth)

    for tab in TABS:
        response = login(client, alice).get(url(tab, growth))
        assert response.status_code == 200, tab


def test_pages_only_read_the_snapshot(client, alice, snapshotted, monkeypatch):
    def refuse(**kwargs):
        raise AssertionError("a page computed analytics")

    monkeypatch.setattr("analytics.services.snapshots.snapshot_result_compute", refuse)
    monkeypatch.setattr("analytics.services.snapshots.portfolio_frames_load", refuse)
    before = AnalyticsSnapshot.objects.count()

    for tab in TABS:
        assert login(client, alice).get(url(tab, snapshotted)).status_code == 200
    assert AnalyticsSnapshot.objects.count() == before


# --- figure builders -----------------------------------------------------------------


def test_gap_markers_leave_the_net_assets_axis_alone():
    series = {"dates": ["2024-01-02", "2024-01-03", "2024-01-05"], "values": [100.0, None, 102.0]}
    gaps = [{"date": "2024-01-03", "reason": "no valuation"}]

    figure = figures.net_assets_figure(series, currency="USD", gaps=gaps)

    line, markers = figure["data"]
    assert line["y"][1] is None and line["connectgaps"] is False  # the gap breaks the line
    assert markers["yaxis"] == "y2" and list(markers["x"]) == ["2024-01-03"]
    assert figure["layout"]["yaxis2"]["visible"] is False


def test_calendar_heatmap_has_years_by_months_and_a_year_column():
    calendar = {"2023": [None, 0.01, -0.02, *[0.0] * 9, 0.05], "2024": [0.03, *[None] * 11, 0.03]}

    figure = figures.calendar_heatmap_figure(calendar)

    months, years = figure["data"]
    assert list(months["y"]) == ["2024", "2023"]  # newest first
    assert len(months["z"][0]) == 12 and list(years["x"]) == ["Year"]
    assert months["zmid"] == 0 and years["zmid"] == 0  # diverging around zero


def test_exposure_bars_draw_shorts_to_the_left_and_shorten_long_names():
    rows = [
        {"issuer": "A very long issuer name Holdings AG", "long": 0.3, "short": 0.0, "gross": 0.3},
        {"issuer": "Short Co", "long": 0.1, "short": 0.05, "gross": 0.15},
    ]

    figure = figures.exposure_figure(rows, by="issuer", label="Issuer")

    long_bars, short_bars = figure["data"]
    assert list(short_bars["x"]) == [-0.05, -0.0]
    assert list(long_bars["y"]) == ["Short Co", "A very long issuer…"]
    assert list(long_bars["customdata"])[1] == "A very long issuer name Holdings AG"
