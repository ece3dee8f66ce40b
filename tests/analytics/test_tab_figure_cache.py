"""The portfolio tabs keep each figure's JSON in the cache per snapshot row: a second
visit embeds the same figure without building it, a new snapshot (new data version)
gets its own figure, and the portfolio is authorised before any figure is read.
Portfolio, users and snapshots as in ``test_analytics_pages``."""

import copy
import json
import re

import pytest
from django.core.cache import cache

from analytics.presentation import figure_cache, figures
from tests.analytics.test_analytics_pages import (
    data_changed,
    login,
    snapshot_portfolio_build,
    snapshot_store,
    url,
)

PERFORMANCE_FIGURES = ("calendar", "underwater", "rolling")
TAB_FIGURES = {
    "portfolio-detail": ("net-assets", "cumulative"),
    "portfolio-performance": PERFORMANCE_FIGURES,
    "portfolio-risk": ("backtest", "exposure"),
    "portfolio-attribution": ("effects",),
}
BUILDERS = {
    "net-assets": "net_assets_figure",
    "cumulative": "cumulative_return_figure",
    "calendar": "calendar_heatmap_figure",
    "underwater": "underwater_figure",
    "rolling": "rolling_figure",
    "backtest": "var_backtest_figure",
    "exposure": "exposure_figure",
    "effects": "attribution_effects_figure",
}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def snapshotted(growth):
    snapshot_portfolio_build(growth)
    snapshot_store(growth)
    return growth


def embedded(html: str, chart_id: str) -> dict:
    """The figure JSON a page embeds for ``chart_id`` (``json_script`` output)."""
    found = re.search(
        rf'<script id="{chart_id}-figure" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, f"no {chart_id} figure on the page"
    return json.loads(found.group(1))


@pytest.fixture
def builds(monkeypatch):
    """How often each figure builder ran."""
    counts = dict.fromkeys(BUILDERS, 0)

    def counting(chart_id, builder):
        def run(*args, **kwargs):
            counts[chart_id] += 1
            return builder(*args, **kwargs)

        return run

    for chart_id, name in BUILDERS.items():
        monkeypatch.setattr(figures, name, counting(chart_id, getattr(figures, name)))
    return counts


@pytest.mark.parametrize("tab", TAB_FIGURES)
def test_second_visit_embeds_the_same_figures_without_building_them(
    client, alice, snapshotted, builds, tab
):
    login(client, alice)
    first = client.get(url(tab, snapshotted)).content.decode()
    assert all(builds[chart_id] == 1 for chart_id in TAB_FIGURES[tab])

    second = client.get(url(tab, snapshotted)).content.decode()

    for chart_id in TAB_FIGURES[tab]:
        assert builds[chart_id] == 1, f"{chart_id} was built again"
        assert embedded(second, chart_id) == embedded(first, chart_id)


def test_cached_figure_is_the_figure_built_from_the_stored_section(client, alice, snapshotted):
    snapshot = snapshotted.snapshots.get()
    login(client, alice).get(url("portfolio-performance", snapshotted))

    html = client.get(url("portfolio-performance", snapshotted)).content.decode()

    # Built here from the stored section and put through JSON, as the page embeds it.
    expected = figures.underwater_figure(snapshot.result["drawdowns"]["underwater"])
    assert embedded(html, "underwater") == json.loads(json.dumps(expected))


def test_a_new_data_version_gets_a_fresh_figure(client, alice, snapshotted):
    login(client, alice)
    old = embedded(
        client.get(url("portfolio-performance", snapshotted)).content.decode(), "underwater"
    )
    result = copy.deepcopy(snapshotted.snapshots.get().result)
    # A drawdown of 5 % on the second day, recovered by half on the third.
    result["drawdowns"]["underwater"] = {
        "dates": ["2024-01-02", "2024-01-03", "2024-01-04"],
        "values": [0.0, -0.05, -0.025],
    }
    data_changed(snapshotted, status="pending")
    snapshot_store(snapshotted, result=result)

    html = client.get(url("portfolio-performance", snapshotted)).content.decode()

    new = embedded(html, "underwater")
    assert new["data"][0]["x"] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert new["data"][0]["y"] == [0.0, -0.05, -0.025]
    assert new != old


def test_each_grouping_has_its_own_figure(client, alice, snapshotted):
    login(client, alice)
    by_sector = client.get(url("portfolio-risk", snapshotted, by="sector")).content.decode()
    by_country = client.get(url("portfolio-risk", snapshotted, by="country")).content.decode()
    again = client.get(url("portfolio-risk", snapshotted, by="sector")).content.decode()

    # Four stocks in four sectors but three countries (two in the US), and the cash
    # line without either, shown as "(none)".
    sectors = embedded(by_sector, "exposure")["data"][0]["y"]
    countries = embedded(by_country, "exposure")["data"][0]["y"]
    assert len(sectors) == 5
    assert len(countries) == 4
    assert "Energy" in sectors
    assert "Energy" not in countries
    assert embedded(again, "exposure") == embedded(by_sector, "exposure")


def test_outsider_gets_404_with_the_figures_cached(client, alice, mallory, snapshotted):
    login(client, alice).get(url("portfolio-performance", snapshotted))
    client.logout()

    response = login(client, mallory).get(url("portfolio-performance", snapshotted))

    assert response.status_code == 404
    assert "underwater-figure" not in response.content.decode()


def test_an_entry_holds_only_the_figure_of_one_snapshot(client, alice, bob, snapshotted):
    snapshot = snapshotted.snapshots.get()
    alice_html = login(client, alice).get(url("portfolio-performance", snapshotted))
    key = figure_cache.figure_cache_key(
        snapshot=snapshot, figure="underwater", params={"as_of": None}
    )

    entry = cache.get(key)

    assert set(entry) == {"data", "layout"}
    assert "alice" not in json.dumps(entry)
    bob_html = login(client, bob).get(url("portfolio-performance", snapshotted))
    assert embedded(bob_html.content.decode(), "underwater") == embedded(
        alice_html.content.decode(), "underwater"
    )


def test_a_cache_outage_only_costs_the_build(client, alice, snapshotted, monkeypatch, builds):
    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(figure_cache.cache, "get", down)
    monkeypatch.setattr(figure_cache.cache, "set", down)
    login(client, alice)

    for _ in range(2):
        response = client.get(url("portfolio-performance", snapshotted))
        assert response.status_code == 200
        assert embedded(response.content.decode(), "rolling")["data"]
    assert builds["rolling"] == 2
