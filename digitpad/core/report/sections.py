"""The report's parts: an exercise's ``Section``, the whole ``StudentReport``, and their
blocks in the order every writer lays them out (``document``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from digitpad.core.lab.exercises import APPLICATIONS, FIRST_FIVE, source_exercise
from digitpad.core.lab.stored_sweeps import SweepChoice, SweepRuns
from digitpad.core.lab.sweeps import LabTable
from digitpad.core.report.document import (
    Answer,
    Block,
    Bullets,
    Code,
    Document,
    FigureData,
    Figures,
    Heading,
    PageBreak,
    Paragraph,
    Table,
)
from digitpad.core.report.machine_text import lab_lines
from digitpad.core.store.runs import RunRecord

DEFAULT_TITLE = "My MNIST lab report"
# Each application's code opens its first exercise, as in the lab report.
APPLICATION_OF = {key: number for number, (_, keys) in APPLICATIONS.items() for key in keys}
FIRST_OF = {number: keys[0] for number, (_, keys) in APPLICATIONS.items()}


@dataclass
class LabContext:
    """How a ``digitpad lab`` made the runs: shown in its report's first section."""

    seconds: float
    workers: str
    repeats: int = 1
    overrides: str = ""


@dataclass
class Section:
    """One exercise of the report."""

    key: str
    title: str
    question: str
    note: str = ""
    choices: list[SweepChoice] = field(default_factory=list)
    runs: SweepRuns | None = None
    findings: list[str] = field(default_factory=list)
    figures: list[FigureData] = field(default_factory=list)
    extra: list[Block] = field(default_factory=list)
    answer: str = ""

    @property
    def table(self) -> LabTable | None:
        return self.runs.table if self.runs else None

    @property
    def empty(self) -> bool:
        return self.runs is None


@dataclass
class StudentReport:
    """The whole report: its sections in the lab's order, the words about the machine and
    the comparison with the lab report, and each application's code."""

    title: str
    sections: list[Section]
    machine: list[str]
    summary: list[str]
    made_at: datetime
    lab: LabContext | None = None
    # The script that made each application's runs, by application number (1, 2).
    code: dict[int, Code] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def exercise_4_record(self) -> RunRecord | None:
        """The run exercise 4 reports (its weights are exercise 5's), if it finished."""
        return finished_run(self.section(FIRST_FIVE.weights_from))

    @property
    def has_runs(self) -> bool:
        return any(not s.empty for s in self.sections)

    def document(self) -> Document:
        """The report as blocks, for every writer."""
        blocks: list[Block] = [
            Paragraph(
                f"Written by DigitPad on {self.made_at:%Y-%m-%d %H:%M} from the runs in the "
                "data folder: every number below is a stored run's.",
                "small",
            ),
            Heading("Machine and data"),
            Bullets(tuple(self.machine)),
        ]
        if self.lab is not None:
            blocks += [Heading("How the runs were made"), Bullets(tuple(lab_lines(self.lab)))]
        for section in self.sections:
            application = APPLICATION_OF.get(section.key)
            if application in self.code and section.key == FIRST_OF[application]:
                blocks += [PageBreak(), *code_blocks(application, self.code[application])]
            blocks += [PageBreak(), *section_blocks(section)]
        if self.summary:
            blocks += [PageBreak(), Heading("Against the lab report"), Bullets(tuple(self.summary))]
        return Document(self.title, blocks)


def section_blocks(section: Section) -> list[Block]:
    """One exercise's blocks: question, sweep, table, figures, findings, answer."""
    blocks: list[Block] = [Heading(section.title), Paragraph(section.question, "question")]
    if section.runs is not None and section.key != FIRST_FIVE.id:
        blocks.append(Paragraph(f"From sweep `{section.runs.sweep_id}`.", "small"))
    if section.note:
        blocks.append(Paragraph(section.note, "small"))
    if section.empty:
        blocks.append(Paragraph(not_run_text(section.key)))
    elif section.table is not None and section.key != FIRST_FIVE.id:
        blocks.append(table_block(section.table))
    blocks += section.extra
    if section.figures:
        blocks.append(Figures(tuple(section.figures)))
    if section.findings:
        blocks.append(Bullets(tuple(section.findings), "Findings"))
    blocks.append(Answer(section.answer))
    return blocks


def not_run_text(key: str) -> str:
    source = source_exercise(key)
    return (
        f"Not run yet: run the exercise preset on the Train tab, or `digitpad sweep {source}` "
        "(or `digitpad lab` for every exercise)."
    )


def table_block(table: LabTable) -> Table:
    return Table(("", *table.columns), tuple((name, *cells) for name, cells in table.rows))


def code_blocks(application: int, code: Code) -> list[Block]:
    """An application's code section: what the script is, and the script."""
    title = APPLICATIONS[application][0]
    return [
        Heading(f"Code for {title[0].lower()}{title[1:]}"),
        Paragraph(
            "The script that made this application's runs below, as DigitPad exported it "
            "(`digitpad export lab --as script`): plain Keras, every run's settings and seed. "
            "Run on the computer that trained them, with the same library versions, it prints "
            "the same numbers.",
            "small",
        ),
        code,
    ]


def finished_run(section: Section) -> RunRecord | None:
    """The first finished run of a section's sweep (exercise 4's weights are exercise 5's)."""
    if section.runs is None:
        return None
    return next((r for _, r in section.runs.cells if r.result is not None), None)
