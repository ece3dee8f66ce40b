"""The Content-Security-Policy (django-csp, portal/settings.py): every page allows
only the portal's own scripts, styles, images, fonts and connections, with no
inline script, no eval, no plugin, no framing, and no <base> or form post pointing
elsewhere; CSP_REPORT_ONLY=true sends the same policy report-only. The templates
carry nothing the policy would block, the 500 page's own <style> is allowed by its
hash, and the vendored plotly.js finds the stylesheet and the stand-in that keep it
from injecting <style> elements."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from pathlib import Path

import pytest
from csp.middleware import CSPMiddleware
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from portal.views import server_error
from reports.renderers.html import DEFAULT_ACCENT, document_html
from tests.reports.renderers.sample import sample_document

ROOT = Path(__file__).resolve().parents[2]
PLOTLY = ROOT / "static" / "vendor" / "plotly-strict.min.js"
BUNDLES = [PLOTLY, ROOT / "static" / "vendor" / "plotly-cartesian.min.js"]
PLOTLY_CSS = ROOT / "static" / "vendor" / "plotly.css"

EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    # style="" only (the hash of the empty string): plotly.js clears colour bars so.
    "style-src": [
        "'self'",
        "'unsafe-hashes'",
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    ],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def directives(header: str) -> dict[str, list[str]]:
    """``"a x y; b z"`` as ``{"a": ["x", "y"], "b": ["z"]}``."""
    parsed = {}
    for part in header.split(";"):
        if part.strip():
            name, *values = part.split()
            parsed[name] = values
    return parsed


@pytest.mark.django_db
def test_the_login_page_carries_the_policy():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == EXPECTED
    assert not response.has_header("Content-Security-Policy-Report-Only")


@pytest.mark.django_db
def test_pages_of_a_logged_in_user_carry_the_policy(alice, growth):
    client = Client()
    client.force_login(alice)
    for url in (
        reverse("portfolio-list"),
        reverse("portfolio-detail", args=[growth.id]),
        reverse("portfolio-risk", args=[growth.id]),
        reverse("api-portfolio-list"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert directives(response["Content-Security-Policy"]) == EXPECTED, url


def load_production_settings(monkeypatch, **environment: str):
    """A fresh copy of portal/settings.py read with ``environment`` set (the
    running settings stay as they are)."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_copy", ROOT / "portal" / "settings.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_policy_is_enforced_by_default(monkeypatch):
    monkeypatch.delenv("CSP_REPORT_ONLY", raising=False)
    production = load_production_settings(monkeypatch)
    assert production.CONTENT_SECURITY_POLICY["DIRECTIVES"] == EXPECTED
    assert not hasattr(production, "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    assert "csp.middleware.CSPMiddleware" in production.MIDDLEWARE


@pytest.mark.django_db
def test_report_only_mode_sends_the_same_policy_without_enforcing_it(monkeypatch, settings):
    production = load_production_settings(monkeypatch, CSP_REPORT_ONLY="true")
    assert not hasattr(production, "CONTENT_SECURITY_POLICY")
    del settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = production.CONTENT_SECURITY_POLICY_REPORT_ONLY

    response = Client().get(reverse("login"))

    assert not response.has_header("Content-Security-Policy")
    assert directives(response["Content-Security-Policy-Report-Only"]) == EXPECTED


def test_the_500_page_style_is_allowed_by_its_hash_alone(rf):
    response = CSPMiddleware(server_error)(rf.get("/portfolios/"))

    assert response.status_code == 500
    css = re.search(r"<style>(.*?)</style>", response.content.decode(), re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = directives(response["Content-Security-Policy"])
    assert policy["style-src"] == [*EXPECTED["style-src"], f"'sha256-{digest}'"]
    assert {k: v for k, v in policy.items() if k != "style-src"} == {
        k: v for k, v in EXPECTED.items() if k != "style-src"
    }


@pytest.mark.django_db
def test_the_api_docs_load_their_start_up_script_from_a_url(alice):
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html
    sources = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"[^>]*></script>", html)
    assert len(sources) == len(re.findall(r"<script\b", html)) == 3
    script = client.get(sources[-1].replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


# --- Templates: nothing inline that the policy would block -------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
# Pages never served under the policy: e-mail bodies, and the report's standalone
# HTML file and PDF (document.html styles those inline; on a portal page it uses
# data-style-accent, see static/js/data_styles.js).
NOT_SERVED_UNDER_THE_POLICY = {"reports/email/delivery.html"}
STANDALONE_ONLY = {"reports/document.html"}


COMMENT = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)


def templates() -> list[tuple[str, str]]:
    """Every template's name and text, its comments left out."""
    folder = ROOT / "templates"
    return sorted(
        (str(path.relative_to(folder)), COMMENT.sub("", path.read_text()))
        for path in folder.rglob("*.html")
    )


def test_no_template_runs_inline_script():
    found = {
        name: tag
        for name, text in templates()
        for tag in INLINE_SCRIPT.findall(text)
        if 'type="application/json"' not in tag
    }
    assert found == {}
    assert [name for name, text in templates() if EVENT_HANDLER.search(text)] == []
    assert [name for name, text in templates() if "javascript:" in text.lower()] == []


def test_no_portal_page_sets_inline_styles():
    styled = {
        name for name, text in templates() if STYLE_ATTRIBUTE.search(text) or "<style" in text
    }
    # 500.html: its <style> is allowed by hash (see the 500 test above).
    assert styled == NOT_SERVED_UNDER_THE_POLICY | STANDALONE_ONLY | {"500.html"}


def test_a_report_on_a_portal_page_sets_its_accent_without_inline_style():
    page = document_html(sample_document(), mode="screen")
    assert "<style" not in page
    assert not STYLE_ATTRIBUTE.search(page)
    assert f'data-style-accent="{DEFAULT_ACCENT}"' in page


# --- plotly.js: its styles come from files, not injected <style> elements ----------


@pytest.mark.parametrize("path", BUNDLES, ids=lambda path: path.name)
def test_the_chart_scripts_carry_what_plotly_looks_for_before_injecting_styles(path):
    bundle = path.read_text()
    # Its global rules: skipped when #plotly.js-style-global has class no-inline-styles.
    assert re.search(
        r'var (\w)="plotly\.js-style-"\+\w,(\w)=document\.getElementById\(\1\);'
        r'if\(!\(\2&&\2\.matches\("\.no-inline-styles"\)\)\)',
        bundle,
    )
    # maplibre-gl's sheet: skipped when an element with this id exists.
    injected = re.findall(
        r'document\.getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement'
        r'\("style"\)',
        bundle,
    )
    assert len(injected) == 1
    assert bundle.count('createElement("style")') == 2  # the two above, nothing else

    html = render_to_string("_chart_scripts.html")
    link = re.search(r'<link rel="stylesheet" id="plotly\.js-style-global"[^>]*>', html)
    assert link and 'class="no-inline-styles"' in link.group(0)
    assert "vendor/plotly." in link.group(0)
    assert f'<template id="{injected[0]}"></template>' in html


@pytest.mark.parametrize("path", BUNDLES, ids=lambda path: path.name)
def test_plotly_css_holds_every_rule_of_the_vendored_bundle(path):
    bundle = path.read_text()
    source = re.search(r'=(\{"X,X div":.*?\});for\(', bundle).group(1)
    # "selector":"declarations" (the minifier leaves a one-letter key unquoted).
    rules = re.findall(r'(?:"([^"]+)"|(\w+)):(?:\'([^\']*)\'|"([^"]*)")', source)
    css = PLOTLY_CSS.read_text()
    assert len(rules) == css.count("{") == 66
    for quoted, bare, single, double in rules:
        selector = (quoted or bare).replace("X", ".js-plotly-plot .plotly")
        selector = selector.replace("Y", ".plotly-notifier")
        assert f"{selector}{{{single or double}}}" in css, selector


@pytest.mark.django_db
def test_a_page_with_charts_links_plotly_css_before_the_bundle(client, alice, growth):
    client.force_login(alice)
    html = client.get(reverse("portfolio-performance", args=[growth.id])).content.decode()
    assert html.index('id="plotly.js-style-global"') < html.index("plotly-cartesian.")
