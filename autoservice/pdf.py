"""HTML to PDF on the server (WeasyPrint), shared by estimates and intake acts."""

from __future__ import annotations

from PIL import ImageFile

from .outbound import outbound_request

# A picture or stylesheet the HTML refers to by URL: fetched under the outbound policy.
RESOURCE_MAX_BYTES = 5 * 1024 * 1024
RESOURCE_TIMEOUT_S = 10


def render_pdf(html: str, *, base_url: str) -> bytes:
    from weasyprint import HTML

    # Importing WeasyPrint switches Pillow, process-wide, to accepting truncated images.
    # Drivers' uploads must never be accepted half-received, so the flag goes back off.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return HTML(string=html, base_url=base_url, url_fetcher=_outbound_fetcher()).write_pdf()


def _outbound_fetcher():
    """WeasyPrint's resource fetcher: `data:` URIs as they are, http(s) only through the
    outbound policy (never an internal address), nothing else (no `file:`). A refused or
    failed resource is left out of the PDF; WeasyPrint logs it and goes on."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OutboundFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme not in ("http", "https"):
                raise ValueError(f"not fetched for a PDF: {scheme}:")
            response = outbound_request(
                "GET", url, timeout_s=RESOURCE_TIMEOUT_S, max_bytes=RESOURCE_MAX_BYTES
            )
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            return URLFetcherResponse(
                response.url, response.body, dict(response.headers), response.status
            )

    return OutboundFetcher(allowed_protocols=("data",), allow_redirects=False)
