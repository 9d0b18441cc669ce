"""My digits in the core: the store, files, the checks before teaching, and teaching."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import fake_result
from digitpad.cli import main
from digitpad.core.inference.predictor import ModelSource, Predictor
from digitpad.core.mydigits.finetune import finetune, plan_finetune
from digitpad.core.mydigits.personal import check_teachable, split_held_out
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.my_digits import CORRECTED, MyDigitsError, read_npz, write_npz
from digitpad.core.store.runs import RunStore


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "home")


def test_each_drawing_is_kept_the_moment_it_is_added(store, tmp_path):
    mine = store.my_digits()
    image = np.zeros((28, 28), np.float32)
    image[5:20, 12:15] = 1.0
    strokes = [{"width": 0.05, "points": [[0.5, 0.2], [0.5, 0.8]]}]
    first = mine.add(1, image, strokes)
    before = mine.revision()
    # Another process (a new store on the same folder) sees it at once.
    again = RunStore(tmp_path / "home").my_digits()
    (drawing,) = again.drawings()
    assert drawing.id == first and drawing.label == 1 and drawing.strokes == strokes
    assert drawing.image.dtype == np.uint8 and drawing.image[10, 13] == 255
    mine.add(7, image, None, CORRECTED)
    assert mine.revision() > before
    assert mine.counts()[1] == 1 and mine.counts()[7] == 1 and len(mine) == 2
    mine.relabel(first, 4)
    mine.delete(mine.drawings()[-1].id)
    assert [(d.label, d.source) for d in mine.drawings()] == [(4, "collect")]
    with pytest.raises(MyDigitsError, match="0 to 9"):
        mine.add(10, image)
    with pytest.raises(MyDigitsError, match="28x28"):
        mine.add(3, np.zeros((20, 20)))


def test_npz_round_trip_and_clear_errors(tmp_path, styled_digits):
    images, labels = styled_digits
    path = tmp_path / "mine.npz"
    write_npz(path, images, labels)
    found = read_npz(path)
    np.testing.assert_array_equal(found.images, images)
    np.testing.assert_array_equal(found.labels, labels)
    assert found.refused == {}
    np.savez(tmp_path / "wrong.npz", images=images)
    with pytest.raises(MyDigitsError, match="expected x"):
        read_npz(tmp_path / "wrong.npz")
    np.savez(tmp_path / "shape.npz", x=images[:, :20], y=labels)
    with pytest.raises(MyDigitsError, match=r"\(n, 28, 28\)"):
        read_npz(tmp_path / "shape.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(MyDigitsError, match=r"not a readable \.npz"):
        read_npz(tmp_path / "text.npz")


def test_a_set_that_cannot_be_taught_says_why_in_one_line():
    with pytest.raises(MyDigitsError, match="empty"):
        check_teachable(np.array([], np.int64))
    with pytest.raises(MyDigitsError, match="all 3 of your drawings are 7s"):
        check_teachable(np.array([7, 7, 7]))
    with pytest.raises(MyDigitsError, match=r"at least 2 drawings; these have 1: 3 \(1\)"):
        check_teachable(np.array([1, 1, 3]))


def test_a_quarter_of_each_digit_is_held_back():
    labels = np.repeat(np.arange(10), [8, 8, 4, 2, 8, 8, 8, 8, 8, 12])
    train, test = split_held_out(labels)
    assert set(train).isdisjoint(test) and len(train) + len(test) == len(labels)
    for digit, count in zip(range(10), [8, 8, 4, 2, 8, 8, 8, 8, 8, 12], strict=True):
        held = int(np.sum(labels[test] == digit))
        assert held == max(1, round(count / 4))
    # The same set gives the same split: runs with and without replay are judged alike.
    again = split_held_out(labels)
    np.testing.assert_array_equal(again[1], test)


def test_runs_sort_by_their_score_on_my_digits(store):
    ids = []
    for accuracy in (0.9, 0.8, 0.95):
        run_id = store.start_run(RunSpec())
        store.finish_run(run_id, fake_result(RunSpec(), accuracy))
        ids.append(run_id)
    mine = store.my_digits()
    mine.add(3, np.ones((28, 28), np.float32))
    revision = mine.revision()
    for run_id, score in zip(ids, (0.5, 0.75, 0.25), strict=True):
        mine.remember_score(f"run:{run_id}", revision, score, 1)
    assert store.rows(ids)[ids[1]].my_digits == 0.75
    assert store.ordered_ids("my_digits", descending=True) == [ids[1], ids[0], ids[2]]
    # The set changes: the scores are stale, and shown blank until computed again.
    mine.add(4, np.ones((28, 28), np.float32))
    assert store.rows(ids)[ids[1]].my_digits is None


def test_teaching_the_shipped_mlp_a_slanted_thick_hand(mnist, styled_digits):
    """Replay: my held-back digits get better and MNIST stays within 0.5 points. Without
    replay: my digits get better too, but MNIST drops (catastrophic forgetting)."""
    images, labels = styled_digits
    source = ModelSource.shipped("mlp")
    outcomes = {}
    for replay in (True, False):
        spec, order = plan_finetune(source, images, labels, replay=replay)
        outcomes[replay] = finetune(spec.with_changes(seed=0), order, mnist).finetune
    kept, forgot = outcomes[True], outcomes[False]
    # The starting network, measured independently.
    base = Predictor(source).predict_batch(mnist.x_test.astype(np.float32) / 255.0)
    assert kept.mnist_before == pytest.approx(np.mean(base.argmax(1) == mnist.y_test), abs=2e-4)
    assert kept.mine_test == 30 and kept.mine_train == 90
    assert kept.mine_after > kept.mine_before + 0.1
    assert abs(kept.mnist_after - kept.mnist_before) <= 0.005
    assert forgot.mine_after > forgot.mine_before + 0.1
    assert forgot.mnist_before - forgot.mnist_after > 0.01  # more than a point lost
    assert forgot.mnist_after < kept.mnist_after
    assert len(kept.mine_by_epoch) == len(kept.mnist_by_epoch) == 5


def test_cli_mydigits_and_finetune_through_the_engine(capsys, tmp_path, styled_digits):
    images, labels = styled_digits
    with pytest.raises(SystemExit) as empty:
        main(["finetune", "--from", "mlp"])
    assert empty.value.code == 2
    assert "My digits is empty" in capsys.readouterr().err

    write_npz(tmp_path / "mine.npz", images, labels)
    assert main(["mydigits", "import", str(tmp_path / "mine.npz")]) == 0
    assert "added 120 drawing(s)" in capsys.readouterr().out
    assert main(["mydigits", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["7"] == 12

    assert main(["mydigits", "--eval", "mlp", "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    probs = Predictor(ModelSource.shipped("mlp")).predict_batch(images / 255.0)
    assert scored["accuracy"] == pytest.approx(np.mean(probs.argmax(1) == labels))
    assert scored["count"] == 120 and len(scored["confusion"]) == 10

    with pytest.raises(SystemExit) as unknown:
        main(["finetune", "--from", "run:99"])
    assert "no run 99" in capsys.readouterr().err and unknown.value.code == 2

    assert main(["finetune", "--from", "mlp", "--epochs", "1", "--jobs", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("run_id", "mnist_before", "mnist_after", "mine_before", "mine_after"):
        assert key in out
    assert out["mine_test"] == 30 and out["replay"] is True
    assert main(["runs", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["id"] == out["run_id"] and run["finetune_of"] == "mlp"
    assert run["test_accuracy"] == pytest.approx(out["mnist_after"])

    assert main(["mydigits", "export", str(tmp_path / "out")]) == 0
    files = sorted((tmp_path / "out").rglob("*.png"))
    assert len(files) == 120 and {f.parent.name for f in files} == {str(d) for d in range(10)}


def test_a_fine_tune_stopped_midway_is_kept_as_stopped(mnist, styled_digits):
    images, labels = styled_digits
    spec, order = plan_finetune(ModelSource.shipped("mlp"), images, labels)
    batches = []
    result = finetune(
        spec.with_changes(seed=0),
        order,
        mnist,
        on_progress=lambda p: batches.append(p) if p.kind == "batch" else None,
        should_stop=lambda: len(batches) >= 3,
    )
    assert result.status == "stopped" and result.epochs_run == 0
    assert result.finetune.base == "mlp" and 0 <= result.finetune.mine_after <= 1
    assert 0 < result.test_accuracy <= 1 and result.finetune.mnist_by_epoch == []


def test_an_npz_of_blank_or_broken_images_adds_only_the_drawings(tmp_path, styled_digits):
    images, labels = styled_digits
    good = images[:5].astype(np.float32) / 255
    broken = np.stack([good[0]] * 5)
    broken[0, 3, 3] = np.nan
    broken[1, 4, 4] = np.inf
    broken[2, 5, 5] = -0.5
    broken[3, 6, 6] = 7.0
    broken[4] = 0.0  # blank
    np.savez(tmp_path / "mixed.npz", x=np.concatenate([good, broken]), y=np.r_[labels[:5], [1] * 5])
    found = read_npz(tmp_path / "mixed.npz")
    np.testing.assert_array_equal(found.images, images[:5])
    np.testing.assert_array_equal(found.labels, labels[:5])
    assert sum(found.refused.values()) == 5
    assert found.refused["blank (no ink)"] == 1
    assert found.refused["negative values"] == 1
    assert found.refused["values that are not finite (NaN or infinite)"] == 2


def test_a_small_npz_of_300000_blank_images_is_refused_before_it_is_read(tmp_path, digitpad_home):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, x=np.zeros((300_000, 28, 28), np.uint8), y=np.zeros(300_000, int))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(MyDigitsError, match="holds 300,000 images; My digits takes at most"):
        read_npz(path)


@pytest.mark.parametrize(
    "x",
    [
        np.full((3, 28, 28), "7"),
        np.zeros((3, 28, 28), [("a", "u1"), ("b", "u1")]),
        np.zeros((3, 28, 28), "datetime64[s]"),
        np.zeros((3, 28, 28), bool),
    ],
    ids=["strings", "records", "dates", "booleans"],
)
def test_an_npz_whose_images_are_not_numbers_is_one_line(tmp_path, x):
    np.savez(tmp_path / "odd.npz", x=x, y=np.array([1, 2, 3]))
    with pytest.raises(MyDigitsError, match="not pixel numbers") as err:
        read_npz(tmp_path / "odd.npz")
    assert "\n" not in str(err.value)
