"""Precision per run: auto picks bfloat16 only where the processor computes it, the choice
travels with the run to its worker, and the run records what it trained in."""

from __future__ import annotations

import json

import pytest

from conftest import drive
from digitpad.cli import main
from digitpad.core.engine import Engine, Job, RunFinished
from digitpad.core.engine.local import LocalBackend
from digitpad.core.machine.environment import cpu_flags
from digitpad.core.nets.precision import PRECISION_ENV, default_precision, resolve
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.training import train
from digitpad.core.store.runs import RunStore

EPYC = "flags\t\t: fpu sse sse2 avx avx2 fma f16c"  # this project's usual machine
SAPPHIRE_RAPIDS = "flags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile"
COOPER_LAKE = "flags\t\t: fpu avx2 avx512f avx512_bf16"
GRAVITON3 = "Features\t: fp asimd sve bf16 i8mm"
GRAVITON2 = "Features\t: fp asimd atomics"


def measured(speedup: float):
    """A stand-in for the once-per-processor timing, recording which kinds it was asked."""

    def speedup_of(model: str) -> float:
        speedup_of.asked.append(model)
        return speedup

    speedup_of.asked = []
    return speedup_of


@pytest.mark.parametrize(
    "cpuinfo, machine, model, speedup, expected",
    [
        (EPYC, "x86_64", "cnn", 2.0, "float32"),  # no native bfloat16: auto changes nothing
        (EPYC, "x86_64", "cnn_best", 2.0, "float32"),
        (SAPPHIRE_RAPIDS, "x86_64", "cnn", 1.75, "bfloat16"),  # the measurement
        (SAPPHIRE_RAPIDS, "x86_64", "cnn_deep", 1.5, "bfloat16"),
        (COOPER_LAKE, "x86_64", "cnn_best", 1.4, "bfloat16"),
        (COOPER_LAKE, "x86_64", "cnn", 0.92, "float32"),  # native but slower: this Xeon's case
        (COOPER_LAKE, "x86_64", "cnn_deep", 1.2, "float32"),  # within the noise: not worth it
        (SAPPHIRE_RAPIDS, "x86_64", "mlp", 2.0, "float32"),  # overhead-bound steps
        (GRAVITON3, "aarch64", "cnn", 1.6, "bfloat16"),
        (GRAVITON2, "aarch64", "cnn", 2.0, "float32"),
        (SAPPHIRE_RAPIDS, "riscv64", "cnn", 2.0, "float32"),
    ],
)
def test_auto_decides_by_the_processor_the_kind_and_the_measured_speed(
    cpuinfo, machine, model, speedup, expected
):
    timing = measured(speedup)
    assert resolve("auto", model, cpu_flags(cpuinfo), machine, timing) == expected
    native = cpuinfo in (SAPPHIRE_RAPIDS, COOPER_LAKE, GRAVITON3) and machine != "riscv64"
    # Only a native processor spends seconds timing a kind, and never for the MLP.
    assert timing.asked == ([model] if native and model != "mlp" else [])


def test_a_failed_measurement_trains_in_float32():
    def broken(model):
        raise RuntimeError("no memory for the timing networks")

    assert resolve("auto", "cnn", cpu_flags(SAPPHIRE_RAPIDS), "x86_64", broken) == "float32"


def test_each_kind_is_timed_once_per_processor_and_remembered(tmp_path, monkeypatch):
    from digitpad.core.nets import precision_speed

    timing = measured(0.9)
    assert precision_speed.measured_speedup("cnn", tmp_path, timing) == 0.9
    assert precision_speed.measured_speedup("cnn", tmp_path, measured(5.0)) == 0.9  # kept
    assert precision_speed.measured_speedup("cnn_deep", tmp_path, measured(1.6)) == 1.6
    # Another processor (a Dask worker's, or this computer's next one) measures its own.
    monkeypatch.setattr(precision_speed, "cpu_name", lambda: "Another CPU")
    assert precision_speed.measured_speedup("cnn", tmp_path, measured(1.8)) == 1.8
    assert len(json.loads((tmp_path / precision_speed.SPEEDS_FILE).read_text())) == 3
    (tmp_path / precision_speed.SPEEDS_FILE).write_text("{not json")  # damaged: measured again
    assert precision_speed.measured_speedup("cnn", tmp_path, measured(1.3)) == 1.3
    (tmp_path / precision_speed.SPEEDS_FILE).write_text("[1, 2]")  # not a record either
    assert precision_speed.measured_speedup("cnn", tmp_path, measured(1.4)) == 1.4


def test_the_timing_trains_both_precisions_and_leaves_float32():
    import keras

    from digitpad.core.nets import precision_speed

    speedup = precision_speed.time_both_precisions("cnn")
    assert 0.05 < speedup < 20  # a ratio of two real timings, whichever is faster here
    assert keras.mixed_precision.global_policy().name == "float32"


def test_an_explicit_precision_is_kept_and_a_wrong_one_named():
    assert resolve("float32", "cnn", cpu_flags(SAPPHIRE_RAPIDS), "x86_64") == "float32"
    assert resolve("bfloat16", "mlp", cpu_flags(EPYC), "x86_64") == "bfloat16"
    with pytest.raises(ValueError, match="precision must be one of"):
        RunSpec(precision="float16")


def test_the_environment_sets_the_default(monkeypatch):
    monkeypatch.setenv(PRECISION_ENV, "bfloat16")
    assert default_precision() == "bfloat16"
    monkeypatch.setenv(PRECISION_ENV, "nonsense")
    assert default_precision() == "auto"


def test_the_precision_reaches_the_worker_and_the_record(tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, LocalBackend(jobs=1))
    runs = [
        RunSpec(neurons=8, epochs=1, train_limit=600, seed=0, precision=p)
        for p in ("bfloat16", "auto")
    ]
    try:
        events = drive(engine, Job.plan((spec, None) for spec in runs), mnist)
    finally:
        engine.close()
    used = {
        e.record.spec.precision: e.record.result.precision
        for e in events
        if isinstance(e, RunFinished)
    }
    assert used == {"bfloat16": "bfloat16", "auto": "float32"}  # an MLP: float32 on auto
    rows = store.rows(r.id for r in store.list_runs())
    assert sorted(row.precision for row in rows.values()) == ["bfloat16", "float32"]


def test_the_command_line_flag_reaches_the_record(capsys, digitpad_home):
    argv = ["train", "--train-limit", "600", "--epochs", "1", "--precision", "bfloat16"]
    assert main([*argv, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["precision"] == "bfloat16"


def test_a_bfloat16_run_reads_as_well_as_float32_on_a_small_fixed_job(mnist):
    accuracy = {}
    for precision in ("float32", "bfloat16"):
        spec = RunSpec.for_model(
            "mlp", neurons=32, epochs=2, train_limit=6000, seed=0, precision=precision
        )
        result = train(spec, mnist)
        assert result.precision == precision
        accuracy[precision] = result.test_accuracy
    assert abs(accuracy["bfloat16"] - accuracy["float32"]) <= 0.005


def test_the_train_form_has_a_precision_that_presets_keep(window):
    from PySide6.QtWidgets import QComboBox

    from conftest import child

    form = window.train_tab.form
    combo = child(window, QComboBox, "precisionCombo")
    combo.setCurrentText("bfloat16")
    assert form.spec().precision == "bfloat16"
    panel = window.train_tab.sweep_panel
    panel.preset.setCurrentIndex(panel.preset.findData("ex6"))  # the exercise's settings...
    assert form.spec().model == "cnn" and form.spec().precision == "bfloat16"  # ...and yours
    _, specs = panel.sweep()
    assert {spec.precision for spec in specs} == {"bfloat16"}


def test_the_report_says_what_the_runs_trained_in():
    from types import SimpleNamespace

    from digitpad.core.report.machine_text import precision_text

    runs = [SimpleNamespace(precision=p) for p in ["float32"] * 24 + ["bfloat16"]]
    assert precision_text(runs) == "float32 for 24 runs, bfloat16 for 1 run"
    assert precision_text(runs[:3]) == "float32 (all 3 runs)"
    assert precision_text(runs[-1:]) == "bfloat16 (its one run)"
