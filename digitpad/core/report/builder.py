"""Building the student's report from the run store: every exercise's section from the
sweep chosen for it (``build_report``), exercise 5 read from exercise 4's weights, and the
code; ``complete_report`` is the one call that gives all of it (the Report tab's export,
``digitpad report`` and ``digitpad lab --report``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digitpad.core.lab.exercises import EXERCISES, FIRST_FIVE, SAVES_WEIGHTS
from digitpad.core.lab.first_five import READING_HEADER
from digitpad.core.lab.stored_sweeps import SweepRuns, choices_of, default_sweep, exercise_sweeps
from digitpad.core.lab.sweeps import PRESETS, metric_pairs
from digitpad.core.nets.results import WEIGHTS_FILE
from digitpad.core.nets.status import RunStatus
from digitpad.core.report import findings as words
from digitpad.core.report.code_sections import application_code, first_five_code
from digitpad.core.report.document import FigureData, Paragraph, Series, Table
from digitpad.core.report.machine_text import machine_section, records_of
from digitpad.core.report.report_figures import against_value, losses_figure, metric_figure
from digitpad.core.report.sections import (
    DEFAULT_TITLE,
    LabContext,
    Section,
    StudentReport,
    finished_run,
)
from digitpad.core.report.tolerance import reference_summary
from digitpad.core.store.answers import TITLE_KEY
from digitpad.core.store.runs import RunStore


def complete_report(
    store: RunStore,
    chosen: dict[str, str] | None = None,
    title: str | None = None,
    lab: LabContext | None = None,
    data: Any = None,
    readings: dict[int, Any] | None = None,
) -> StudentReport:
    """The whole report, ready to write: every exercise, exercise 5 read from exercise 4's
    weights (from ``readings`` by run id when there, else now, on ``data``: MNIST,
    default where DigitPad finds it), and the code sections.

    A reading that fails is said in exercise 5's section; the rest of the report stands.
    """
    report = build_report(store, chosen, title=title, lab=lab)
    record = report.exercise_4_record()
    if record is None or not record.has_model:
        return report
    if readings is not None and record.id in readings:
        return with_first_five(report, readings[record.id])
    from digitpad.core.data.mnist import MnistUnavailable, shared_mnist
    from digitpad.core.inference.predictor import WeightsError

    try:
        return with_first_five(report, read_exercise_5(store, report, data or shared_mnist()))
    except (MnistUnavailable, WeightsError, OSError) as exc:
        return with_first_five(report, error=str(exc))


def with_first_five(report: StudentReport, five: Any = None, error: str = "") -> StudentReport:
    """``report`` with exercise 5 from its reading of exercise 4's weights (or why it
    could not read them); returns the same report."""
    index = next(i for i, s in enumerate(report.sections) if s.key == FIRST_FIVE.id)
    old = report.sections[index]
    ex4 = report.section(FIRST_FIVE.weights_from)
    section = first_five_section(ex4, five, old.answer)
    if error:
        section.extra = [Paragraph(f"Exercise 4's weights could not be read: {error}")]
    section.choices = old.choices
    report.sections[index] = section
    return report


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
        if key == FIRST_FIVE.id:
            ex4 = next(s for s in sections if s.key == FIRST_FIVE.weights_from)
            sections.append(first_five_section(ex4, first_five, answers.get(key, "")))
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
    records = records_of(sections)
    return StudentReport(
        title or answers.get(TITLE_KEY) or DEFAULT_TITLE,
        sections,
        machine_section(records),
        reference_summary(sections),
        datetime.now(),
        lab,
        application_code(sections),
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
            against_value(key, sweep, table, figure.kind),
            against_value(key, sweep, table, "time"),
        ]
    unfinished = [r for r in runs.records if r.status != RunStatus.DONE]
    if unfinished:
        section.findings.append(
            "Not finished, so not in the table: "
            + ", ".join(f"run {r.id} ({r.error or r.status})" for r in unfinished)
            + "."
        )
    section.figures.append(losses_figure(key, runs))
    if sweep.measure == "mse":
        twins = [r for s in found.get("ex2", []) for r in s.records]
        pairs = metric_pairs(twins, runs.records)
        gap = max((p.largest_gap for p in pairs), default=None)
        section.findings.append(
            words.metric_sentence(gap, len(pairs), len({p.batch_size for p in pairs}))
        )
        if pairs:
            section.figures.append(metric_figure(pairs))
    if key == SAVES_WEIGHTS:
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


def read_exercise_5(store: RunStore, report: StudentReport, data) -> Any:
    """Exercise 5: exercise 4's saved weights in a fresh network, reading the first five
    test images of ``data`` (None when exercise 4 has no saved weights)."""
    record = report.exercise_4_record()
    if record is None or not record.has_model:
        return None
    from digitpad.core.lab.first_five import first_five

    return first_five(record.spec, store.model_dir(record.id) / WEIGHTS_FILE, data)


def first_five_section(ex4: Section, first_five: Any, answer: str) -> Section:
    """Exercise 5's section from exercise 4's and its reading (None: not read yet)."""
    section = Section(
        FIRST_FIVE.id, FIRST_FIVE.title, FIRST_FIVE.question, runs=ex4.runs, answer=answer
    )
    record = finished_run(ex4)
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
        Table(READING_HEADER, tuple(five.rows())),
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
    code = first_five_code(record, five)
    if code is not None:
        section.extra.append(code)
    return section


def _fill_ex9_comparison(sections: list[Section]) -> None:
    ex9 = next(s for s in sections if s.key == "ex9")
    if ex9.runs is None:
        return
    others = []
    for section in sections:
        if section.key in ("ex9", FIRST_FIVE.id, "ex3") or section.table is None:
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
