"""RunSpec: every hyperparameter of one training run, validated and serialisable."""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, fields, replace
from types import SimpleNamespace
from typing import Any

from digitpad.core.data.mnist import SIDE, TRAIN_SIZE
from digitpad.core.nets.precision import PRECISIONS

MODEL_KINDS = {
    "mlp": "MLP (lab application 1)",
    "cnn": "CNN (lab application 2)",
    "cnn_deep": "Deeper CNN (lab exercise 9)",
    "cnn_best": "Strong CNN (DigitPad's canvas default)",
}
METRICS = ("accuracy", "mse")
OPTIMIZERS = ("adam", "sgd", "rmsprop")

# Each kind's lab defaults (LAB.md); fields not listed keep the dataclass default.
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {"neurons": 8, "epochs": 10, "batch_size": 200},
    "cnn": {"neurons": 128, "filters": 8, "kernel_size": 3, "epochs": 10, "batch_size": 200},
    "cnn_deep": {"neurons": 128, "filters": 30, "kernel_size": 5, "epochs": 10, "batch_size": 200},
    "cnn_best": {
        "neurons": 128,
        "filters": 32,
        "kernel_size": 3,
        "epochs": 15,
        "batch_size": 128,
        "augment": True,
    },
}

# Largest square kernel whose feature maps survive the layers after it (valid padding):
# cnn: 28-k+1 >= 2 for the 2x2 pooling; cnn_deep: a 3x3 conv and a second pooling follow too.
# cnn_best pads the convolution whose size is chosen; its fixed ones take 28x28 to 1x1.
MAX_KERNEL = {"cnn": SIDE - 1, "cnn_deep": 21, "cnn_best": 7}
MAX_NEURONS = 4096
MAX_FILTERS = 256
MAX_EPOCHS = 1000


@dataclass(frozen=True)
class RunSpec:
    """One training run's hyperparameters.

    Attributes
    ----------
    model: ``mlp``, ``cnn`` or ``cnn_deep`` (lab exercise 9).
    neurons: units of the hidden dense layer (the first one for ``cnn_deep``).
    filters, kernel_size: the (first) convolution's filters and square kernel side; CNNs only.
    epochs, batch_size: as in ``model.fit``.
    metric: what is reported during training, ``accuracy`` or ``mse`` (lab exercise 3).
    optimizer, learning_rate: ``None`` keeps the optimizer's Keras default (adam: 0.001).
    dropout: rate of the CNNs' dropout layer (the lab's 0.2).
    seed: seeds Python, numpy and the backend; ``None`` draws one and records it.
    train_limit: train on the first N of the 60,000 images; ``None`` uses all.
    augment: train on randomly rotated, zoomed, shifted, thickened or thinned copies
        (CNNs only), so the network reads hand-drawn digits better.
    precision: ``auto``, ``float32`` or ``bfloat16`` (see ``precision.resolve``).
    """

    model: str = "mlp"
    neurons: int = 8
    filters: int = 8
    kernel_size: int = 3
    epochs: int = 10
    batch_size: int = 200
    metric: str = "accuracy"
    optimizer: str = "adam"
    learning_rate: float | None = None
    dropout: float = 0.2
    seed: int | None = None
    train_limit: int | None = None
    augment: bool = False
    precision: str = "auto"

    def __post_init__(self) -> None:
        problems = problems_of(self.to_dict())
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def for_model(cls, model: str, **overrides: Any) -> RunSpec:
        """A spec with the lab's defaults for ``model``, then ``overrides``."""
        if model not in MODEL_KINDS:
            raise ValueError(_unknown("model", model, MODEL_KINDS))
        return cls(model=model, **{**KIND_DEFAULTS[model], **overrides})

    def with_changes(self, **changes: Any) -> RunSpec:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def is_cnn(self) -> bool:
        return self.model != "mlp"

    @property
    def train_size(self) -> int:
        return self.train_limit or TRAIN_SIZE

    def to_dict(self) -> dict[str, Any]:
        # Every field is a plain value: a shallow copy is the whole dict, and 20 times
        # faster than dataclasses.asdict (listing 10,000 runs validates 10,000 specs).
        return dict(self.__dict__)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunSpec:
        unknown = sorted(set(values) - _FIELD_NAMES)
        if unknown:
            raise ValueError(f"unknown RunSpec field(s): {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def from_stored(cls, values: dict[str, Any]) -> RunSpec:
        """A spec as a store or file kept it: fields this version does not know (written by
        a newer one) are left out, so the run still reads; the rest is checked as usual."""
        return cls.from_dict({k: v for k, v in values.items() if k in _FIELD_NAMES})

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        return cls.from_dict(json.loads(text))

    def describe(self) -> str:
        """A one-line summary for tables and logs."""
        parts = [self.model, f"{self.neurons} neurons"]
        if self.is_cnn:
            parts.append(f"{self.filters} filters {self.kernel_size}x{self.kernel_size}")
        parts += [f"{self.epochs} ep", f"batch {self.batch_size}", self.metric]
        if self.augment:
            parts.append("augmented")
        if self.train_limit:
            parts.append(f"{self.train_limit} images")
        if self.precision != "auto":
            parts.append(self.precision)
        return ", ".join(parts)


_DEFAULTS = {f.name: f.default for f in fields(RunSpec) if f.default is not MISSING}


def _int_problem(name: str, value: Any, low: int, high: int, why: str = "") -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{name} must be a whole number from {low} to {high}{why}; got {value!r}"]
    if not low <= value <= high:
        return [f"{name} must be from {low} to {high}{why}; got {value}"]
    return []


def _unknown(name: str, value: Any, allowed) -> str:
    return f"{name} must be one of {', '.join(allowed)}; got {value!r}"


def problems_of(values: dict[str, Any]) -> list[str]:
    """Every invalid field of would-be RunSpec ``values``, each naming the field and its range.

    Missing fields take the RunSpec defaults. The GUI uses this to show messages inline
    without constructing (and catching) a RunSpec.
    """
    v = SimpleNamespace(**{**_DEFAULTS, **values})
    out = []
    if v.model not in MODEL_KINDS:
        out.append(_unknown("model", v.model, MODEL_KINDS))
    out += _int_problem("neurons", v.neurons, 1, MAX_NEURONS)
    out += _int_problem("filters", v.filters, 1, MAX_FILTERS)
    max_kernel = MAX_KERNEL.get(v.model, SIDE)
    out += _int_problem("kernel_size", v.kernel_size, 1, max_kernel)
    out += _int_problem("epochs", v.epochs, 1, MAX_EPOCHS)
    largest_batch = TRAIN_SIZE
    if v.train_limit is not None:
        limit_problems = _int_problem("train_limit", v.train_limit, 1, TRAIN_SIZE)
        out += limit_problems
        largest_batch = TRAIN_SIZE if limit_problems else v.train_limit
    out += _int_problem(
        "batch_size", v.batch_size, 1, largest_batch, why=" (the number of training images)"
    )
    if v.metric not in METRICS:
        out.append(_unknown("metric", v.metric, METRICS))
    if v.optimizer not in OPTIMIZERS:
        out.append(_unknown("optimizer", v.optimizer, OPTIMIZERS))
    if v.learning_rate is not None and not (
        isinstance(v.learning_rate, int | float) and 0 < v.learning_rate <= 10
    ):
        out.append(
            f"learning_rate must be a number in (0, 10] or empty for the default; "
            f"got {v.learning_rate!r}"
        )
    if not (isinstance(v.dropout, int | float) and 0 <= v.dropout < 1):
        out.append(f"dropout must be in [0, 1); got {v.dropout!r}")
    if v.seed is not None:
        out += _int_problem("seed", v.seed, 0, 2**31 - 1)
    if not isinstance(v.augment, bool):
        out.append(f"augment must be true or false; got {v.augment!r}")
    elif v.augment and v.model == "mlp":
        out.append("augment works on images: choose a CNN model, or turn augment off")
    if v.precision not in PRECISIONS:
        out.append(_unknown("precision", v.precision, PRECISIONS))
    return out


_FIELD_NAMES = frozenset(f.name for f in fields(RunSpec))
