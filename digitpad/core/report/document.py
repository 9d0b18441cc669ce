"""The report as a list of blocks (headings, text, tables, figures, answers), and the two
text writers: Markdown and HTML. The PDF is this HTML laid out by Qt (``ui.report``), so
every export says the same thing from the same blocks.

Text in blocks may use three bits of Markdown: ``code``, **bold** and *italic*.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from digitpad.core.machine.markdown import markdown_table


@dataclass(frozen=True)
class Series:
    """One line of a figure; ``style``: ``ours`` (bold, marked), ``report`` (grey, dashed),
    ``run`` (thin, one colour per run), ``alt`` (dashed, in the run's colour), ``points``
    (grey dots, no line: a class's students) or ``picked`` (one student's, large)."""

    name: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    style: str = "ours"
    colour: int = 0


@dataclass(frozen=True)
class FigureData:
    """A plot as data: what ``ui.report.figures`` draws with pyqtgraph. ``key`` names its
    file (``ex1-accuracy``); ``ticks`` label x positions (a sweep's columns)."""

    key: str
    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    ticks: tuple[tuple[float, str], ...] = ()
    log_x: bool = False


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Text; ``role`` ``question`` is set in italics, ``small`` in a smaller type."""

    text: str
    role: str = "text"


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True)
class Table:
    """A table: its header and rows of cells (a lab table's first cell names its row)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figures:
    """Figures set side by side (two to a row on a page)."""

    figures: tuple[FigureData, ...]


@dataclass(frozen=True)
class Answer:
    """The student's answer to one exercise (empty: not written yet)."""

    text: str
    title: str = "Your answer"


@dataclass(frozen=True)
class Code:
    """A program and, when it was run, what it printed: highlighted in HTML and the PDF,
    a fenced block in Markdown. ``title`` names it (the file it is)."""

    source: str
    title: str = ""
    output: str = ""
    language: str = "python"


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Bullets | Table | Figures | Answer | Code | PageBreak


@dataclass
class Document:
    """A report: its title, blocks, and the figures they hold in order."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def figures(self) -> list[FigureData]:
        return [f for b in self.blocks if isinstance(b, Figures) for f in b.figures]


NO_ANSWER = "(No answer written yet.)"
CODE_PT = 7  # code's size in the report: 88 characters fit a line of an A4 page
_CELL = "font-size: 8pt; white-space: nowrap"

# --- Markdown -------------------------------------------------------------------------------


def to_markdown(doc: Document, figure_link: Callable[[FigureData], str]) -> str:
    """The report as Markdown; ``figure_link`` gives each figure's relative path."""
    out = [f"# {doc.title}", ""]
    for block in doc.blocks:
        match block:
            case Heading(text, level):
                out += ["#" * level + " " + text, ""]
            case Paragraph(text, role):
                out += [f"*{text}*" if role == "question" else text, ""]
            case Bullets(items, title):
                out += ([f"**{title}**", ""] if title else []) + [f"- {i}" for i in items] + [""]
            case Table(header, rows):
                out += [*markdown_table(header, rows), ""]
            case Figures(figures):
                out += [f"![{f.title}]({figure_link(f)})" for f in figures] + [""]
            case Answer(text, title):
                body = [
                    f"> {line}" if line else ">" for line in (text.strip() or NO_ANSWER).split("\n")
                ]
                out += [f"**{title}**", "", *body, ""]
            case Code(source, title, output, language):
                out += [f"**{title}**", ""] if title else []
                out += [f"```{language}", source.rstrip("\n"), "```", ""]
                if output:
                    out += ["It printed:", "", "```text", output.rstrip("\n"), "```", ""]
            case PageBreak():
                pass
    return "\n".join(out).rstrip() + "\n"


# --- HTML -----------------------------------------------------------------------------------

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 10pt; color: #222;
       max-width: 60em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 20pt; } h2 { font-size: 15pt; margin-top: 1.2em; } h3 { font-size: 12pt; }
table.lab { border-collapse: collapse; margin: 0.6em 0; }
table.lab td, table.lab th { border: 1px solid #999; padding: 3px 6px; text-align: center;
                             font-size: 9pt; }
table.lab td:first-child { text-align: left; }
table.lab th { background: #eef; }
table.figures td { padding: 4px; vertical-align: top; }
p.question { font-style: italic; }
p.small { font-size: 8.5pt; color: #555; }
div.answer { border-left: 4px solid #36c; background: #f4f7ff; padding: 4px 10px; }
code { font-family: 'DejaVu Sans Mono', monospace; }
"""


def to_html(
    doc: Document,
    figure_src: Callable[[FigureData], str],
    figure_width: int = 440,
    page_breaks: bool = False,
) -> str:
    """The report as one HTML page; ``figure_src`` gives each image's ``src`` (a data URL
    for a self-contained file, a resource name for Qt's PDF layout). ``page_breaks``: start
    each section at ``PageBreak`` on a new page (for print)."""
    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{html.escape(doc.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(doc.title)}</h1>",
    ]
    out.append(blocks_html(doc.blocks, figure_src, figure_width, page_breaks))
    out.append("</body></html>")
    return "\n".join(out)


def blocks_html(
    blocks: Sequence[Block],
    figure_src: Callable[[FigureData], str] | None = None,
    figure_width: int = 440,
    page_breaks: bool = False,
    code_pt: float = CODE_PT,
) -> str:
    """Blocks as HTML body text (figures left out without ``figure_src``; code in a
    ``code_pt`` monospace)."""
    out: list[str] = []
    pending_break = False
    for block in blocks:
        if isinstance(block, PageBreak):
            pending_break = page_breaks
            continue
        style = ' style="page-break-before: always"' if pending_break else ""
        pending_break = False
        match block:
            case Heading(text, level):
                out.append(f"<h{level}{style}>{inline_html(text)}</h{level}>")
            case Paragraph(text, role):
                out.append(f'<p class="{role}"{style}>{inline_html(text)}</p>')
            case Bullets(items, title):
                if title:
                    out.append(f"<p{style}><b>{inline_html(title)}</b></p>")
                out.append("<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in items) + "</ul>")
            case Table(header, rows):
                head = "".join(f"<th>{inline_html(c)}</th>" for c in header)
                # Inline styles: Qt's layout (the PDF) reads them only there. No cell wraps
                # ("0.9211 ± 0.0057" stays one line), so a row is one line on a page.
                body = "".join(
                    "<tr>"
                    + "".join(f'<td style="{_CELL}">{inline_html(c)}</td>' for c in row)
                    + "</tr>"
                    for row in rows
                )
                out.append(
                    f'<table class="lab" cellspacing="0" cellpadding="2" border="1"{style}>'
                    f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                )
            case Figures(figures) if figure_src is not None:
                out.append(_figure_rows(figures, figure_src, figure_width))
            case Code(source, title, output, language):
                if title:
                    out.append(f"<p{style}><b>{inline_html(title)}</b></p>")
                out.append(code_html(source, language, code_pt))
                if output:
                    out.append("<p>It printed:</p>" + code_html(output, "text", code_pt))
            case Answer(text, title):
                paragraphs = (text.strip() or NO_ANSWER).split("\n")
                body = "".join(f"<p>{html.escape(p) or '&nbsp;'}</p>" for p in paragraphs)
                out.append(
                    f'<p{style}><b>{html.escape(title)}</b></p><div class="answer">{body}</div>'
                )
    return "\n".join(out)


def _figure_rows(
    figures: Sequence[FigureData], figure_src: Callable[[FigureData], str], width: int
) -> str:
    cells = [
        f'<td><img src="{html.escape(figure_src(f), quote=True)}" width="{width}" '
        f'alt="{html.escape(f.title, quote=True)}"></td>'
        for f in figures
    ]
    rows = ["<tr>" + "".join(cells[i : i + 2]) + "</tr>" for i in range(0, len(cells), 2)]
    return '<table class="figures">' + "".join(rows) + "</table>"


# Code on a page: small monospace, long lines wrapped (Qt's layout of the PDF reads only
# inline styles).
_CODE_BOX = "white-space: pre-wrap; background: #f6f8fa; border: 1px solid #ddd; padding: 4px"


def code_html(source: str, language: str = "python", size_pt: float = CODE_PT) -> str:
    """``source`` highlighted by Pygments as one ``<pre>`` with inline colours, in a
    ``size_pt`` monospace."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name

    formatter = HtmlFormatter(noclasses=True, nowrap=True, style="default")
    body = highlight(source.rstrip("\n"), get_lexer_by_name(language), formatter)
    # Each coloured token carries the font too: Qt's layout does not pass the <pre>'s on.
    font = f"font-family: 'DejaVu Sans Mono', monospace; font-size: {size_pt}pt"
    body = body.replace('<span style="', f'<span style="{font}; ')
    return f'<pre style="{_CODE_BOX}; {font}">{body.rstrip()}</pre>'


def inline_html(text: str) -> str:
    """Escape ``text`` and turn its ``code``, **bold** and *italic* into HTML."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    return re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<i>\1</i>", out)
