"""The report's words about where and how the runs were made: the machine, the data, the
precision, and how ``digitpad lab`` made them."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from digitpad.core.store.runs import RunRecord

if TYPE_CHECKING:
    from digitpad.core.report.sections import LabContext, Section


def records_of(sections: list[Section]) -> list[RunRecord]:
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
