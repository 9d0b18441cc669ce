"""What a training reports: ``Progress`` events while it runs, a ``RunResult`` at the end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus

MODEL_FILE = "model.keras"
WEIGHTS_FILE = "model.weights.h5"
MODEL_FILES = (MODEL_FILE, WEIGHTS_FILE)  # every file training saves in a run's folder


@dataclass(frozen=True)
class Progress:
    """One progress event from ``train()``; plain data, safe to send across threads.

    kind: ``"start"``, ``"batch"``, ``"epoch"`` or ``"evaluating"``.
    epoch: 0-based epoch index. batch: 0-based batch index within the epoch.
    loss: the training loss of that one batch (``"batch"``) or of the epoch (``"epoch"``).
    logs: the epoch's train and validation figures (``"epoch"`` only).
    """

    kind: str
    epoch: int
    epochs: int
    batch: int = 0
    batches: int = 0
    loss: float | None = None
    logs: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0


@dataclass(frozen=True)
class FineTuneFigures:
    """What a fine-tune on My digits did: the forgetting meter's figures.

    ``mine_*`` are accuracies on the held-back part of My digits (never trained on);
    ``mnist_*`` on MNIST's 10,000 test images; ``*_by_epoch`` after each epoch.
    """

    base: str  # the network it started from: a shipped name ("best") or "run N"
    replay: bool
    freeze_conv: bool
    mine_train: int
    mine_test: int
    mnist_before: float
    mnist_after: float
    mine_before: float
    mine_after: float
    mnist_by_epoch: list[float] = field(default_factory=list)
    mine_by_epoch: list[float] = field(default_factory=list)


def baseline_error(accuracy: float) -> float:
    """The lab's "baseline error" in percent: ``100 - accuracy * 100``."""
    return 100.0 - accuracy * 100.0


# The same figure as an SQL expression over the runs table, to sort by it there.
BASELINE_ERROR_SQL = "(100.0 - test_accuracy * 100.0)"


@dataclass
class RunResult:
    """What a run produced: figures, history, where its model was saved, and its context."""

    spec: RunSpec
    status: RunStatus  # DONE or STOPPED
    seed: int
    test_accuracy: float
    test_loss: float
    test_mse: float
    convergence_time: float
    params: int
    epochs_run: int
    train_size: int
    history: dict[str, list[float]]
    batch_losses: list[float]
    data_source: str = ""
    data_sha256: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    precision: str = "float32"  # what it trained in (all runs before 0.3 were float32)
    device: str = "cpu"
    # What the same numbers depend on beside the settings (core.nets.fingerprint); runs
    # from before 0.4 have none of them.
    processor: str = ""
    threads: int = 0
    deterministic: bool = False
    trained_host: str = ""  # where it trained: machine name and process id
    trained_pid: int = 0
    model_path: str | None = None
    weights_path: str | None = None
    notes: list[str] = field(default_factory=list)
    finetune: FineTuneFigures | None = None  # set when the run fine-tuned a network

    @property
    def finetune_of(self) -> str | None:
        """The network a fine-tune started from (None for a training from scratch)."""
        return self.finetune.base if self.finetune else None

    @property
    def baseline_error(self) -> float:
        return baseline_error(self.test_accuracy)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["spec"] = self.spec.to_dict()
        out["baseline_error"] = self.baseline_error
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunResult:
        """A result as ``to_dict`` wrote it, by this or another version: fields this
        version does not know (a newer one's) are left out, so the run still reads."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        if not isinstance(values["spec"], RunSpec):
            values["spec"] = RunSpec.from_stored(values["spec"])
        values["status"] = RunStatus(values["status"])
        if isinstance(values.get("finetune"), dict):
            values["finetune"] = FineTuneFigures(**values["finetune"])
        return cls(**values)

    @property
    def where(self) -> str:
        """Where it trained, for people: ``host (pid N), device``."""
        place = f"{self.trained_host} (pid {self.trained_pid})" if self.trained_host else "unknown"
        return f"{place}, {self.device}"
