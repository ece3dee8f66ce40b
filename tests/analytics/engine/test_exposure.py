"""Exposures, concentration and limit utilisation on tiny books computed by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analytics.engine.exposure import (
    UNCLASSIFIED,
    LimitStatus,
    concentration,
    exposures,
    limit_utilisation,
)


def _holdings() -> pd.DataFrame:
    """Two books in one frame.

    Alice (net assets 100): AAPL 50, MSFT in two lots 20 + 10, XOM 40, a TSLA
    short of -30 and a gold ETF of 10 with no sector.
    Bob (net assets 200): AAPL 150, an MSFT short of -50, XOM 100.
    """
    rows = [
        ("alice", "AAPL", 50.0, "Tech", "US"),
        ("alice", "MSFT", 20.0, "Tech", "US"),
        ("alice", "MSFT", 10.0, "Tech", "US"),
        ("alice", "XOM", 40.0, "Energy", "US"),
        ("alice", "TSLA", -30.0, "Consumer", "US"),
        ("alice", "GLD", 10.0, None, "US"),
        ("bob", "AAPL", 150.0, "Tech", "US"),
        ("bob", "MSFT", -50.0, "Tech", "US"),
        ("bob", "XOM", 100.0, "Energy", "US"),
    ]
    return pd.DataFrame(
        rows, columns=["portfolio", "instrument", "market_value_base", "sector", "country"]
    )


def test_sector_exposures_of_a_book_with_a_short():
    result = exposures(_holdings())
    # alice, / 100: Tech 50 + 30 = 0.8 long; Consumer -30 short; GLD unclassified 0.1
    assert result.loc[("alice", "Tech")].tolist() == pytest.approx([0.8, 0.0, 0.8, 0.8])
    assert result.loc[("alice", "Energy")].tolist() == pytest.approx([0.4, 0.0, 0.4, 0.4])
    assert result.loc[("alice", "Consumer")].tolist() == pytest.approx([0.0, -0.3, 0.3, -0.3])
    assert result.loc[("alice", UNCLASSIFIED)].tolist() == pytest.approx([0.1, 0.0, 0.1, 0.1])
    # bob, / 200: Tech long 150 = 0.75, short -50 = -0.25, gross 1.0, net 0.5
    assert result.loc[("bob", "Tech")].tolist() == pytest.approx([0.75, -0.25, 1.0, 0.5])
    assert list(result.columns) == ["long", "short", "gross", "net"]


def test_portfolio_totals_and_net_adds_up_to_one():
    result = exposures(_holdings(), by=None)
    # alice: long 50 + 30 + 40 + 10 = 130, short -30 -> 1.3, -0.3, gross 1.6, net 1.0
    assert result.loc["alice"].tolist() == pytest.approx([1.3, -0.3, 1.6, 1.0])
    # bob: long 250, short -50 over 200 -> 1.25, -0.25, 1.5, 1.0
    assert result.loc["bob"].tolist() == pytest.approx([1.25, -0.25, 1.5, 1.0])
    by_sector = exposures(_holdings(), by="sector")
    assert by_sector["net"].groupby(level="portfolio").sum().tolist() == pytest.approx([1, 1])


def test_lots_are_netted_before_classing_long_or_short():
    book = pd.DataFrame(
        {
            "portfolio": ["carol"] * 3,
            "instrument": ["AAPL", "AAPL", "XOM"],
            "market_value_base": [10.0, -4.0, 4.0],
            "sector": ["Tech", "Tech", "Energy"],
        }
    )
    # AAPL is one long of 6 (not a long of 10 and a short of 4); net assets 10
    assert exposures(book).loc[("carol", "Tech")].tolist() == pytest.approx([0.6, 0.0, 0.6, 0.6])


def test_nested_grouping_and_given_net_assets():
    result = exposures(
        _holdings(), by=["country", "sector"], net_assets=pd.Series({"alice": 200.0, "bob": 0.0})
    )
    # alice's Tech 80 over the accounting NAV of 200
    assert result.loc[("alice", "US", "Tech"), "long"] == pytest.approx(0.4)
    # a non-positive NAV gives NaN, not a huge or sign-flipped number
    assert math.isnan(result.loc[("bob", "US", "Tech"), "net"])


def test_unvalued_holding_is_an_error():
    book = _holdings()
    book.loc[0, "market_value_base"] = np.nan
    with pytest.raises(ValueError, match="without a market value"):
        exposures(book)


def test_concentration_of_a_book_with_a_short():
    result = concentration(_holdings(), top_n=3)
    alice = result.loc["alice"]
    # absolute positions 50, 30 (MSFT lots netted), 40, 30, 10: gross 160
    # top 3: 50 + 40 + 30 = 120 over net assets 100
    assert alice["top_n_weight"] == pytest.approx(1.2)
    # Herfindahl: (50^2 + 30^2 + 40^2 + 30^2 + 10^2) / 160^2 = 6000 / 25600
    assert alice["herfindahl"] == pytest.approx(6000 / 25600)
    assert alice["effective_holdings"] == pytest.approx(25600 / 6000)
    assert alice["holdings"] == 5
    # bob: (150^2 + 50^2 + 100^2) / 300^2 = 35000 / 90000
    assert result.loc["bob", "herfindahl"] == pytest.approx(35000 / 90000)


def test_top_ten_weight_covers_every_holding_of_a_small_book():
    # fewer than ten holdings: all 160 of alice's gross over 100
    assert concentration(_holdings()).loc["alice", "top_n_weight"] == pytest.approx(1.6)


def test_limit_utilisation_statuses():
    values = pd.DataFrame(
        {
            "portfolio": ["alice", "alice", "alice", "alice", "bob"],
            "metric": ["gross", "net", "short", "top_10", "cash"],
            "value": [1.6, 1.0, -0.3, 0.45, 0.0],
        }
    )
    limits = pd.DataFrame(
        {
            "portfolio": ["alice", "alice", "alice", "alice", "bob", "bob"],
            "metric": ["gross", "net", "short", "top_10", "gross", "cash"],
            "limit": [2.0, 1.05, -0.25, 0.5, 1.5, 0.0],
        }
    )
    result = limit_utilisation(values, limits).set_index(["portfolio", "metric"])
    # 1.6 / 2.0 = 0.8; 1.0 / 1.05 = 0.952; -0.3 / -0.25 = 1.2; 0.45 / 0.5 = 0.9 exactly
    assert result["utilisation"].iloc[:4].tolist() == pytest.approx([0.8, 1 / 1.05, 1.2, 0.9])
    assert result["status"].tolist() == [
        LimitStatus.OK,
        LimitStatus.WARNING,
        LimitStatus.BREACH,
        LimitStatus.WARNING,
        LimitStatus.NO_VALUE,  # bob's gross limit has no value: never silently "ok"
        LimitStatus.OK,  # a zero limit with a zero value is unused
    ]


def test_zero_limit_with_a_value_is_a_breach():
    values = pd.DataFrame({"portfolio": ["bob"], "metric": ["crypto"], "value": [0.01]})
    limits = pd.DataFrame({"portfolio": ["bob"], "metric": ["crypto"], "limit": [0.0]})
    result = limit_utilisation(values, limits)
    assert result["utilisation"].iloc[0] == math.inf
    assert result["status"].iloc[0] == LimitStatus.BREACH


def test_limit_utilisation_takes_a_warning_level_per_limit():
    values = pd.DataFrame(
        {"portfolio": ["A", "A"], "metric": ["var", "gross"], "value": [0.018, 1.08]}
    )
    limits = pd.DataFrame(
        {
            "portfolio": ["A", "A"],
            "metric": ["var", "gross"],
            "limit": [0.02, 1.2],
            "warning_level": [0.95, 0.8],
        }
    )
    result = limit_utilisation(values, limits).set_index("metric")
    assert result.loc["var", "utilisation"] == pytest.approx(0.9)
    assert result.loc["var", "status"] == "ok"  # 90 % is below its own 95 % level
    assert result.loc["gross", "status"] == "warning"  # 90 % is above 80 %
