"""The lab's exercises as presets, and the lab-style tables built from stored runs."""

from __future__ import annotations

import pytest

from conftest import fake_result
from digitpad.core.lab.sweeps import PRESETS, custom_sweep, lab_table
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunStore


def test_presets_follow_the_lab():
    assert PRESETS["ex1"].values == (8, 16, 32, 64, 128) and PRESETS["ex1"].param == "neurons"
    assert PRESETS["ex2"].values == (32, 64, 128, 256, 512)
    assert PRESETS["ex3"].base.metric == "mse" and PRESETS["ex3"].measure == "mse"
    for ex in ("ex6", "ex7"):  # made with 5 epochs, as the report's logs show
        assert PRESETS[ex].base.epochs == 5 and "5" in PRESETS[ex].note
    assert PRESETS["ex6"].values == (1, 3, 5, 7, 9) and PRESETS["ex6"].base.neurons == 128
    assert PRESETS["ex8"].values == (1, 2, 5, 10, 20) and PRESETS["ex8"].base.kernel_size == 3
    assert PRESETS["ex9"].base.model == "cnn_deep"
    for sweep in PRESETS.values():
        for row in sweep.reference.values():
            assert len(row) == len(sweep.values)


def test_specs_expand_values_repeats_and_overrides():
    specs = PRESETS["ex8"].specs(repeats=2, train_limit=2000, epochs=1)
    assert len(specs) == 10
    assert [s.epochs for s in specs[::2]] == [1, 2, 5, 10, 20]  # epochs swept: not overridden
    assert {s.seed for s in specs[:2]} == {0, 1} and all(s.train_limit == 2000 for s in specs)
    ex1 = PRESETS["ex1"].specs(epochs=1)
    assert all(s.epochs == 1 for s in ex1)


def test_custom_sweep_refuses_bad_values():
    with pytest.raises(ValueError, match="neurons must be from 1"):
        custom_sweep(RunSpec(), "neurons", [8, 0])
    with pytest.raises(ValueError, match="cannot sweep"):
        custom_sweep(RunSpec(), "model", ["cnn"])
    assert len(custom_sweep(RunSpec(), "neurons", [4, 8]).specs(repeats=3)) == 6


def test_lab_table_means_and_reference_rows(tmp_path):
    store = RunStore(tmp_path)
    sweep = PRESETS["ex1"]
    for spec, accuracy in zip(sweep.specs(repeats=2), [0.90, 0.92] * 5, strict=True):
        run_id = store.start_run(spec, sweep_id="s1")
        store.finish_run(run_id, fake_result(spec, accuracy))
    table = lab_table(sweep, store.list_runs(sweep_id="s1"))
    assert table.columns == ["8", "16", "32", "64", "128"]
    accuracy_row = dict(table.rows)["System accuracy"]
    assert accuracy_row[0] == "0.9100 ± 0.0141"
    assert dict(table.rows)["Report: system accuracy"][0] == "0.9261"
    markdown = table.to_markdown()
    assert "| System accuracy | 0.9100 ± 0.0141 |" in markdown
