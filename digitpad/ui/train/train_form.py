"""The form for one run's hyperparameters; its values always map onto a core RunSpec."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from digitpad.core.data.mnist import TRAIN_SIZE
from digitpad.core.nets.precision import PRECISION_HELP, PRECISIONS, default_precision
from digitpad.core.nets.specs import (
    KIND_DEFAULTS,
    MAX_EPOCHS,
    MAX_FILTERS,
    MAX_NEURONS,
    METRICS,
    MODEL_KINDS,
    OPTIMIZERS,
    RunSpec,
    problems_of,
)

# One line each: a student is learning what these mean.
TIPS = {
    "model": "MLP: one hidden dense layer on the 784 pixels. CNN: convolution + pooling first, "
    "so the network sees shapes, not single pixels.",
    "neurons": "Units in the hidden dense layer: more learn finer patterns, but train slower.",
    "filters": "Feature maps of the (first) convolution: how many local patterns it looks for.",
    "kernel_size": "Side of the square window each convolution filter looks through, in pixels.",
    "epochs": "How many times training goes through all the training images.",
    "batch_size": "Images per weight update: small batches update often but noisily.",
    "metric": "What is reported while training; it does not change how the network learns.",
    "optimizer": "How the weights are moved down the loss gradient (the lab uses adam).",
    "learning_rate": "Size of each weight update; 'default' keeps the optimizer's own "
    "(adam: 0.001).",
    "dropout": "Share of units switched off at random in each training step (CNNs), "
    "against over-fitting.",
    "seed": "Fixes the random start, so a run can be repeated exactly; 'random' draws one.",
    "train_limit": "Train on the first N images only, for a quick try on a slow computer.",
    "augment": "Train on randomly rotated, zoomed, shifted and re-inked copies (CNNs), so "
    "hand-drawn digits are read better.",
    "precision": PRECISION_HELP[0].upper() + PRECISION_HELP[1:] + ".",
}


class TrainForm(QWidget):
    """Spin boxes and combos for a RunSpec. ``changed`` fires on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = QComboBox(objectName="modelKindCombo")
        for kind, title in MODEL_KINDS.items():
            self.kind.addItem(title, kind)
        self.neurons = _spin("neuronsSpin", 1, MAX_NEURONS)
        self.filters = _spin("filtersSpin", 1, MAX_FILTERS)
        self.kernel = _spin("kernelSizeSpin", 1, 27)
        self.epochs = _spin("epochsSpin", 1, MAX_EPOCHS)
        self.batch = _spin("batchSizeSpin", 1, TRAIN_SIZE)
        self.metric = QComboBox(objectName="metricCombo")
        self.metric.addItems(METRICS)
        self.optimizer = QComboBox(objectName="optimizerCombo")
        self.optimizer.addItems(OPTIMIZERS)
        self.learning_rate = QDoubleSpinBox(objectName="learningRateSpin")
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(0.0, 10.0)
        self.learning_rate.setSingleStep(0.0005)
        self.learning_rate.setSpecialValueText("default")
        self.dropout = QDoubleSpinBox(objectName="dropoutSpin")
        self.dropout.setRange(0.0, 0.95)
        self.dropout.setSingleStep(0.05)
        self.seed = _spin("seedSpin", -1, 2**31 - 1)
        self.seed.setSpecialValueText("random")
        self.train_limit = _spin("trainLimitSpin", 0, TRAIN_SIZE)
        self.train_limit.setSingleStep(1000)
        self.train_limit.setSpecialValueText(f"all {TRAIN_SIZE:,}")
        self.augment = QCheckBox("augment the training images", objectName="augmentCheck")
        self.precision = QComboBox(objectName="precisionCombo")
        self.precision.addItems(PRECISIONS)
        self.problems = QLabel("", objectName="formProblems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b00020;")

        layout = QFormLayout(self)
        rows = (
            ("Model", self.kind, "model"),
            ("Hidden neurons", self.neurons, "neurons"),
            ("Conv filters", self.filters, "filters"),
            ("Kernel size", self.kernel, "kernel_size"),
            ("Epochs", self.epochs, "epochs"),
            ("Batch size", self.batch, "batch_size"),
            ("Metric", self.metric, "metric"),
            ("Optimizer", self.optimizer, "optimizer"),
            ("Learning rate", self.learning_rate, "learning_rate"),
            ("Dropout", self.dropout, "dropout"),
            ("Seed", self.seed, "seed"),
            ("Training images", self.train_limit, "train_limit"),
            ("", self.augment, "augment"),
            ("Precision", self.precision, "precision"),
        )
        for label, widget, key in rows:
            widget.setToolTip(TIPS[key])
            layout.addRow(label, widget)
        layout.addRow(self.problems)

        self.kind.currentIndexChanged.connect(self._on_kind_changed)
        for spin in (
            self.neurons,
            self.filters,
            self.kernel,
            self.epochs,
            self.batch,
            self.learning_rate,
            self.dropout,
            self.seed,
            self.train_limit,
        ):
            spin.valueChanged.connect(self._on_edit)
        for combo in (self.metric, self.optimizer, self.precision):
            combo.currentIndexChanged.connect(self._on_edit)
        self.augment.toggled.connect(self._on_edit)
        self.set_spec(RunSpec.for_model("mlp", precision=default_precision()))

    # --- values ----------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """The form as RunSpec field values (possibly invalid)."""
        return {
            "model": self.kind.currentData(),
            "neurons": self.neurons.value(),
            "filters": self.filters.value(),
            "kernel_size": self.kernel.value(),
            "epochs": self.epochs.value(),
            "batch_size": self.batch.value(),
            "metric": self.metric.currentText(),
            "optimizer": self.optimizer.currentText(),
            "learning_rate": self.learning_rate.value() or None,
            "dropout": round(self.dropout.value(), 4),
            "seed": None if self.seed.value() < 0 else self.seed.value(),
            "train_limit": self.train_limit.value() or None,
            "augment": self.augment.isChecked() and self.kind.currentData() != "mlp",
            "precision": self.precision.currentText(),
        }

    def problems_list(self) -> list[str]:
        return problems_of(self.values())

    def spec(self) -> RunSpec:
        """The RunSpec the form describes; raises ValueError (with the reasons) if invalid."""
        return RunSpec(**self.values())

    def set_spec(self, spec: RunSpec) -> None:
        self._set_values(spec.to_dict())

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill from stored values; anything that is not a valid spec falls back to defaults."""
        try:
            self.set_spec(RunSpec.from_dict(values))
        except (ValueError, TypeError):
            self.set_spec(RunSpec.for_model("mlp"))

    def _set_values(self, v: dict[str, Any]) -> None:
        widgets = [
            self.kind,
            self.neurons,
            self.filters,
            self.kernel,
            self.epochs,
            self.batch,
            self.metric,
            self.optimizer,
            self.learning_rate,
            self.dropout,
            self.seed,
            self.train_limit,
            self.augment,
            self.precision,
        ]
        for w in widgets:
            w.blockSignals(True)
        self.kind.setCurrentIndex(max(self.kind.findData(v["model"]), 0))
        self.neurons.setValue(v["neurons"])
        self.filters.setValue(v["filters"])
        self.kernel.setValue(v["kernel_size"])
        self.epochs.setValue(v["epochs"])
        self.batch.setValue(v["batch_size"])
        self.metric.setCurrentText(v["metric"])
        self.optimizer.setCurrentText(v["optimizer"])
        self.learning_rate.setValue(v["learning_rate"] or 0.0)
        self.dropout.setValue(v["dropout"])
        self.seed.setValue(-1 if v["seed"] is None else v["seed"])
        self.train_limit.setValue(v["train_limit"] or 0)
        self.augment.setChecked(bool(v["augment"]))
        self.precision.setCurrentText(v.get("precision", "auto"))
        for w in widgets:
            w.blockSignals(False)
        self._on_edit()

    # --- reactions -------------------------------------------------------------------------

    def _on_kind_changed(self) -> None:
        kind = self.kind.currentData()
        current = self.values()
        # A new model kind starts from its lab defaults; the data settings stay as they were.
        keep = {
            k: current[k]
            for k in (
                "metric",
                "optimizer",
                "learning_rate",
                "dropout",
                "seed",
                "train_limit",
                "precision",
            )
        }
        self._set_values({**RunSpec.for_model(kind).to_dict(), **keep, **KIND_DEFAULTS[kind]})

    def _on_edit(self, *_args) -> None:
        cnn = self.kind.currentData() != "mlp"
        for widget in (self.filters, self.kernel, self.dropout, self.augment):
            widget.setEnabled(cnn)
        problems = self.problems_list()
        self.problems.setText("\n".join(problems))
        self.changed.emit()


def _spin(name: str, low: int, high: int) -> QSpinBox:
    spin = QSpinBox(objectName=name)
    spin.setRange(low, high)
    spin.setAccelerated(True)
    return spin
