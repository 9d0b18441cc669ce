"""The student's lab report, written from their runs: per exercise its question, the sweep
it reports, the table in the lab's layout, figures, findings and the student's answer.

Built from the run store alone (plus exercise 5's reading of exercise 4's weights, which
needs TensorFlow and MNIST and is passed in), so the Report tab, ``digitpad report`` and
``digitpad lab --report`` make the same document (``StudentReport.document``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digitpad.core.lab.stored_sweeps import (
    SweepChoice,
    SweepRuns,
    choices_of,
    default_sweep,
    exercise_sweeps,
)
from digitpad.core.lab.sweeps import PRESETS, LabTable, metric_pairs
from digitpad.core.nets.status import RunStatus
from digitpad.core.report import findings as words
from digitpad.core.report.document import (
    Answer,
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
from digitpad.core.store.answers import TITLE_KEY
from digitpad.core.store.runs import RunRecord, RunStore

EXERCISES = ("ex1", "ex2", "ex3", "ex4", "ex5", "ex6", "ex7", "ex8", "ex9")
EX5_TITLE = "Exercise 5: load the weights and predict the first five test images"
EX5_QUESTION = (
    "Load exercise 4's saved weights into a new network and predict the first five test "
    "images: does it read them as the trained network did?"
)
DEFAULT_TITLE = "My MNIST lab report"
# Accuracy cells must land this close to the report (percentage points), by application.
TOLERANCE_PP = {"mlp": 1.0, "cnn": 0.5, "cnn_deep": 0.5}


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
    title: str
    sections: list[Section]
    machine: list[str]
    summary: list[str]
    made_at: datetime
    lab: LabContext | None = None

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def exercise_4_record(self) -> RunRecord | None:
        """The run exercise 4 reports (its weights are exercise 5's), if it finished."""
        return _finished_run(self.section("ex4"))

    def set_first_five(self, five: Any = None, error: str = "") -> None:
        """Exercise 5 from its reading of exercise 4's weights (or why it could not read)."""
        index = next(i for i, s in enumerate(self.sections) if s.key == "ex5")
        old = self.sections[index]
        section = _ex5(self.section("ex4"), five, old.answer)
        if error:
            section.extra = [Paragraph(f"Exercise 4's weights could not be read: {error}")]
        section.choices = old.choices
        self.sections[index] = section

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
            blocks += [PageBreak(), *section_blocks(section)]
        if self.summary:
            blocks += [PageBreak(), Heading("Against the lab report"), Bullets(tuple(self.summary))]
        return Document(self.title, blocks)


def section_blocks(section: Section) -> list[Block]:
    """One exercise's blocks: question, sweep, table, figures, findings, answer."""
    blocks: list[Block] = [Heading(section.title), Paragraph(section.question, "question")]
    if section.runs is not None and section.key != "ex5":
        blocks.append(Paragraph(f"From sweep `{section.runs.sweep_id}`.", "small"))
    if section.note:
        blocks.append(Paragraph(section.note, "small"))
    if section.empty:
        blocks.append(Paragraph(not_run_text(section.key)))
    elif section.table is not None and section.key != "ex5":
        blocks.append(table_block(section.table))
    blocks += section.extra
    if section.figures:
        blocks.append(Figures(tuple(section.figures)))
    if section.findings:
        blocks.append(Bullets(tuple(section.findings), "Findings"))
    blocks.append(Answer(section.answer))
    return blocks


def not_run_text(key: str) -> str:
    source = "ex4" if key == "ex5" else key
    return (
        f"Not run yet: run the exercise preset on the Train tab, or `digitpad sweep {source}` "
        "(or `digitpad lab` for every exercise)."
    )


def table_block(table: LabTable) -> Table:
    return Table(("", *table.columns), tuple((name, *cells) for name, cells in table.rows))


# --- building ---------------------------------------------------------------------------------


def build_report(
    store: RunStore,
    chosen: dict[str, str] | None = None,
    first_five: Any = None,
    title: str | None = None,
    lab: LabContext | None = None,
) -> StudentReport:
    """The report from ``store``: each exercise from the sweep ``chosen`` for it (by key,
    ``{"ex1": "ex1-20261201-101500"}``), else its newest complete sweep. ``first_five``
    is exercise 5's reading (``core.lab.first_five``), None when not read."""
    chosen = chosen or {}
    found = exercise_sweeps(store)
    answers = store.answers().all()
    sections = []
    for key in EXERCISES:
        if key == "ex5":
            sections.append(_ex5(sections[-1], first_five, answers.get(key, "")))
            continue
        sweeps = found.get(key, [])
        runs = next((s for s in sweeps if s.sweep_id == chosen.get(key)), None)
        if chosen.get(key) and runs is None:
            raise ValueError(
                f"no sweep {chosen[key]!r} of {key} in the data folder; "
                f"its sweeps: {', '.join(s.sweep_id for s in sweeps) or 'none'}"
            )
        runs = runs or default_sweep(sweeps)
        preset = PRESETS[key]
        section = Section(key, preset.title, preset.question, preset.note, choices_of(sweeps), runs)
        section.answer = answers.get(key, "")
        if runs is not None:
            _fill(section, runs, found)
        sections.append(section)
    _fill_ex9_comparison(sections)
    records = _distinct_records(sections)
    return StudentReport(
        title or answers.get(TITLE_KEY) or DEFAULT_TITLE,
        sections,
        machine_section(records),
        reference_summary(sections),
        datetime.now(),
        lab,
    )


def _fill(section: Section, runs: SweepRuns, found: dict[str, list[SweepRuns]]) -> None:
    sweep, table = runs.sweep, runs.table
    key = section.key
    figure = words.FIGURES[sweep.measure]
    values = table.values.get(sweep.measure, [])
    if sweep.param is not None:
        section.findings += [
            words.trend_sentence(figure, sweep.param, table.columns, values),
            words.trend_sentence(words.TIME, sweep.param, table.columns, table.values["time"]),
        ]
        for fig, row in ((figure, values), (words.TIME, table.values["time"])):
            reference = sweep.reference.get(fig.kind)
            sentence = words.against_report_sentence(fig, row, reference or ())
            if sentence:
                section.findings.append(sentence)
        most, spread = runs.spread()
        if most > 1:
            size = f"{spread * 100:.2f} points" if figure.kind == "accuracy" else f"{spread:.4f}"
            section.findings.append(
                f"Each value is the mean of up to {most} runs (different seeds); the largest "
                f"standard deviation of a column is {size}."
            )
        section.figures += [
            _against_value(key, sweep, table, figure.kind),
            _against_value(key, sweep, table, "time"),
        ]
    unfinished = [r for r in runs.records if r.status != RunStatus.DONE]
    if unfinished:
        section.findings.append(
            "Not finished, so not in the table: "
            + ", ".join(f"run {r.id} ({r.error or r.status})" for r in unfinished)
            + "."
        )
    section.figures.append(_losses(key, runs))
    if sweep.measure == "mse":
        twins = [r for s in found.get("ex2", []) for r in s.records]
        pairs = metric_pairs(twins, runs.records)
        gap = max((p.largest_gap for p in pairs), default=None)
        section.findings.append(
            words.metric_sentence(gap, len(pairs), len({p.batch_size for p in pairs}))
        )
        if pairs:
            section.figures.append(_metric_figure(pairs))
    if key == "ex4":
        section.extra.append(Paragraph(_ex4_text(runs)))


def _ex4_text(runs: SweepRuns) -> str:
    done = [r for _, r in runs.cells if r.result is not None]
    if not done:
        return "Its run did not finish, so no weights were saved."
    record = done[0]
    where = f"`runs/run-{record.id:06d}/model.weights.h5`"
    kept = "saved as" if record.has_model else "saved (now deleted) as"
    return (
        f"Run {record.id} reached a test accuracy of {record.result.test_accuracy:.4f} in "
        f"{record.result.convergence_time:.1f} s; its weights are {kept} {where} in the data "
        "folder (Keras 3's `.weights.h5`; the lab report used `application1.h5`)."
    )


def _finished_run(section: Section) -> RunRecord | None:
    """The first finished run of a section's sweep (exercise 4's weights are exercise 5's)."""
    if section.runs is None:
        return None
    return next((r for _, r in section.runs.cells if r.result is not None), None)


def read_exercise_5(store: RunStore, report: StudentReport, data) -> Any:
    """Exercise 5: exercise 4's saved weights in a fresh network, reading the first five
    test images of ``data`` (None when exercise 4 has no saved weights)."""
    record = report.exercise_4_record()
    if record is None or not record.has_model:
        return None
    from digitpad.core.lab.first_five import first_five

    return first_five(record.spec, store.model_dir(record.id) / "model.weights.h5", data)


def _ex5(ex4: Section, first_five: Any, answer: str) -> Section:
    section = Section("ex5", EX5_TITLE, EX5_QUESTION, runs=ex4.runs, answer=answer)
    record = _finished_run(ex4)
    if record is None:
        section.runs = None
        return section
    if first_five is None:
        section.extra.append(
            Paragraph(
                f"Exercise 4's weights (run {record.id}) are not read yet"
                + ("." if record.has_model else ": its model files were deleted.")
            )
        )
        return section
    five = first_five
    section.extra += [
        Paragraph(
            f"Run {record.id}'s weights (`{five.weights.name}`) loaded into a fresh "
            f"{five.spec.describe()} network."
        ),
        Table(
            ("image", "true label", "predicted", "probability"),
            tuple(
                (
                    str(i + 1),
                    str(five.labels[i]),
                    str(five.predicted[i]),
                    f"{five.probabilities[i, five.predicted[i]]:.4f}",
                )
                for i in range(len(five.labels))
            ),
        ),
        Table(
            ("layer (type)", "output shape", "params"),
            (
                *((f"{r.name} ({r.kind})", r.output_shape, f"{r.params:,}") for r in five.layers),
                ("total", "", f"{five.total_params:,}"),
            ),
        ),
    ]
    right = int((five.predicted == five.labels).sum())
    section.findings.append(
        f"The loaded network reads {right} of the first {len(five.labels)} test images right "
        f"(true {' '.join(map(str, five.labels))}; read {' '.join(map(str, five.predicted))}), "
        f"an error of {five.error_percent:.2f} % on them; it has {five.total_params:,} parameters."
    )
    return section


def _fill_ex9_comparison(sections: list[Section]) -> None:
    ex9 = next(s for s in sections if s.key == "ex9")
    if ex9.runs is None:
        return
    others = []
    for section in sections:
        if section.key in ("ex9", "ex5", "ex3") or section.table is None:
            continue
        sweep, table = section.runs.sweep, section.table
        for column, value in zip(table.columns, table.values.get("accuracy", []), strict=False):
            if value is not None:
                family = "mlp" if sweep.base.model == "mlp" else "cnn"
                where = words.value_label(sweep.param, column) if sweep.param else "its settings"
                others.append(words.Best(f"exercise {section.key[2:]}", where, value, family))
    accuracy = ex9.table.values.get("accuracy", [None])[0]
    ex9.findings.insert(0, words.versus_others_sentence(accuracy, others))
    best = {}
    for b in others:
        if b.exercise not in best or b.accuracy > best[b.exercise].accuracy:
            best[b.exercise] = b
    points = [(b.exercise.replace("exercise ", "ex"), b.accuracy) for b in best.values()]
    if accuracy is not None:
        points.append(("ex9", accuracy))
    if points:
        ticks = tuple((float(i), name) for i, (name, _) in enumerate(points))
        ex9.figures.insert(
            0,
            FigureData(
                "ex9-others",
                "Best accuracy of each exercise",
                "exercise",
                "system accuracy",
                (
                    Series(
                        "best of each exercise",
                        tuple(float(i) for i in range(len(points))),
                        tuple(v for _, v in points),
                    ),
                ),
                ticks,
            ),
        )


# --- figures ------------------------------------------------------------------------------------


def _against_value(key: str, sweep, table: LabTable, kind: str) -> FigureData:
    """A sweep's figure (or time) against its swept value, ours beside the report's."""
    label = {"accuracy": "system accuracy", "mse": "MSE", "time": "convergence time (s)"}[kind]
    xs_ys = [(float(i), v) for i, v in enumerate(table.values.get(kind, [])) if v is not None]
    series = []
    if xs_ys:
        xs, ys = zip(*xs_ys, strict=True)
        series.append(Series("your runs", xs, ys))
    reference = sweep.reference.get(kind)
    if reference and len(reference) == len(table.columns):
        series.append(
            Series(
                "lab report", tuple(float(i) for i in range(len(reference))), reference, "report"
            )
        )
    return FigureData(
        f"{key}-{kind}",
        f"{label[0].upper()}{label[1:]} against {(sweep.param or 'run').replace('_', ' ')}",
        (sweep.param or "run").replace("_", " "),
        label,
        tuple(series),
        tuple((float(i), c) for i, c in enumerate(table.columns)),
    )


def _losses(key: str, runs: SweepRuns) -> FigureData:
    """Each run's training loss per epoch: one colour per swept value, named once (the
    repeats of a value share its colour, so the legend stays one line per value)."""
    series = []
    param = runs.sweep.param
    done = [r for r in runs.records if r.result is not None and r.result.history.get("loss")]
    values = sorted({getattr(r.spec, param) for r in done}) if param else []
    named: set = set()
    for i, record in enumerate(sorted(done, key=lambda r: (_value_of(r, param), r.id))):
        losses = record.result.history["loss"]
        value = _value_of(record, param)
        colour = values.index(value) if param else i
        if param:
            name = "" if value in named else words.value_label(param, str(value))
        else:
            name = f"run {record.id}" + (f", seed {record.spec.seed}" if record.spec.seed else "")
        named.add(value)
        epochs = tuple(float(e) for e in range(1, len(losses) + 1))
        series.append(Series(name, epochs, tuple(losses), "run", colour))
    return FigureData(
        f"{key}-loss", "Training loss per epoch", "epoch", "training loss", tuple(series)
    )


def _value_of(record: RunRecord, param: str | None):
    return getattr(record.spec, param) if param else 0


def _metric_figure(pairs) -> FigureData:
    series = []
    for i, pair in enumerate(pairs):
        epochs = tuple(float(e) for e in range(1, len(pair.loss_mse) + 1))
        series.append(
            Series(
                f"batch {pair.batch_size}, metric accuracy",
                epochs,
                tuple(pair.loss_accuracy),
                "run",
                i,
            )
        )
        series.append(
            Series(f"batch {pair.batch_size}, metric mse", epochs, tuple(pair.loss_mse), "alt", i)
        )
    return FigureData(
        "ex3-metric",
        "Training loss with each metric (solid: accuracy, dashed: mse)",
        "epoch",
        "training loss",
        tuple(series),
    )


# --- machine, lab and the comparison with the lab report ------------------------------------------


def _distinct_records(sections: list[Section]) -> list[RunRecord]:
    seen: dict[int, RunRecord] = {}
    for section in sections:
        if section.runs is not None:
            for _, record in section.runs.cells:
                seen.setdefault(record.id, record)
    return [seen[i] for i in sorted(seen)]


def machine_section(records: list[RunRecord]) -> list[str]:
    """CPU, device, versions, precision, MNIST and the total training time of ``records``."""
    lines = machine_lines()
    results = [r.result for r in records if r.result is not None]
    lines.append(f"Precision: {precision_text(results)}")
    sources = Counter((r.data_source, r.data_sha256) for r in results if r.data_source)
    for (source, sha), count in sources.most_common():
        lines.append(f"MNIST: {source}, sha256 `{sha[:16]}…` ({count} runs)")
    if results:
        total = sum(r.convergence_time for r in results)
        lines.append(
            f"Total training time: {total / 60:.1f} minutes over {len(results)} runs "
            "(each run's convergence time, summed)"
        )
    return lines


def precision_text(results) -> str:
    """What the runs trained in, e.g. "float32 (all 25 runs)"."""
    used = Counter(result.precision for result in results)
    if not used:
        return "no run finished"
    if len(used) == 1:
        ((only, count),) = used.items()
        return f"{only} (all {count} runs)" if count > 1 else f"{only} (its one run)"
    return ", ".join(
        f"{name} for {count} run{'' if count == 1 else 's'}" for name, count in used.most_common()
    )


def machine_lines() -> list[str]:
    """CPU, cores, GPU and library versions of this computer."""
    import os
    import platform

    from digitpad.core.machine.environment import cpu_name, device_name, library_versions

    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return [
        f"CPU: {cpu_name()}, {os.cpu_count()} cores; device used: {device_name()}",
        f"{platform.system()} {platform.release()}; {versions}",
    ]


def lab_lines(lab: LabContext) -> list[str]:
    """How ``digitpad lab`` made the runs."""
    lines = [
        f"Made by `digitpad lab` in {lab.seconds / 60:.1f} minutes of wall time, on {lab.workers}.",
        "Every run follows the lab's protocol: `/255` scaling, one-hot labels, categorical "
        "cross-entropy, Adam with Keras defaults, validation on the test set each epoch; "
        "accuracy from the test set after training; convergence time is the wall time of "
        "`fit` (validation included). "
        + (
            "Seed 0 for every run."
            if lab.repeats == 1
            else f"Each cell: seeds 0 to {lab.repeats - 1}, shown as mean ± std."
        ),
    ]
    if lab.overrides:
        lines.append(f"**Not the lab's settings**: {lab.overrides}.")
    lines += [
        "Identical runs ran once: exercise 4 is exercise 1's 8-neuron run, and exercise 7's "
        "128-neuron column is exercise 6's 3x3 column.",
        "Runs that differ only by their epochs were read from the longest one at each epoch "
        "(exact for these networks: constant learning rate, same seed): exercise 8 is one "
        "20-epoch run read after epochs 1, 2, 5, 10 and 20, and it also gives exercise 6's 3x3 "
        "and exercise 7's 128-neuron columns at epoch 5.",
        f"Runs trained side by side on {lab.workers}; with one worker process per core, each "
        "has one thread for TensorFlow's operations, so each convergence time is that run's "
        "time on one core. The report's times come from a student laptop, so only their "
        "trends compare.",
    ]
    return lines


def reference_summary(sections: list[Section]) -> list[str]:
    """Which accuracy cells are within the lab's tolerance of the report's, per exercise."""
    lines = []
    checked = 0
    misses = []
    for section in sections:
        if section.key == "ex5" or section.table is None:
            continue
        sweep, table = section.runs.sweep, section.table
        reference = sweep.reference.get("accuracy")
        if not reference or sweep.measure != "accuracy":
            continue
        tolerance = TOLERANCE_PP[sweep.base.model]
        for column, mine, theirs in zip(
            table.columns, table.values["accuracy"], reference, strict=False
        ):
            if mine is None:
                continue
            checked += 1
            if abs(mine - theirs) * 100 > tolerance:
                misses.append(
                    f"{section.key} {column}: {mine:.4f} vs {theirs:.4f} (limit ±{tolerance} pp)"
                )
    if checked:
        lines.append(
            f"Accuracy cells within tolerance of the lab report's (±1.0 points MLP, ±0.5 CNN): "
            f"{checked - len(misses)} of {checked}."
            + ("" if not misses else " Outside: " + "; ".join(misses) + ".")
        )
    return lines
