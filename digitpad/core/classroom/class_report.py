"""The class report: the class's tables, their strip plots beside the lab report's values,
and the flags, as a document every report writer lays out (PDF, HTML, Markdown)."""

from __future__ import annotations

from digitpad.core.classroom.class_tables import ClassOverview, ClassTable
from digitpad.core.report.document import (
    Block,
    Bullets,
    Document,
    FigureData,
    Figures,
    Heading,
    PageBreak,
    Paragraph,
    Series,
    Table,
)

# Students' points spread this far across a column (in column widths), so equal values
# do not hide each other.
JITTER = 0.24


def class_figure(table: ClassTable, picked: int | None = None) -> FigureData:
    """Every student's figure per column as a strip of points, the lab report's value
    marked; ``picked``: that student's points drawn large."""
    xs, ys, mine_x, mine_y = [], [], [], []
    for n, (student_id, row) in enumerate(sorted(table.rows.items())):
        offset = ((n * 7) % 11 / 10 - 0.5) * JITTER
        for i, value in enumerate(row):
            if value is None:
                continue
            xs.append(i + offset)
            ys.append(value)
            if student_id == picked:
                mine_x.append(i + offset)
                mine_y.append(value)
    series = [Series("students", tuple(xs), tuple(ys), "points")]
    lab = [(float(i), v) for i, v in enumerate(table.lab) if v is not None]
    if lab:
        series.append(Series("lab report", *map(tuple, zip(*lab, strict=True)), "report"))
    if mine_x:
        series.append(Series("picked", tuple(mine_x), tuple(mine_y), "picked"))
    label = "MSE" if table.measure == "mse" else "system accuracy"
    return FigureData(
        f"class-{table.exercise}",
        f"{table.title}: the class",
        "column",
        label,
        tuple(series),
        tuple((float(i), c) for i, c in enumerate(table.columns)),
    )


def table_rows(view: ClassOverview, table: ClassTable) -> list[tuple[str, ...]]:
    """The table as text rows: the class's median, spread and the lab report's value,
    then one row per student."""

    def cells(values: list[float | None]) -> tuple[str, ...]:
        return tuple("—" if v is None else f"{v:.4f}" for v in values)

    rows = [
        ("class median", *cells(table.median)),
        ("spread (MAD)", *cells(table.spread)),
        ("lab report", *cells(table.lab)),
    ]
    names = {s.id: s.name for s in view.students}
    rows += [(names[i], *cells(row)) for i, row in table.rows.items()]
    return rows


def class_document(view: ClassOverview, title: str = "Class report") -> Document:
    """The class report's blocks."""
    flagged = {flag.student_id for flag in view.flags}
    blocks: list[Block] = [
        Paragraph(
            f"{len(view.students)} hand-ins; {len(flagged)} with something to look at. The "
            f"class ran: {view.settings.text()}.",
            "small",
        ),
        Heading("Flags"),
    ]
    if view.flags:
        blocks.append(Bullets(tuple(flag_text(flag) for flag in view.flags)))
    else:
        blocks.append(
            Paragraph(
                "Nothing to look at: every hand-in is whole, complete and "
                "made with the class's settings, and no cell is far from "
                "the class."
            )
        )
    for table in view.tables:
        blocks += [
            PageBreak(),
            Heading(table.title),
            Table(("", *table.columns), tuple(table_rows(view, table))),
            Figures((class_figure(table),)),
        ]
    return Document(title, blocks)


def flag_text(flag) -> str:
    """One flag in words: who, where, why."""
    where = ""
    if flag.exercise:
        where = f", exercise {flag.exercise[2:]}" + (f", {flag.column}" if flag.column else "")
    return f"**{flag.student}**{where}: {flag.reason}"
