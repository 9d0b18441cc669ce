"""Writing the report: PDF (Qt's own writer, A4, page numbers), one self-contained HTML
file, or Markdown with a ``figures/`` folder. All three come from the same blocks
(``core.report.document``) and the same figures (``figures.render_png``)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from digitpad.core.machine.files import replacing, write_bytes, write_failure, write_text
from digitpad.core.report.document import Document, FigureData, to_html, to_markdown
from digitpad.render.report_figures import render_png

FORMATS = ("pdf", "html", "md")
PDF_DPI = 300
# A figure's width in the PDF's HTML units: two side by side across an A4 text column.
PDF_FIGURE_WIDTH = 300


class ExportError(RuntimeError):
    """The report could not be written; the message names the file and the fix."""


def format_of(out: Path) -> str:
    """``pdf``, ``html`` or ``md`` from the target: a ``.pdf``/``.html``/``.md`` file, or a
    folder (Markdown: ``report.md`` and ``figures/`` inside)."""
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        return "pdf"
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in (".md", ".markdown") or suffix == "":
        return "md"
    raise ExportError(
        f"cannot tell the format of {out}: name a .pdf or .html file, or a folder (Markdown)"
    )


def export(doc: Document, out: str | os.PathLike) -> Path:
    """Write ``doc`` to ``out`` in the format its name says; returns the main file written."""
    out = Path(out)
    kind = format_of(out)
    if not out.parent.is_dir():
        raise ExportError(f"the folder {out.parent} does not exist; create it first")
    figures = {f.key: render_png(f) for f in doc.figures}
    # Each file is written whole, then renamed into place: a failure leaves the old one.
    try:
        if kind == "pdf":
            write_pdf(doc, figures, out)
            return out
        if kind == "html":
            return write_text(out, html_page(doc, figures))
        return write_markdown(doc, figures, out)
    except OSError as exc:
        raise ExportError(write_failure(out, exc)) from exc


def html_page(doc: Document, figures: dict[str, bytes]) -> str:
    """One self-contained HTML page: every figure inline as a data URL."""

    def data_url(figure: FigureData) -> str:
        return "data:image/png;base64," + base64.b64encode(figures[figure.key]).decode("ascii")

    return to_html(doc, data_url)


def write_markdown(doc: Document, figures: dict[str, bytes], out: Path) -> Path:
    """``report.md`` (or the named .md file) and its figures in ``figures/`` beside it."""
    if out.suffix == "":
        out.mkdir(exist_ok=True)
        out = out / "report.md"
    folder = out.parent / "figures"
    folder.mkdir(exist_ok=True)
    for key, png in figures.items():
        write_bytes(folder / f"{key}.png", png)
    return write_text(out, to_markdown(doc, lambda f: f"figures/{f.key}.png"))


def write_pdf(doc: Document, figures: dict[str, bytes], out: Path) -> None:
    """A4 pages with 2 cm margins and page numbers; figures as print-resolution images;
    each exercise on a new page."""
    text = QTextDocument()
    for key, png in figures.items():
        image = QImage.fromData(png, "PNG")
        text.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"figure:{key}"), image)
    text.setHtml(to_html(doc, lambda f: f"figure:{f.key}", PDF_FIGURE_WIDTH, page_breaks=True))
    with replacing(out) as partial:
        _print_pdf(text, doc.title, partial)


def _print_pdf(text: QTextDocument, title: str, out: Path) -> None:
    """Print ``text`` to ``out`` and check it is a whole PDF: Qt's writer reports no error
    (a full disk leaves a truncated file), so the file's end is read back."""
    writer = QPdfWriter(str(out))
    writer.setTitle(title)
    writer.setCreator("DigitPad")
    writer.setResolution(PDF_DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
        )
    )
    # QTextDocument.print_ lays the text out on pages of the writer's size, with its own
    # 2 cm margins and the page number at the foot of each page.
    text.setPageSize(QSizeF())  # unpaginated: print_ paginates a copy
    text.print_(writer)
    del writer  # closes the file
    if not pdf_is_whole(out):
        raise OSError(f"the PDF came out incomplete (no end of file marker in {out.name})")


def pdf_is_whole(path: Path) -> bool:
    """True if ``path`` is a PDF that ends as one does (``%%EOF`` in its last bytes)."""
    try:
        with open(path, "rb") as pdf:
            head = pdf.read(5)
            pdf.seek(max(0, path.stat().st_size - 1024))
            tail = pdf.read()
    except OSError:
        return False
    return head == b"%PDF-" and b"%%EOF" in tail
