"""PDF: opened with pypdf and pdftotext, the numbers typed into the sample present
as text, charts as vector paths, and the fetcher refusing anything but static files."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from reports.renderers import pdf
from reports.renderers.fetcher import StaticOnlyFetcher, URLRefused
from reports.renderers.svg import ChartExporter, chromium_path
from tests.reports.renderers.sample import sample_document

needs_chromium = pytest.mark.skipif(
    not Path(chromium_path()).is_file(), reason="Chromium draws the charts"
)
STATIC = Path(settings.BASE_DIR) / "static"


@pytest.fixture(scope="module")
def exporter():
    charts = ChartExporter()
    yield charts
    charts.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, exporter):
    if not Path(chromium_path()).is_file():
        pytest.skip("Chromium draws the charts")
    directory = tmp_path_factory.mktemp("pdf")
    return pdf.render(sample_document(), directory=directory, exporter=exporter)


def _pages_text(path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


@needs_chromium
def test_the_pdf_shows_the_numbers_as_text(rendered):
    reader = PdfReader(rendered.path)
    text = "\n".join(page.extract_text() for page in reader.pages)

    assert rendered.pages == len(reader.pages)
    for shown in ("1.23%", "1.01%", "-0.22%", "29.99%", "25.12%", "80.00%", "1.27", "-12.50"):
        assert shown in text
    assert "Global Equity Fund" in text
    assert "The benchmark has no constituent weights for March 2024." in text
    assert "For professional investors only." in text


@needs_chromium
def test_cover_contents_and_running_headers(rendered):
    pages = _pages_text(rendered.path)

    # Cover, header with contents, the sections: 150 trade rows need three more pages.
    assert len(pages) >= 5
    assert "Monthly performance" in pages[0] and "Page 1 of" not in pages[0]
    contents = pages[1]
    assert "Contents" in contents
    for title in ("Performance summary", "Monthly returns", "Trades", "Brinson attribution"):
        line = next(line for line in contents.splitlines() if line.strip().startswith(title))
        page_number = int(line.rsplit(".", 1)[-1])
        assert title in pages[page_number - 1]
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} of {len(pages)}" in page
        assert "Data as of 2024-03-28" in page
        assert "Run 2024-04-02 06:15 UTC" in page


@needs_chromium
def test_a_table_split_across_pages_repeats_its_header(rendered):
    pages = [page for page in _pages_text(rendered.path) if "Instrument 1" in page]

    assert len(pages) >= 2
    for page in pages:
        assert "Realised P&L (USD)" in page


def _content(reader_object) -> bytes:
    """A page's or form's content stream, with the forms it draws inlined."""
    data = reader_object.get_data() if hasattr(reader_object, "get_data") else b""
    resources = reader_object.get("/Resources") or {}
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject["/Subtype"] == "/Form":
            data += _content(xobject)
    return data


@needs_chromium
def test_charts_are_vector_graphics(rendered):
    reader = PdfReader(rendered.path)
    page = next(p for p in reader.pages if "Cumulative return vs benchmark" in p.extract_text())

    images = []
    stream = page.get_contents().get_data()
    resources = page["/Resources"]
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject["/Subtype"] == "/Image":
            images.append(xobject)
        else:
            stream += _content(xobject)
    assert images == []
    # The two 90-point lines and the grid are drawn as paths: line-to operators.
    assert stream.count(b" l\n") + stream.count(b" l ") >= 150
    assert "Jan 14" in page.extract_text()  # axis labels are text, not pixels


def test_without_chromium_the_pdf_renders_with_a_note_and_a_warning(tmp_path):
    rendered = pdf.render(
        sample_document(), directory=tmp_path, exporter=ChartExporter(browser="/nowhere/chromium")
    )

    text = "\n".join(page.extract_text() for page in PdfReader(rendered.path).pages)
    assert "This chart could not be drawn." in text
    assert "not installed at /nowhere/chromium" in text
    assert rendered.warnings and "Cumulative return vs benchmark" in rendered.warnings[0]


def test_landscape_layout_gives_landscape_pages(tmp_path):
    document = sample_document(sections=sample_document().sections[1:2])
    document.layout = type(document.layout)(orientation="landscape", cover_page=False)

    rendered = pdf.render(document, directory=tmp_path, exporter=ChartExporter(browser="/nowhere"))

    box = PdfReader(rendered.path).pages[0].mediabox
    assert float(box.width) > float(box.height)


def test_the_fetcher_refuses_files_outside_static_and_the_network():
    fetcher = StaticOnlyFetcher([STATIC])

    with pytest.raises(URLRefused):
        fetcher.fetch("file:///etc/passwd")
    with pytest.raises(URLRefused):
        fetcher.fetch("http://example.com/logo.png")
    with pytest.raises(URLRefused):
        fetcher.fetch("https://example.com/report.css")
    with pytest.raises(URLRefused):
        fetcher.fetch(f"file://{STATIC}/css/../../pyproject.toml")
    with pytest.raises(URLRefused):
        fetcher.fetch("ftp://example.com/x")


def test_the_fetcher_serves_static_files_and_data_urls():
    fetcher = StaticOnlyFetcher([STATIC])

    stylesheet = fetcher.fetch((STATIC / "css" / "report.css").as_uri())
    assert b".report-table" in stylesheet.read()
    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"


def test_a_symbolic_link_out_of_static_is_refused(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    (root / "passwd").symlink_to("/etc/passwd")

    with pytest.raises(URLRefused):
        StaticOnlyFetcher([root]).fetch((root / "passwd").as_uri())


def test_a_document_naming_forbidden_urls_renders_without_them(tmp_path):
    html = (
        '<html><head><link rel="stylesheet" href="http://127.0.0.1:9/evil.css"></head><body>'
        '<img src="file:///etc/passwd"><p>Still here</p></body></html>'
    )

    pdf.html_to_pdf(html=html, pdf_path=tmp_path / "out.pdf")

    text = PdfReader(tmp_path / "out.pdf").pages[0].extract_text()
    assert "Still here" in text
    assert "root:" not in text


def test_a_render_over_its_memory_limit_fails_readably(tmp_path, settings):
    settings.REPORT_PDF_MEMORY_MB = 64

    # Far more than the limit: a million words to lay out.
    html = ("<p>" + "word " * 200 + "</p>") * 5000
    with pytest.raises(pdf.PdfRenderError, match="more than 64 MiB"):
        pdf.html_to_pdf(html=html, pdf_path=tmp_path / "out.pdf")
    # The next render gets a fresh renderer and succeeds.
    settings.REPORT_PDF_MEMORY_MB = 2048
    assert pdf.html_to_pdf(html="<p>after</p>", pdf_path=tmp_path / "after.pdf") == 1


def test_a_render_over_its_time_limit_fails_readably(tmp_path):
    with pytest.raises(pdf.PdfRenderError, match="longer than"):
        pdf.html_to_pdf(html="<p>late</p>", pdf_path=tmp_path / "out.pdf", timeout=0.001)


def test_pdftotext_is_available():
    assert shutil.which("pdftotext"), "poppler-utils (make system-packages) reads the PDFs"


def test_a_started_renderer_is_ready_and_serves_the_next_render(tmp_path, monkeypatch):
    process = pdf.WeasyPrintProcess()
    monkeypatch.setattr(pdf, "_process", process)
    try:
        process.start()  # what a reports worker does as it starts
        child = process._process
        assert child is not None and child.poll() is None

        assert pdf.html_to_pdf(html="<p>first report</p>", pdf_path=tmp_path / "one.pdf") == 1
        assert process._process is child  # no second start for the first report
        assert "first report" in PdfReader(tmp_path / "one.pdf").pages[0].extract_text()
    finally:
        process.close()
