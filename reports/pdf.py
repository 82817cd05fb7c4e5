"""HTML to PDF with WeasyPrint, offline.

Reports are evidence: they must not depend on, or leak to, anything on the network. The fetcher
serves ``data:`` URLs and files under the static directories only, and refuses everything else.
PDF/A-3b is asked for so the files can be archived as they are. WeasyPrint is imported on first
use: it is slow to import and logs while it loads, which no page outside the reports needs.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

PDF_VARIANT = "pdf/a-3b"


def static_roots() -> list[Path]:
    roots = [Path(settings.STATIC_ROOT)] if getattr(settings, "STATIC_ROOT", None) else []
    roots += [
        Path(item if isinstance(item, str | Path) else item[1])
        for item in getattr(settings, "STATICFILES_DIRS", [])
    ]
    return [root.resolve() for root in roots]


def is_allowed(url: str) -> bool:
    """``data:`` URLs, and local files under a static root; nothing from the network."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return True
    if parts.scheme == "file":
        path = Path(unquote(parts.path)).resolve()
        return path.is_file() and any(path.is_relative_to(root) for root in static_roots())
    return False


@cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not is_allowed(url):
                logger.warning("report rendering refused to fetch %s", url)
                raise ValueError(f"External resources are not allowed in reports: {url}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher


def local_only_fetcher() -> Any:
    return _fetcher_class()(allowed_protocols=("data", "file"))


def html_to_pdf(html: str) -> bytes:
    import weasyprint

    # WeasyPrint logs every layout step at INFO; a worker's log needs only its warnings.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    roots = static_roots()
    base = roots[0] if roots else Path(settings.BASE_DIR)
    document = weasyprint.HTML(string=html, base_url=str(base), url_fetcher=local_only_fetcher())
    return document.write_pdf(pdf_variant=PDF_VARIANT)
