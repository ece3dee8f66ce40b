"""JSON: the whole document, read back with json."""

import json

from reports.renderers import json as json_renderer
from tests.reports.renderers.sample import sample_document


def test_the_json_holds_the_whole_document(tmp_path):
    document = sample_document()
    rendered = json_renderer.render(document, directory=tmp_path)

    data = json.loads(rendered.path.read_text(encoding="utf-8"))

    assert data["format"] == "portfolio-portal.report"
    assert data["title"] == "Monthly performance"
    assert data["generated_at"] == "2024-04-02T06:15:00+00:00"
    assert data["period_end"] == "2024-03-31"
    assert data["portfolios"][0]["code"] == "GEQ"
    assert data["portfolios"][0]["data_version"] == 7
    assert data["incomplete"] == document.incomplete
    performance, monthly, trades, attribution = data["sections"]
    assert performance["kpis"][0] == {
        "label": "Return (MTD)",
        "value": 0.0123,
        "format": "percent",
        "note": "",
    }
    assert performance["tables"][0]["rows"][3] == ["Since inception", None, 0.8]
    assert monthly["tables"][0]["rows"][0] == ["2024-01-31", 0.0211, 0.0187]
    assert monthly["tables"][0]["chart"]["series"] == ["portfolio", "benchmark"]
    assert len(trades["tables"][0]["rows"]) == 150
    assert attribution["unavailable"].startswith("The benchmark has no")
    assert performance["figures"][0]["figure"]["data"][0]["name"] == "Portfolio"


def test_nan_is_null(tmp_path):
    document = sample_document()
    document.sections[0].tables[0].rows = [("MTD", float("nan"), 0.01)]

    rendered = json_renderer.render(document, directory=tmp_path)

    assert json.loads(rendered.path.read_text())["sections"][0]["tables"][0]["rows"] == [
        ["MTD", None, 0.01]
    ]
