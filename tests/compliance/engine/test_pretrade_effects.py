"""What a trade does to each rule, from before/after utilisations worked by hand."""

import numpy as np
import pandas as pd
import pytest

from compliance.engine.pretrade import Effect, instrument_group_weights, trade_effects


def effects(rows, reducing_only=None):
    before_status, before, after_status, after = zip(*rows, strict=True)
    return list(
        trade_effects(
            before_status=before_status,
            before_utilisation=before,
            after_status=after_status,
            after_utilisation=after,
            reducing_only=reducing_only,
        )
    )


def test_a_breach_the_trade_leaves_alone_is_unchanged_not_caused():
    # A sector at 60 % against 30 % (200 %) before and after a 1-share buy elsewhere.
    assert effects([("breach", 2.0, "breach", 2.0)]) == [Effect.UNCHANGED]


def test_a_sale_that_cuts_a_breach_from_292_to_160_percent_reduces_it():
    # One name at 73 % of net assets against 25 %: 0.73 / 0.25 = 2.92; sold down to
    # 40 %: 0.40 / 0.25 = 1.60, still beyond the limit but less so.
    assert effects([("breach", 0.73 / 0.25, "breach", 0.40 / 0.25)]) == [Effect.REDUCES]


def test_causes_worsens_and_cures():
    assert effects(
        [
            ("ok", 0.5, "breach", 1.2),  # within, then beyond: caused
            ("breach", 1.2, "breach", 1.3),  # further beyond: worsened
            ("breach", 1.2, "ok", 0.8),  # back within: cured
            ("ok", 0.5, "warning", 0.95),
            ("ok", 0.5, "ok", 0.6),
        ]
    ) == [Effect.CAUSES, Effect.WORSENS, Effect.CURES, Effect.WARNING, Effect.OK]


def test_an_acquisition_test_already_failed_by_the_market_is_unchanged_by_a_neutral_trade():
    # 75-5-10 at 70 % qualifying (0.75 / 0.70 = 1.0714): restricted before and after.
    assert effects([("restricted", 0.75 / 0.70, "restricted", 0.75 / 0.70)]) == [Effect.UNCHANGED]
    # A purchase that takes it to 65 % is settled a breach by classify_trades: worsened.
    assert effects([("restricted", 0.75 / 0.70, "breach", 0.75 / 0.65)]) == [Effect.WORSENS]


def test_rounding_noise_is_not_a_change():
    assert effects([("breach", 1.5, "breach", 1.5 * (1 + 1e-12))]) == [Effect.UNCHANGED]


def test_a_rule_restricted_to_reducing_trades_refuses_a_trade_that_does_not_reduce_it():
    rows = [("breach", 1.2, "breach", 1.2), ("breach", 1.2, "breach", 1.1), ("ok", 0.5, "ok", 0.5)]
    assert effects(rows, reducing_only=[True, True, True]) == [
        Effect.NOT_REDUCING,
        Effect.REDUCES,
        Effect.NOT_REDUCING,
    ]


def test_every_group_of_the_instrument_before_and_after():
    # Net assets 100,000: AAA (Tech, US, USD) 60,000, BBB (Energy, GB, GBP) 5,000,
    # USD cash 35,000. Buying one BBB at 50 moves 50 from cash into BBB.
    def frame(bbb, cash):
        return pd.DataFrame(
            {
                "portfolio": [1, 1, 1],
                "instrument": [10, 20, 99],
                "identifier": ["AAA", "BBB", "CASH_USD"],
                "market_value_base": [60_000.0, bbb, cash],
                "quantity": [600.0, bbb / 50, cash],
                "issuer": ["AAA Inc", "BBB plc", ""],
                "issuer_group": ["", "Holdco", ""],
                "sector": ["Tech", "Energy", ""],
                "country": ["US", "GB", ""],
                "asset_class": ["equity", "equity", "cash"],
                "currency": ["USD", "GBP", "USD"],
            }
        )

    before, after = frame(5_000.0, 35_000.0), frame(5_050.0, 34_950.0)
    bbb = after.iloc[1].to_dict()
    weights = {
        (g.attribute, g.group): (g.before, g.after)
        for g in instrument_group_weights(before=before, after=after, instrument=bbb)
    }
    assert weights == {
        ("instrument", "BBB"): pytest.approx((0.05, 0.0505)),
        ("issuer", "BBB plc"): pytest.approx((0.05, 0.0505)),
        ("issuer_group", "Holdco"): pytest.approx((0.05, 0.0505)),
        ("sector", "Energy"): pytest.approx((0.05, 0.0505)),
        ("country", "GB"): pytest.approx((0.05, 0.0505)),
        ("currency", "GBP"): pytest.approx((0.05, 0.0505)),
    }
    aaa = before.iloc[0].to_dict()
    weights = {
        (g.attribute, g.group): g.before
        for g in instrument_group_weights(before=before, after=before, instrument=aaa)
    }
    # USD is AAA's 60,000 plus the 35,000 of USD cash: 95 % (cash is a currency exposure).
    assert weights[("currency", "USD")] == pytest.approx(0.95)
    assert weights[("sector", "Tech")] == pytest.approx(0.60)
    assert ("issuer_group", "") not in weights  # no group: the issuer is its own body
    assert np.isfinite(weights[("instrument", "AAA")])
