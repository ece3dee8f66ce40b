"""Static files leave the portal under content-hashed names, compressed (Brotli or
gzip, as the browser asks), with a far-future immutable cache; a page with charts
loads one vendored plotly.js bundle once, deferred: the cartesian bundle on the
portfolio, alert and report pages, the strict one on dashboards (neither needs
'unsafe-eval'). Both are the version the Python plotly package expects, and each
draws every trace type of the pages that load it."""

import ast
import datetime as dt
import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest
from django.test import Client
from django.urls import reverse
from plotly.offline import get_plotlyjs_version

from compliance.models import Alert, Rule
from portal.models import AccessLevel, Role
from portal.services import entitlement_grant
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PLOTLY = ROOT / "static" / "vendor" / "plotly-strict.min.js"
CARTESIAN = ROOT / "static" / "vendor" / "plotly-cartesian.min.js"
FIGURES = ROOT / "analytics" / "presentation" / "figures.py"
CHARTS = ROOT / "static" / "js" / "charts.js"
YEAR = 365 * 24 * 60 * 60
SCRIPT = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


def hashed_url(source: Path, name: str) -> str:
    """Django's manifest name: the first 12 hex digits of the file's MD5 before the
    extension (neither file has a URL that post-processing would rewrite)."""
    stem, extension = name.rsplit(".", 1)
    digest = hashlib.md5(source.read_bytes(), usedforsecurity=False).hexdigest()
    return f"/static/{stem}.{digest[:12]}.{extension}"


def fetch(url: str, **headers: str):
    response = Client().get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def cache_max_age(response) -> int:
    match = re.search(r"max-age=(\d+)", response["Cache-Control"])
    assert match, response["Cache-Control"]
    return int(match.group(1))


@pytest.mark.parametrize(
    ("encoding", "decompress"), [("br", brotli.decompress), ("gzip", gzip.decompress)]
)
def test_a_hashed_file_is_served_compressed_and_cached_for_ever(encoding, decompress):
    response, body = fetch(
        hashed_url(PLOTLY, "vendor/plotly-strict.min.js"),
        HTTP_ACCEPT_ENCODING=f"{encoding}, identity",
    )
    assert response.status_code == 200
    assert response["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response["Vary"]
    assert "immutable" in response["Cache-Control"]
    assert cache_max_age(response) >= YEAR
    assert response["Content-Type"].startswith("text/javascript")
    # Compression pays: the 5 MB bundle crosses the network at under a third.
    assert len(body) < PLOTLY.stat().st_size / 3
    assert decompress(body) == PLOTLY.read_bytes()


def test_a_browser_that_asks_for_no_compression_gets_the_file_as_it_is():
    response, body = fetch(hashed_url(CHARTS, "js/charts.js"))
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert "immutable" in response["Cache-Control"]
    assert body == CHARTS.read_bytes()


def test_only_the_hashed_names_are_served():
    response, _ = fetch("/static/js/charts.js", HTTP_ACCEPT_ENCODING="br")
    assert response.status_code == 404


def chart_scripts(html: str) -> list[str]:
    return [tag for tag in SCRIPT.findall(html) if "src=" in tag]


def assert_plotly_once_then_charts_deferred(html: str, bundle: Path = CARTESIAN) -> None:
    scripts = chart_scripts(html)
    plotly = hashed_url(bundle, f"vendor/{bundle.name}")
    charts = hashed_url(CHARTS, "js/charts.js")
    assert [tag for tag in scripts if "plotly" in tag] == [f'<script defer src="{plotly}">']
    assert scripts.count(f'<script defer src="{charts}">') == 1
    # Deferred scripts run in document order: plotly.js before the drawing code.
    assert html.index(plotly) < html.index(charts)


@pytest.mark.django_db
def test_a_portfolio_tab_loads_plotly_once_deferred(client, alice, growth):
    client.force_login(alice)
    for name in ("portfolio-detail", "portfolio-performance", "portfolio-risk"):
        response = client.get(reverse(name, args=[growth.id]))
        assert response.status_code == 200, name
        assert_plotly_once_then_charts_deferred(response.content.decode())


@pytest.mark.django_db
def test_an_alert_page_loads_plotly_once_deferred(client, growth):
    officer = UserFactory(username="olivia", role=Role.COMPLIANCE_OFFICER)
    entitlement_grant(actor=None, portfolio=growth, user=officer, level=AccessLevel.VIEW)
    rule = Rule.objects.create(name="Max 10%", kind="max_instrument_weight", limit=0.1)
    alert = Alert.objects.create(
        rule=rule,
        portfolio=growth,
        severity="breach",
        opened_on=dt.date(2024, 3, 4),
        last_observed_on=dt.date(2024, 3, 4),
        first_utilisation=1.2,
        last_utilisation=1.2,
        peak_utilisation=1.2,
    )
    client.force_login(officer)
    response = client.get(reverse("compliance:alert-detail", args=[alert.id]))
    assert response.status_code == 200
    assert_plotly_once_then_charts_deferred(response.content.decode())


@pytest.mark.django_db
def test_a_chart_free_page_loads_no_plotly(client, alice):
    client.force_login(alice)
    response = client.get(reverse("portfolio-list"))
    assert response.status_code == 200
    assert not [tag for tag in chart_scripts(response.content.decode()) if "plotly" in tag]


@pytest.mark.django_db
def test_a_dashboard_loads_the_strict_bundle_once_deferred(client, alice):
    from dashboards.selectors import dashboard_landing_for

    client.force_login(alice)
    landing = dashboard_landing_for(user=alice)
    response = client.get(reverse("dashboards:detail", args=[landing.pk]))
    assert response.status_code == 200
    assert_plotly_once_then_charts_deferred(response.content.decode(), PLOTLY)


@pytest.mark.parametrize(("bundle", "name"), [(PLOTLY, "strict"), (CARTESIAN, "cartesian")])
def test_each_vendored_bundle_is_the_plotly_js_of_the_python_package(bundle, name):
    header = bundle.read_text()[:200]
    version = re.search(rf"plotly\.js \({name} - minified\) v(\d+\.\d+\.\d+)", header)
    assert version, header
    assert version.group(1) == get_plotlyjs_version()


def traces_in(tree: ast.AST) -> set[str]:
    """The ``go.<Trace>(...)`` calls under ``tree``, as plotly.js type names."""
    return {
        node.func.attr.lower()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "go"
        and node.func.attr != "Figure"
    }


def trace_types_built_by(*packages: str) -> set[str]:
    """Every trace type the code of ``packages`` builds, itself or through the
    figure library's functions it calls (followed through their own calls)."""
    library = ast.parse(FIGURES.read_text())
    functions = {n.name: n for n in library.body if isinstance(n, ast.FunctionDef)}

    def called(tree: ast.AST) -> set[str]:
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)  # figures.<function>(...)
        return names & functions.keys()

    types, seen = set(), set()
    pending = []
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            if path == FIGURES:
                continue
            tree = ast.parse(path.read_text())
            types |= traces_in(tree)
            pending += called(tree)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            types |= traces_in(functions[name])
            pending += called(functions[name])
    return types


def bundle_trace_types(bundle: Path) -> set[str]:
    return set(re.findall(r'name:"(\w+)",basePlotModule', bundle.read_text()))


def test_each_bundle_draws_every_trace_type_of_the_pages_that_load_it():
    everything = trace_types_built_by("portal", "analytics", "compliance", "reports", "dashboards")
    assert {"scatter", "bar", "heatmap", "treemap", "indicator"} <= everything
    assert everything <= bundle_trace_types(PLOTLY), everything - bundle_trace_types(PLOTLY)
    pages = trace_types_built_by("portal", "analytics", "compliance", "reports")
    assert {"scatter", "bar", "heatmap"} <= pages
    assert pages <= bundle_trace_types(CARTESIAN), pages - bundle_trace_types(CARTESIAN)
