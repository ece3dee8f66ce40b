"""HTML: the same templates on screen (plotly.js) and in print (SVG), escaped."""

from django.template.loader import render_to_string

from reports.document import Figure, Section
from reports.renderers import html
from reports.renderers.svg import ChartUnavailable
from tests.reports.renderers.sample import sample_document


class DrawnCharts:
    """Draws every chart as a fixed SVG, as kaleido would."""

    def svg(self, figure, *, width, height):
        size = f'width="{width}" height="{height}"'
        return f'<svg xmlns="http://www.w3.org/2000/svg" {size}><path d="M0 0L10 10"/></svg>'


class NoBrowser:
    def svg(self, figure, *, width, height):
        raise ChartUnavailable("Charts are drawn by Chromium, which is not installed at /nowhere.")


def test_screen_mode_hands_charts_to_plotly_js():
    page = html.document_html(sample_document(), mode="screen")

    assert 'class="chart ' in page or 'class="chart"' in page
    assert 'id="section-1-performance_summary-geq-cumulative-figure"' in page
    assert "<svg" not in page
    assert "<html" not in page  # the article alone, for a portal page


def test_print_mode_inlines_svg_and_the_stylesheet(tmp_path, monkeypatch):
    monkeypatch.setattr(html, "chart_exporter", DrawnCharts)
    rendered = html.render(sample_document(), directory=tmp_path)

    page = rendered.path.read_text(encoding="utf-8")
    assert rendered.warnings == ()
    assert page.startswith("<!DOCTYPE html>") or "<!DOCTYPE html>" in page[:400]
    assert '<path d="M0 0L10 10"/>' in page
    assert ".report-table thead { display: table-header-group; }" in page
    assert "29.99%" in page and "-0.22%" in page


def test_everything_from_the_data_is_escaped(tmp_path, monkeypatch):
    monkeypatch.setattr(html, "chart_exporter", DrawnCharts)
    hostile = "<script>alert(1)</script>"
    document = sample_document(title=hostile, incomplete=[hostile])
    document.sections[0].notes = [hostile]
    document.sections[3].unavailable = hostile

    page = html.render(document, directory=tmp_path).path.read_text()

    assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_incomplete_data_banner_names_the_gaps():
    page = html.document_html(sample_document(), mode="screen")

    assert "Incomplete data" in page
    assert "no prices after 2024-03-28 (3 valuation days missing)" in page


def test_a_chart_that_cannot_be_drawn_is_a_note_and_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(html, "chart_exporter", NoBrowser)

    rendered = html.render(sample_document(), directory=tmp_path)

    page = rendered.path.read_text()
    assert "This chart could not be drawn. Charts are drawn by Chromium" in page
    assert len(rendered.warnings) == 1
    assert "Cumulative return vs benchmark" in rendered.warnings[0]


def test_a_bad_accent_colour_never_reaches_the_stylesheet():
    document = sample_document()
    document.layout = type(document.layout)(accent_colour="red;}</style><script>")

    assert html.accent_colour(document) == html.DEFAULT_ACCENT


def test_a_block_without_a_fragment_uses_the_generic_section():
    assert html.section_template("no-such-block") == "reports/blocks/_section.html"


def test_long_tables_are_shortened_on_screen_with_a_note():
    rendering = html.document_rendering(sample_document(), mode="screen", row_limit=10)
    trades = rendering.context["sections"][2][0].tables[0]

    assert len(trades.rows) == 10
    assert trades.total_rows == 150
    page = render_to_string("reports/document.html", rendering.context)
    assert "Showing the first 10 of 150 rows; the XLSX and CSV files hold every row." in page


def test_a_section_without_figures_or_tables_still_renders():
    document = sample_document(
        sections=[Section(key="note-ALL", block="note", title="Note", notes=["Only a note."])]
    )
    document.sections[0].figures.append(Figure("f", "F", {"data": [], "layout": {}}))

    page = html.document_html(document, mode="screen")

    assert "Only a note." in page
