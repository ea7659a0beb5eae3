"""HTML to PDF on the server (WeasyPrint), shared by estimates and intake acts."""

from __future__ import annotations

from PIL import ImageFile


def render_pdf(html: str, *, base_url: str) -> bytes:
    from weasyprint import HTML

    # Importing WeasyPrint switches Pillow, process-wide, to accepting truncated images.
    # Drivers' uploads must never be accepted half-received, so the flag goes back off.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return HTML(string=html, base_url=base_url).write_pdf()
