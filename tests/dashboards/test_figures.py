"""The figure builders the dashboards added to the shared figure library."""

import math

import pytest

from analytics.presentation.figures import (
    correlation_heatmap_figure,
    exposure_treemap_figure,
    utilisation_gauges_figure,
)


def test_the_treemap_sizes_sectors_and_issuers_by_absolute_weight():
    # A 30 % long and a 10 % short in one issuer of Energy, 20 % in Utilities:
    # Energy is 40 % by size, the short is drawn as a loss, an unvalued holding is left out.
    figure = exposure_treemap_figure(
        [
            {
                "sector": "Energy",
                "issuer": "Oil Co",
                "name": "Oil A",
                "identifier": "OA",
                "weight": 0.3,
            },
            {
                "sector": "Energy",
                "issuer": "Oil Co",
                "name": "Oil B",
                "identifier": "OB",
                "weight": -0.1,
            },
            {
                "sector": "Utilities",
                "issuer": "Power",
                "name": "Pwr",
                "identifier": "PW",
                "weight": 0.2,
            },
            {
                "sector": "Utilities",
                "issuer": "Power",
                "name": "None",
                "identifier": "NV",
                "weight": None,
            },
        ]
    )
    trace = figure["data"][0]
    value = dict(zip(trace["ids"], trace["values"], strict=True))
    parent = dict(zip(trace["ids"], trace["parents"], strict=True))
    assert value["sector:Energy"] == pytest.approx(0.4)
    assert value["issuer:Energy/Oil Co"] == pytest.approx(0.4)
    assert value["sector:Utilities"] == pytest.approx(0.2)
    assert parent["issuer:Energy/Oil Co"] == "sector:Energy"
    assert parent["sector:Energy"] == ""
    assert not any(node.endswith("/NV") for node in trace["ids"])
    colours = dict(zip(trace["ids"], trace["marker"]["colors"], strict=True))
    assert colours["instrument:Energy/Oil Co/OB"] != colours["instrument:Energy/Oil Co/OA"]


def test_the_correlation_heatmap_keeps_the_matrix_and_a_fixed_scale():
    figure = correlation_heatmap_figure(["A", "B"], [[1.0, -0.5], [-0.5, 1.0]])
    trace = figure["data"][0]
    assert [list(row) for row in trace["z"]] == [[1.0, -0.5], [-0.5, 1.0]]
    assert (trace["zmin"], trace["zmax"]) == (-1, 1)


def test_a_gauge_of_an_unbounded_utilisation_is_a_full_dial_without_a_number():
    figure = utilisation_gauges_figure(
        [
            {"label": "P · Issuer 10%", "utilisation": 0.85, "warning_level": 0.9, "status": "ok"},
            {
                "label": "P · Watch list",
                "utilisation": math.inf,
                "warning_level": 0.9,
                "status": "breach",
            },
        ]
    )
    measured, unbounded = figure["data"]
    assert measured["value"] == 0.85 and measured["mode"] == "gauge+number"
    assert unbounded["mode"] == "gauge"
    assert unbounded["value"] == unbounded["gauge"]["axis"]["range"][1]
    assert "zero limit" in unbounded["title"]["text"]
