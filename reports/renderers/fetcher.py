"""The only door WeasyPrint has to the outside world while it renders a report.

:class:`StaticOnlyFetcher` serves two kinds of URL and refuses every other:

* ``data:`` URLs (inline images and fonts);
* ``file:`` URLs of files inside the portal's static folders, given to it as
  ``roots`` (``STATIC_ROOT`` and the staticfiles finders' folders; the PDF
  renderer resolves them). The path is resolved (``..`` and symbolic links
  followed) before it is checked, so no URL escapes a root.

``http:``, ``https:``, ``ftp:``, any other ``file:`` path (``file:///etc/passwd``)
and every other scheme raise :class:`URLRefused`; WeasyPrint then logs the
resource as missing and renders without it. There is no network access, so
there are no redirects to follow either.

This module imports nothing from Django or the portal (only the standard library
and WeasyPrint), because it is also the program the PDF renderer runs in a child
process with a memory limit (see :func:`serve` and ``reports.renderers.pdf``).
"""

from __future__ import annotations

import json
import mimetypes
import resource
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


class URLRefused(ValueError):
    """A URL that a report may not load; the message names it."""


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher limited to ``data:`` URLs and files under ``roots``."""

    def __init__(self, roots: Iterable[Path | str]) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self.roots = tuple(Path(root).resolve() for root in roots)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self.static_path(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, path.read_bytes(), headers={"Content-Type": content_type}
            )
        raise URLRefused(f"A report may load only the portal's static files, not {url!r}.")

    def static_path(self, url: str) -> Path:
        """The file a ``file:`` URL names, when it lies inside a static root."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise URLRefused(f"A report may not load files from another host: {url!r}.")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise URLRefused(f"A report may load only the portal's static files, not {url!r}.")
        return path


def render_pdf(
    *, html_path: Path, pdf_path: Path, base_url: str, roots: Iterable[Path | str]
) -> int:
    """Render the HTML file at ``html_path`` to ``pdf_path``; the page count."""
    document = HTML(
        string=html_path.read_text(encoding="utf-8"),
        base_url=base_url,
        url_fetcher=StaticOnlyFetcher(roots),
    ).render()
    document.write_pdf(pdf_path)
    return len(document.pages)


def serve() -> None:
    """The child process: renders one job per line of stdin and answers each with
    one line on stdout, until stdin closes. A job is a JSON object (``html_path``,
    ``pdf_path``, ``base_url``, ``roots``, ``memory_bytes``); the answer is
    ``{"pages": n}`` or ``{"error": "<type>: <message>"}``. Before each job the
    process limits its own address space (the soft ``RLIMIT_AS``) to
    ``memory_bytes``, so a render over it fails with ``MemoryError``."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    for line in sys.stdin:
        job = json.loads(line)
        resource.setrlimit(resource.RLIMIT_AS, (int(job["memory_bytes"]), hard))
        try:
            answer: dict[str, object] = {
                "pages": render_pdf(
                    html_path=Path(job["html_path"]),
                    pdf_path=Path(job["pdf_path"]),
                    base_url=job["base_url"],
                    roots=job["roots"],
                )
            }
        except Exception as error:  # the parent reads the message; it never raises here
            answer = {"error": f"{type(error).__name__}: {error}"}
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
