"""The results table's model over the run store: order, filters, rows read on demand, and
runs arriving while someone looks at the table."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt

from conftest import fake_result
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunStore
from digitpad.ui.results.results_model import BLOCK, COLUMN_INDEX, RunTableModel

ACCURACY = COLUMN_INDEX["Accuracy"]


def finished(store: RunStore, accuracy: float, sweep_id: str | None = None, **spec) -> int:
    spec = RunSpec(**spec)
    run_id = store.start_run(spec, sweep_id)
    store.finish_run(run_id, fake_result(spec, accuracy))
    return run_id


def shown_ids(model: RunTableModel) -> list[int]:
    return [int(model.index(r, 0).data()) for r in range(model.rowCount())]


def test_rows_beyond_the_first_block_are_read_when_asked_for(tmp_path):
    store = RunStore(tmp_path)
    ids = [finished(store, 0.5 + i / 1000, neurons=1 + i % 50) for i in range(BLOCK + 60)]
    model = RunTableModel(store)
    model.reload()
    assert model.rowCount() == len(ids)
    last = model.index(model.rowCount() - 1, COLUMN_INDEX["Neurons"])
    assert last.data() == str(1 + (len(ids) - 1) % 50)
    model.sort(ACCURACY, Qt.SortOrder.DescendingOrder)
    assert shown_ids(model) == ids[::-1]  # accuracy rose with the id
    assert model.index(BLOCK + 5, ACCURACY).data() == f"{0.5 + (len(ids) - BLOCK - 6) / 1000:.4f}"


def test_a_finished_run_takes_its_place_and_the_selection_stays(tmp_path, qtbot):
    store = RunStore(tmp_path)
    low, high = finished(store, 0.90), finished(store, 0.98)
    model = RunTableModel(store)
    model.reload()
    model.sort(ACCURACY, Qt.SortOrder.DescendingOrder)
    selection = QItemSelectionModel(model)
    selection.select(
        model.index(model.row_of(low), 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )

    spec = RunSpec(neurons=32)
    middle = store.start_run(spec)
    model.upsert(store.get(middle))  # running: no accuracy yet, so last
    assert shown_ids(model) == [high, low, middle]
    store.finish_run(middle, fake_result(spec, 0.95))
    model.upsert(store.get(middle))
    assert shown_ids(model) == [high, middle, low]
    assert [i.row() for i in selection.selectedRows()] == [model.row_of(low)] == [2]


def test_runs_added_elsewhere_appear_with_the_next_update(tmp_path):
    store = RunStore(tmp_path)
    first = finished(store, 0.9)
    model = RunTableModel(store)
    model.reload()
    other_window = RunStore(tmp_path)
    elsewhere = finished(other_window, 0.91)
    mine = finished(store, 0.92)
    model.upsert(store.get(mine))
    assert sorted(shown_ids(model)) == [first, elsewhere, mine]


def test_filters_and_sort_combine(tmp_path):
    store = RunStore(tmp_path)
    a = finished(store, 0.93, "s1", neurons=8)
    b = finished(store, 0.97, "s1", neurons=64)
    finished(store, 0.99, "s2", neurons=128)
    cnn = RunSpec.for_model("cnn")
    store.finish_run(store.start_run(cnn, "s1"), fake_result(cnn, 0.985))
    model = RunTableModel(store)
    model.reload()
    model.sort(COLUMN_INDEX["Neurons"], Qt.SortOrder.DescendingOrder)
    model.set_filters("mlp", "s1")
    assert shown_ids(model) == [b, a]
    assert model.index(0, COLUMN_INDEX["Kernel"]).data() == ""  # an MLP has no kernel
