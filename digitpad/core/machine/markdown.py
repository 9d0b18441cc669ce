"""The one Markdown table writer: the report, the lab's tables and the command line."""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(header: Sequence[object], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table's lines. A ``|`` or a line break inside a cell cannot end it."""
    return [_line(header), "|" + "---|" * len(header), *(_line(row) for row in rows)]


def _line(cells: Sequence[object]) -> str:
    return "|" + "|".join(f" {_cell(c)} " if str(c) else " " for c in cells) + "|"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
