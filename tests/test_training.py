"""train(): figures, progress events, stopping, seeds, saved files."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.training import evaluate_probabilities, train

QUICK = {"train_limit": 2000, "epochs": 1}


def test_quick_mlp_run_learns_and_reports(mnist, tmp_path):
    events = []
    spec = RunSpec(neurons=32, epochs=2, train_limit=3000, seed=1)
    result = train(spec, mnist, on_progress=events.append, save_dir=tmp_path / "run")
    assert result.status == "done" and result.epochs_run == 2
    assert result.test_accuracy > 0.5  # 10 % is chance; the net has learned something
    assert result.baseline_error == pytest.approx(100 - 100 * result.test_accuracy)
    assert result.params == 784 * 32 + 32 + 32 * 10 + 10
    assert result.train_size == 3000 and result.seed == 1
    assert result.convergence_time > 0
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_time"}
    assert len(result.history["val_loss"]) == 2
    # Fit time at the end of each epoch: rising, the last one within the convergence time.
    first, last = result.history["epoch_time"]
    assert 0 < first < last <= result.convergence_time
    # The last epoch's validation figures are the test-set figures (same data, same weights).
    assert result.history["val_accuracy"][-1] == pytest.approx(result.test_accuracy, abs=1e-4)
    assert result.history["val_loss"][-1] == pytest.approx(result.test_loss, rel=1e-3)

    batches = [e for e in events if e.kind == "batch"]
    epochs = [e for e in events if e.kind == "epoch"]
    assert len(batches) == 2 * 15 and len(epochs) == 2  # 3000 / 200 = 15 batches an epoch
    # Batch losses are per batch: their mean over an epoch is that epoch's loss.
    first_epoch = [e.loss for e in batches if e.epoch == 0]
    assert np.mean(first_epoch) == pytest.approx(epochs[0].loss, rel=1e-3)
    assert result.batch_losses == pytest.approx([e.loss for e in batches])

    assert (tmp_path / "run" / "model.keras").exists()
    assert (tmp_path / "run" / "model.weights.h5").exists()


def test_mlp_runs_many_steps_a_call_and_still_reports_every_chunk(mnist):
    from digitpad.core.nets.models import steps_per_execution

    spec = RunSpec(neurons=16, epochs=1, batch_size=32, train_limit=8000, seed=2)
    steps = 8000 // 32
    chunk = steps_per_execution(spec, steps)
    assert chunk > 1 and steps // chunk >= 20  # at least 20 loss points an epoch
    events = []
    result = train(spec, mnist, on_progress=events.append)
    batches = [e for e in events if e.kind == "batch"]
    assert len(batches) == -(-steps // chunk)
    # Each point is the mean loss of its chunk: weighted by chunk size, they give the epoch's.
    sizes = np.diff([0] + [min((e.batch + 1) * 32, 8000) for e in batches])
    weighted = np.average([e.loss for e in batches], weights=sizes)
    assert weighted == pytest.approx(result.history["loss"][0], rel=1e-3)


def test_mse_metric_is_tracked_and_measured(mnist):
    result = train(RunSpec(metric="mse", seed=2, **QUICK), mnist)
    assert set(result.history) == {"loss", "mse", "val_loss", "val_mse", "epoch_time"}
    assert result.history["val_mse"][-1] == pytest.approx(result.test_mse, rel=1e-3)


@pytest.mark.parametrize("stop_after", [1, 4])
def test_stop_takes_effect_within_one_batch(mnist, stop_after):
    batches = []

    def on_progress(event):
        if event.kind == "batch":
            batches.append(event)

    spec = RunSpec.for_model("cnn", epochs=3, batch_size=100, train_limit=5000, seed=3)
    result = train(spec, mnist, on_progress, should_stop=lambda: len(batches) >= stop_after)
    assert len(batches) == stop_after
    assert result.status == "stopped" and result.epochs_run == 0
    assert 0 <= result.test_accuracy <= 1  # the partial model is still evaluated


def test_stop_requested_before_start_still_stops(mnist):
    result = train(RunSpec(epochs=5, **{"train_limit": 2000}), mnist, should_stop=lambda: True)
    assert result.status == "stopped" and len(result.batch_losses) <= 1


def test_same_seed_same_result(mnist):
    a = train(RunSpec(seed=7, **QUICK), mnist)
    b = train(RunSpec(seed=7, **QUICK), mnist)
    assert a.test_accuracy == b.test_accuracy
    assert a.batch_losses == pytest.approx(b.batch_losses)


def test_evaluate_probabilities_matches_keras():
    import keras

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=50).astype(np.float32)
    labels = rng.integers(0, 10, 50)
    onehot = keras.utils.to_categorical(labels, 10)
    acc, loss, mse = evaluate_probabilities(probs, labels)
    assert loss == pytest.approx(
        float(np.mean(keras.losses.categorical_crossentropy(onehot, probs))), rel=1e-5
    )
    assert mse == pytest.approx(float(np.mean((probs - onehot) ** 2)), rel=1e-6)
    assert acc == np.mean(probs.argmax(1) == labels)
