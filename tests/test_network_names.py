"""One name per network: the shipped ones are named after what they are, an old name gets a
one-line hint, and a run's name (run:N) is made and read in one place."""

from __future__ import annotations

import numpy as np
import pytest
from test_store_paths import run_with_model

from digitpad.cli import main
from digitpad.core.inference.model_ref import ModelRefError, network_ref, resolve_model
from digitpad.core.inference.predictor import ModelSource, run_source
from digitpad.core.inference.weights import FALLBACK_ORDER, SHIPPED, shipped_name
from digitpad.core.mydigits.personal import network_key
from digitpad.core.nets.specs import MODEL_KINDS
from digitpad.core.store.run_refs import parse_run_ref, run_ref
from digitpad.core.store.runs import RunStore


def test_no_shipped_name_is_a_kind_of_another_network():
    for name, shipped in SHIPPED.items():
        # A shipped name that is also a kind of network trains that very architecture.
        assert name not in MODEL_KINDS or shipped.spec.model == name, name
    assert set(FALLBACK_ORDER) == set(SHIPPED)


@pytest.mark.parametrize("command", [["explain", "x.png", "--out", "o"], ["mydigits"]])
def test_the_old_name_cnn_gets_a_one_line_hint(command, tmp_path, capsys, monkeypatch, qapp):
    monkeypatch.chdir(tmp_path)
    if command[0] == "explain":
        import numpy as np

        from digitpad.render.pictures import grey_image, save_image

        image = np.zeros((28, 28), np.uint8)
        image[8:20, 12:16] = 255
        save_image(grey_image(image, high=255), tmp_path / "x.png")
        argv = [*command, "--model", "cnn"]
    else:
        argv = [*command, "--eval", "cnn"]
    with pytest.raises(SystemExit) as exit_code:
        main(argv)
    assert exit_code.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cnn_deep" in err and "--model cnn" in err
    with pytest.raises(ModelRefError, match="cnn_deep"):
        resolve_model("cnn", RunStore(tmp_path / "home"))
    assert shipped_name("cnn") == "cnn_deep" and shipped_name("best") == "best"


def test_a_run_is_named_run_n_in_one_place(tmp_path):
    assert run_ref(12) == "run:12" and parse_run_ref("run:12") == 12
    assert parse_run_ref("best") is None
    with pytest.raises(ValueError, match="run:N"):
        parse_run_ref("run:twelve")
    store = RunStore(tmp_path)
    run_id = run_with_model(store)
    source = run_source(store.get(run_id))
    assert network_ref(source) == network_key(source) == run_ref(run_id)
    assert resolve_model(run_ref(run_id), store) == source
    assert network_ref(ModelSource.shipped("best")) == "best"
    # The Results table's "My digits" column reads the score kept under that name.
    mine = store.my_digits()
    mine.add(3, np.full((28, 28), 255, np.uint8))
    mine.remember_score(network_key(source), mine.revision(), 0.75, 1)
    assert store.rows([run_id])[run_id].my_digits == 0.75


def test_a_saved_canvas_choice_of_cnn_opens_cnn_deep(qtbot, digitpad_home):
    from PySide6.QtCore import QSettings

    from digitpad.ui import MainWindow

    digitpad_home.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(digitpad_home / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("draw/model", "cnn")  # written by an earlier version
    settings.sync()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.draw_tab.predictor is not None, timeout=60_000)
    assert window.draw_tab.current_source().name == "cnn_deep"
    window.close()
