"""A run's fingerprint (what its numbers depend on) and the comparison of a run with the
same run trained again: ``same``, ``within tolerance`` (elsewhere), or what differs.

With the same settings and seed, the same data, library versions, processor and thread
count, and TensorFlow's deterministic kernels, training gives the same numbers to the
last digit (``keras_setup.start_tensorflow``). Anything else in that list changes how
floats are summed, so the numbers agree only within a tolerance.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from digitpad.core.nets.results import RunResult

# Elsewhere (another processor, library version or thread count) a seeded run follows the
# same path only roughly: test accuracy within this many percentage points (the lab's
# seed-to-seed noise for the 8-neuron MLP, LAB.md) and losses within this share.
OTHER_MACHINE_ACCURACY_PP = 0.5
OTHER_MACHINE_LOSS_SHARE = 0.05

SAME = "same"
WITHIN_TOLERANCE = "within tolerance"
DIFFERS = "differs"

# Per-epoch curves that are figures of the run (not timings).
_TIMING_CURVES = {"epoch_time"}


@dataclass(frozen=True)
class Fingerprint:
    """What a run's numbers depend on, as recorded when it trained."""

    settings: dict[str, Any]
    seed: int
    data_sha256: str
    versions: dict[str, str]
    processor: str
    threads: int
    deterministic: bool
    precision: str

    @classmethod
    def of(cls, result: RunResult) -> Fingerprint:
        settings = {**result.spec.to_dict(), "seed": result.seed}
        return cls(
            settings=settings,
            seed=result.seed,
            data_sha256=result.data_sha256,
            versions=dict(result.versions),
            processor=result.processor,
            threads=result.threads,
            deterministic=result.deterministic,
            precision=result.precision,
        )

    def digest(self) -> str:
        """A sha256 over the whole fingerprint (the same fingerprint, the same digest)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def environment_differences(self, other: Fingerprint) -> list[str]:
        """Why ``other`` may not give the same digits: each thing it differs in, in words."""
        out = []
        for name in sorted(set(self.versions) | set(other.versions)):
            then, now = self.versions.get(name, "?"), other.versions.get(name, "?")
            if then != now:
                out.append(f"{name} {then} then, {now} now")
        if self.processor != other.processor:
            out.append(f"processor {self.processor or 'not recorded'} then, {other.processor} now")
        if self.threads != other.threads:
            out.append(f"{_threads(self.threads)} then, {_threads(other.threads)} now")
        if self.deterministic != other.deterministic:
            out.append("trained without TensorFlow's deterministic kernels (before DigitPad 0.4)")
        if self.precision != other.precision:
            out.append(f"{self.precision} then, {other.precision} now")
        return out


@dataclass
class Comparison:
    """A stored run against the same run trained again."""

    verdict: str  # SAME, WITHIN_TOLERANCE or DIFFERS
    differences: list[str] = field(default_factory=list)  # figures that differ, in words
    environment: list[str] = field(default_factory=list)  # why exact digits were not expected
    tolerance: str = ""  # the tolerance applied, in words ("" when exact)

    def lines(self) -> list[str]:
        """What ``digitpad reproduce`` prints and Results shows: the verdict first."""
        head = self.verdict
        if self.environment:
            head += f" ({'; '.join(self.environment)})"
        out = [head]
        if self.tolerance:
            out.append(f"tolerance: {self.tolerance}")
        out += [f"  {line}" for line in self.differences]
        return out


def figures_of(result: RunResult) -> dict[str, float | int]:
    """The run's figures, flat: test accuracy, loss and MSE, parameters, epochs run, and
    every per-epoch curve (``loss at epoch 3``)."""
    out: dict[str, float | int] = {
        "test accuracy": result.test_accuracy,
        "test loss": result.test_loss,
        "test MSE": result.test_mse,
        "parameters": result.params,
        "epochs run": result.epochs_run,
    }
    for name, values in sorted(result.history.items()):
        if name in _TIMING_CURVES:
            continue
        for epoch, value in enumerate(values, start=1):
            out[f"{name} at epoch {epoch}"] = value
    return out


def compare(stored: RunResult, again: RunResult) -> Comparison:
    """Compare ``again`` (the same settings and seed, trained now) with ``stored``.

    Where the fingerprints' environment agrees, every figure must be equal to the last
    digit. Elsewhere the test accuracy must be within ``OTHER_MACHINE_ACCURACY_PP``
    points and every loss within ``OTHER_MACHINE_LOSS_SHARE`` of the stored one; the
    verdict names what differs in the environment.
    """
    environment = Fingerprint.of(stored).environment_differences(Fingerprint.of(again))
    if stored.data_sha256 != again.data_sha256:
        return Comparison(
            DIFFERS,
            [f"the data: sha256 {stored.data_sha256[:12]}… then, {again.data_sha256[:12]}… now"],
            environment,
        )
    then, now = figures_of(stored), figures_of(again)
    differences = [
        f"{name}: {_shown(then.get(name))} stored, {_shown(now.get(name))} now"
        for name in sorted(set(then) | set(now), key=_figure_order)
        if then.get(name) != now.get(name) and not (environment and _close(name, then, now))
    ]
    if differences:
        return Comparison(DIFFERS, differences, environment, _tolerance_text(environment))
    return Comparison(
        WITHIN_TOLERANCE if environment else SAME, [], environment, _tolerance_text(environment)
    )


def _tolerance_text(environment: list[str]) -> str:
    if not environment:
        return ""
    return (
        f"test accuracy within {OTHER_MACHINE_ACCURACY_PP} points, losses within "
        f"{OTHER_MACHINE_LOSS_SHARE:.0%}, the rest exact"
    )


def _close(name: str, then: dict, now: dict) -> bool:
    a, b = then.get(name), now.get(name)
    if a is None or b is None:
        return False
    if "accuracy" in name:
        return abs(a - b) * 100 <= OTHER_MACHINE_ACCURACY_PP
    if "loss" in name or "MSE" in name or "mse" in name:
        return abs(a - b) <= OTHER_MACHINE_LOSS_SHARE * max(abs(a), 1e-12)
    return False


def _threads(count: int) -> str:
    if not count:
        return "threads not recorded"
    return f"{count} thread{'s' if count != 1 else ''}"


def _shown(value: float | int | None) -> str:
    if value is None:
        return "none"
    return repr(value)


def _figure_order(name: str) -> tuple:
    # Test figures first, then the curves epoch by epoch.
    head, _, epoch = name.partition(" at epoch ")
    return (bool(epoch), int(epoch) if epoch else 0, head)
