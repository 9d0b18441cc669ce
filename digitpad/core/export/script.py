"""A ``CodePlan`` as a plain Keras script in the lab's style (and as the pieces the
notebook is made of): Keras, numpy and the standard library only, no DigitPad.

The script trains each run as DigitPad did (same layers in the same order, the lab's data
recipe, the seed, the thread count, TensorFlow's deterministic kernels), so on the same
computer with the same libraries it prints the stored numbers to the last digit. Its last
line is ``test accuracy …``: one figure per run, nothing after it.
"""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from digitpad import __version__
from digitpad.core.export.code_plan import CodePlan, Part
from digitpad.core.nets.models import DEEP_SECOND_DENSE, DEEP_SECOND_FILTERS
from digitpad.core.nets.specs import RunSpec

# Test images per step when validating and evaluating, as DigitPad does: the validation
# loss depends on how its sum is split (the accuracy does not).
from digitpad.core.nets.training import EVAL_BATCH

# What exercise 4's script saves its weights as (Keras 3 needs the .weights.h5 ending;
# the lab report's Keras 2 wrote application1.h5).
EX4_WEIGHTS = "application1.weights.h5"
LAST_LINE = "test accuracy"


@dataclass(frozen=True)
class Piece:
    """One step of the script: what it does in words (a notebook's markdown cell) and its
    code (a code cell)."""

    markdown: str
    code: str


def script_text(plan: CodePlan) -> str:
    """The whole script, ready to run with ``python``."""
    imports, constants, *functions = (piece.code for piece in script_pieces(plan))
    # One blank line after the imports (before constants), two around each function.
    body = f"{imports}\n\n{constants}\n\n\n" + "\n\n\n".join(functions)
    return f"{_docstring(plan)}\n\n{body}\n\n\n{_main(plan)}\n"


def script_pieces(plan: CodePlan) -> list[Piece]:
    """The steps shared by the script and the notebook, in order: settings and imports,
    constants, the lab's functions, then one function per part."""
    pieces = [
        Piece(
            "Settings that make the numbers the same as DigitPad's, then the imports: "
            "Keras, numpy and the standard library only.",
            _imports(plan),
        ),
        Piece("The data file, and each run's settings with its seed.", _constants(plan)),
        Piece("Reading MNIST, and the lab's network.", _functions(plan)),
        Piece("Training one run and reading its figures, as the lab does.", _TRAIN),
    ]
    for part in plan.parts:
        pieces.append(Piece(_part_markdown(part), _part_function(part)))
    return pieces


def part_function_name(part: Part) -> str:
    """The name of ``part``'s function: ``exercise_1``, ``run_12``, ``custom_neurons``."""
    if part.key.startswith("ex") and part.key[2:].isdigit():
        return f"exercise_{part.key[2:]}"
    if part.key.startswith("run"):
        return f"run_{part.key[3:]}"
    return part.key.replace("-", "_")


def _docstring(plan: CodePlan) -> str:
    expected = " ".join(f"{a:.4f}" for a in plan.expected_accuracies())
    about = (
        f"Made by DigitPad {__version__} on {date.today():%Y-%m-%d} from {plan.made_from}. It "
        "imports only Keras, numpy and Python's standard library. On the computer that "
        "trained those runs, with the same library versions, it prints their numbers to the "
        "last digit; elsewhere they differ a little (another processor sums floats in "
        "another order)."
    )
    lines = [
        _wrapped(f'"""{plan.title}, as a plain Keras script.', ""),
        "",
        _wrapped(about, ""),
    ]
    if expected:
        lines += [
            "",
            "The runs' stored test accuracies, which its last line prints again:",
            "",
            _wrapped(f"{LAST_LINE} {expected}", "    "),
        ]
    options = " [--exercise EX]" if len(plan.parts) > 1 else ""
    lines += ["", f"Run it: python {plan.name}.py [--mnist FILE]{options}", '"""']
    return "\n".join(lines)


def _imports(plan: CodePlan) -> str:
    threads = plan.threads
    lines = ["import argparse", "import os", "import statistics", "import time", ""]
    if threads:
        lines += [
            f"# DigitPad trained these runs with {threads} TensorFlow thread"
            f"{'s' if threads != 1 else ''} and TensorFlow's",
            "# deterministic kernels: the same here gives the same numbers. TensorFlow reads these",
            "# once, when Keras starts it.",
            f'os.environ["TF_NUM_INTRAOP_THREADS"] = "{threads}"',
            'os.environ["TF_NUM_INTEROP_THREADS"] = "1"',
            'os.environ["TF_DETERMINISTIC_OPS"] = "1"',
        ]
    else:
        lines += [
            "# These runs are from before DigitPad recorded its threads: the numbers will be",
            "# close to the stored ones, not equal. TensorFlow's deterministic kernels:",
            'os.environ["TF_DETERMINISTIC_OPS"] = "1"',
        ]
    lines += [
        'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow\'s start-up notices',
        "",
        "import keras  # noqa: E402  (after the settings above)",
        "import numpy as np  # noqa: E402",
        "from keras import layers  # noqa: E402",
    ]
    return "\n".join(lines)


def _constants(plan: CodePlan) -> str:
    lines = [
        "# The MNIST file DigitPad trained on (Keras' mnist.npz layout); where it is missing,",
        "# keras.datasets.mnist downloads MNIST (online only).",
        _path_constant("MNIST_FILE", plan.mnist_file),
        "NUM_PIXELS = 28 * 28",
        "NUM_CLASSES = 10",
        f"EVAL_BATCH = {EVAL_BATCH}  # test images per step when validating and evaluating",
    ]
    if any(part.save_weights for part in plan.parts):
        lines.append(f'WEIGHTS_FILE = "{EX4_WEIGHTS}"  # exercise 4 saves, exercise 5 loads')
    elif any(part.first_five for part in plan.parts):
        lines.append("# Exercise 4's weights, as DigitPad saved them with its run.")
        lines.append(_path_constant("WEIGHTS_FILE", plan.weights_file))
    for part in plan.parts:
        lines += ["", *_runs_constant(part)]
    return "\n".join(lines)


def _path_constant(name: str, path: str) -> str:
    """``NAME = "path"``; a path in the home folder as ``~/…`` (the script can be moved to
    another account); a path longer than a line marked as such for the linters."""
    home = str(Path.home())
    if path.startswith(home + os.sep):
        line = f"{name} = os.path.expanduser({json.dumps('~' + path[len(home) :])})"
    else:
        line = f"{name} = {json.dumps(path)}"
    return line if len(line) <= 88 else f"{line}  # noqa: E501 (a path)"


def _runs_constant(part: Part) -> list[str]:
    """The part's runs: the settings they share once (``…_SETTINGS``), then each run's
    own (the swept value, the seed), with the DigitPad run it reproduces."""
    name = _runs_name(part)
    every = [_settings(run.spec) for run in part.runs]
    shared = {k: v for k, v in every[0].items() if all(s.get(k, v) == v and k in s for s in every)}
    if len(every) == 1:
        shared = {k: v for k, v in shared.items() if k != "seed"}
    what = f"{part.title}." if not part.first_five else f"{part.title}: the network it loads."
    base = name.removesuffix("_RUNS") + "_SETTINGS"
    said = (
        "Its settings, then its seed."
        if len(every) == 1
        else ("The settings its runs share, then each run's own with its seed.")
    )
    lines = [
        _wrapped(f"{what} {said}", "# "),
        _layout(f"{base} = dict(", [f"{k}={_literal(v)}" for k, v in shared.items()], ")", ""),
        f"{name} = [",
    ]
    for run, settings in zip(part.runs, every, strict=True):
        own = [f'"{k}": {_literal(v)}' for k, v in settings.items() if k not in shared]
        entry = "    {" + ", ".join([f"**{base}", *own]) + "},"
        note = f"run {run.run_id}"
        if run.shortened:
            note += (
                f", read by DigitPad after epoch {run.spec.epochs} of its "
                f"{run.result.spec.epochs}: the same as a {run.spec.epochs}-epoch run"
            )
        if len(f"{entry}  # {note}") <= 88:
            lines.append(f"{entry}  # {note}")
        else:
            lines += [_wrapped(note, "    # "), entry]
    lines.append("]")
    read_at = next((run.read_at for run in part.runs if run.read_at), ())
    if read_at:
        lines += [
            "# The table reads the one run after each of these epochs: with deterministic",
            "# training that is what separate runs of as many epochs give.",
            f"{name}_READ_AT = {list(read_at)}",
        ]
    return lines


def _runs_name(part: Part) -> str:
    return part_function_name(part).upper() + "_RUNS"


def _settings(spec: RunSpec) -> dict:
    """A run's settings as the script's ``train_and_evaluate`` reads them."""
    values: dict = {"model": spec.model, "neurons": spec.neurons}
    if spec.is_cnn:
        values.update(filters=spec.filters, kernel_size=spec.kernel_size, dropout=spec.dropout)
    values.update(epochs=spec.epochs, batch_size=spec.batch_size, metric=spec.metric)
    if spec.optimizer != "adam" or spec.learning_rate is not None:
        values.update(optimizer=spec.optimizer, learning_rate=spec.learning_rate)
    if spec.precision == "bfloat16":
        values["precision"] = "bfloat16"
    values.update(train_images=spec.train_size, seed=spec.seed)
    return values


def _literal(value) -> str:
    # Strings in double quotes (as the rest of the script), the rest as Python writes them.
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _wrapped(text: str, prefix: str, width: int = 88) -> str:
    """``text`` as lines of at most ``width`` characters, each starting with ``prefix``."""
    return textwrap.fill(
        text, width, initial_indent=prefix, subsequent_indent=prefix, break_on_hyphens=False
    )


def _functions(plan: CodePlan) -> str:
    kinds = plan.kinds
    bfloat16 = any(run.spec.precision == "bfloat16" for run in plan.runs)
    out_dtype = ', dtype="float32"' if bfloat16 else ""
    parts = [_LOAD_MNIST]
    if "mlp" in kinds:
        parts.append(_BASELINE_MODEL.replace("{OUT}", out_dtype))
    if "cnn" in kinds:
        parts.append(_CNN_MODEL.replace("{OUT}", out_dtype))
    if "cnn_deep" in kinds:
        deep = _DEEP_CNN_MODEL.replace("{SECOND_FILTERS}", str(DEEP_SECOND_FILTERS))
        deep = deep.replace("{SECOND_DENSE}", str(DEEP_SECOND_DENSE))
        parts.append(deep.replace("{OUT}", out_dtype))
    parts.append(_build(kinds, bfloat16))
    return "\n\n\n".join(parts)


def _build(kinds: set[str], bfloat16: bool) -> str:
    cnn_args = ['run["filters"]', 'run["kernel_size"]', 'run["neurons"]', 'run["dropout"]']
    calls = {
        "mlp": 'baseline_model(run["neurons"])',
        "cnn": _layout("        model = CNN_model(", cnn_args, ")", "        "),
        "cnn_deep": _layout("        model = deep_CNN_model(", cnn_args, ")", "        "),
    }
    lines = [
        "def build(run):",
        '    """The run\'s network, its layers in the lab\'s order."""',
    ]
    if bfloat16:
        lines += [
            "    # This run computed in bfloat16 (DigitPad's choice on this processor), its",
            "    # probabilities in float32.",
            '    policy = "mixed_bfloat16" if run.get("precision") == "bfloat16" else "float32"',
            "    keras.mixed_precision.set_global_policy(policy)",
        ]
    keyword = "if"
    for kind in ("mlp", "cnn", "cnn_deep"):
        if kind in kinds:
            call = calls[kind] if kind != "mlp" else f"        model = {calls[kind]}"
            lines += [f'    {keyword} run["model"] == "{kind}":', call]
            keyword = "elif"
    if bfloat16:
        lines.append('    keras.mixed_precision.set_global_policy("float32")')
    lines += [
        "    return model",
        "",
        "",
        "def build_and_compile(run):",
        '    """The run\'s network, compiled as the lab does (its optimizer, its metric)."""',
        "    model = build(run)",
        '    optimizer = run.get("optimizer", "adam")',
        '    if run.get("learning_rate") is not None:',
        "        optimizer = {",
        '            "adam": keras.optimizers.Adam,',
        '            "sgd": keras.optimizers.SGD,',
        '            "rmsprop": keras.optimizers.RMSprop,',
        '        }[optimizer](learning_rate=run["learning_rate"])',
        "    model.compile(",
        '        loss="categorical_crossentropy", optimizer=optimizer, metrics=[run["metric"]]',
        "    )",
        "    return model",
    ]
    return "\n".join(lines)


_LOAD_MNIST = '''def load_mnist(path):
    """MNIST as (train_images, train_labels), (test_images, test_labels), uint8."""
    if os.path.exists(path):
        with np.load(path) as data:
            return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
    print(f"{path} not found: downloading MNIST with keras.datasets.mnist")
    return keras.datasets.mnist.load_data()'''

_BASELINE_MODEL = '''def baseline_model(neurons):
    """Application 1: 784 inputs -> Dense(neurons, relu) -> Dense(10, softmax)."""
    return keras.Sequential(
        [
            keras.Input(shape=(NUM_PIXELS,)),
            layers.Dense(neurons, kernel_initializer="normal", activation="relu"),
            layers.Dense(
                NUM_CLASSES, kernel_initializer="normal", activation="softmax"{OUT}
            ),
        ]
    )'''

_CNN_MODEL = '''def CNN_model(filters, kernel_size, neurons, dropout):
    """Application 2: Conv2D, MaxPooling2D, Dropout, Flatten, Dense, Dense(10)."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(filters, kernel_size, activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(dropout),
            layers.Flatten(),
            layers.Dense(neurons, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"{OUT}),
        ]
    )'''

_DEEP_CNN_MODEL = '''def deep_CNN_model(filters, kernel_size, neurons, dropout):
    """Exercise 9: two convolution and pooling stages, two hidden dense layers."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(filters, kernel_size, activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D({SECOND_FILTERS}, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(dropout),
            layers.Flatten(),
            layers.Dense(neurons, activation="relu"),
            layers.Dense({SECOND_DENSE}, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"{OUT}),
        ]
    )'''

_TRAIN = '''def prepare(images, labels, model_kind):
    """The lab's recipe: reshape, float32, scale to [0, 1]; labels one-hot."""
    shape = (NUM_PIXELS,) if model_kind == "mlp" else (28, 28, 1)
    x = images.reshape((len(images), *shape)).astype("float32") / 255
    return x, keras.utils.to_categorical(labels, NUM_CLASSES)


def train_and_evaluate(run, mnist):
    """Train one run from its seed; return the model and its figures: test accuracy and
    MSE, convergence time (the wall time of fit, validation included), and per epoch."""
    (train_images, train_labels), (test_images, test_labels) = mnist
    keras.backend.clear_session()  # each run starts as a fresh program's would
    keras.utils.set_random_seed(run["seed"])
    count = run["train_images"]  # the first images of MNIST's 60,000
    x_train, y_train = prepare(train_images[:count], train_labels[:count], run["model"])
    x_test, y_test = prepare(test_images, test_labels, run["model"])
    model = build_and_compile(run)
    start = time.time()
    epoch_times = []
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_test, y_test),
        epochs=run["epochs"],
        batch_size=run["batch_size"],
        validation_batch_size=EVAL_BATCH,
        callbacks=[
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: epoch_times.append(time.time() - start)
            )
        ],
        verbose=2,
    )
    convergence_time = time.time() - start
    probabilities = model.predict(x_test, batch_size=EVAL_BATCH, verbose=0)
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == test_labels))
    mse = float(np.mean((probabilities - y_test.astype("float32")) ** 2))
    print(f"System accuracy: {accuracy:.4f}")
    print(f"Baseline Error: {100 - accuracy * 100:.2f}")
    print(f"the convergence time is : {convergence_time:.2f} seconds")
    figures = {"accuracy": accuracy, "mse": mse, "time": convergence_time}
    return model, figures, history.history, epoch_times


def at_epoch(figures, history, epoch_times, epoch):
    """A run's figures after ``epoch`` epochs (exercise 8 reads one run at several)."""
    if epoch == len(epoch_times):
        return figures
    return {
        "accuracy": history["val_accuracy"][epoch - 1],
        "mse": history.get("val_mse", [None] * epoch)[epoch - 1],
        "time": epoch_times[epoch - 1],
    }


def print_table(title, swept, columns, measure):
    """The lab's table: one column per value, the figure and the convergence time."""
    label = "MSE" if measure == "mse" else "System accuracy"
    width = max(len(label), len("Convergence time (s)")) + 2
    print()
    print(title)
    print(swept.ljust(width) + "".join(str(value).rjust(10) for value in columns))
    for name, key, digits in ((label, measure, 4), ("Convergence time (s)", "time", 1)):
        cells = [statistics.mean(f[key] for f in runs) for runs in columns.values()]
        print(name.ljust(width) + "".join(f"{cell:10.{digits}f}" for cell in cells))'''


def _part_markdown(part: Part) -> str:
    lines = [f"## {part.title}"]
    if part.question:
        lines += ["", f"*{part.question}*"]
    count = len(part.runs)
    if part.first_five:
        lines += [
            "",
            "Exercise 4's saved weights go into a fresh network, which reads the first "
            "five test images; then the whole test set, to check they are the run's.",
        ]
    elif part.param:
        lines += [
            "",
            f"{count} runs, {part.param} taking the table's values; the table at the "
            "end is the lab's.",
        ]
    elif any(run.read_at for run in part.runs):
        lines += ["", "One run, read after each epoch the table shows."]
    else:
        lines += ["", "One run with its settings and seed."]
    if part.save_weights:
        lines += ["", "The weights are saved with `model.save_weights`, as the lab asks."]
    return "\n".join(lines)


def _part_function(part: Part) -> str:
    name = part_function_name(part)
    runs = _runs_name(part)
    if not part.question and len(f'    """{part.title}."""') <= 88:
        doc = [f'    """{part.title}."""']
    else:
        doc = [_wrapped(f'"""{part.title}.', "    ")]
        if part.question:
            doc += ["", _wrapped(part.question, "    ")]
        doc += ['    """']
    if part.first_five:
        return "\n".join([f"def {name}(mnist):", *doc, *_first_five_body(runs)])
    lines = [f"def {name}(mnist):", *doc, "    columns = {}", "    accuracies = []"]
    lines += [
        f"    for run in {runs}:",
        "        model, figures, history, epoch_times = train_and_evaluate(run, mnist)",
        '        accuracies.append(figures["accuracy"])',
    ]
    if any(run.read_at for run in part.runs):
        lines += [
            f"        for epoch in {runs}_READ_AT:",
            "            columns[epoch] = [at_epoch(figures, history, epoch_times, epoch)]",
        ]
        swept = "epochs"
    elif part.param:
        lines.append(f'        columns.setdefault(run["{part.param}"], []).append(figures)')
        swept = part.param
    else:
        lines.append('        columns["result"] = [figures]')
        swept = ""
    if part.save_weights:
        lines += [
            "        model.save_weights(WEIGHTS_FILE)  # the lab's call",
            '        print(f"weights saved to {WEIGHTS_FILE}")',
        ]
    lines += [
        _layout(
            "    print_table(",
            [*map(json.dumps, (part.title, swept)), "columns", json.dumps(part.measure)],
            ")",
            "    ",
        ),
        "    return accuracies",
    ]
    return "\n".join(lines)


def _first_five_body(runs: str) -> list[str]:
    return [
        f"    run = {runs}[0]",
        "    (_, _), (test_images, test_labels) = mnist",
        "    model = build(run)  # a fresh network, never trained",
        "    model.load_weights(WEIGHTS_FILE)",
        "    model.summary()",
        '    x_five, _ = prepare(test_images[:5], test_labels[:5], run["model"])',
        "    probabilities = model.predict(x_five, verbose=0)",
        "    predicted = np.argmax(probabilities, axis=1)",
        '    print("| image | true label | predicted | probability |")',
        '    print("|---|---|---|---|")',
        "    for i in range(5):",
        "        print(",
        '            f"| {i + 1} | {test_labels[i]} | {predicted[i]} | "',
        '            f"{probabilities[i, predicted[i]]:.4f} |"',
        "        )",
        "    error = 100 - np.mean(predicted == test_labels[:5]) * 100",
        '    print(f"Error on these five: {error:.2f} %")',
        "    # The whole test set: the loaded network is the run's if this is its accuracy.",
        '    x_test, _ = prepare(test_images, test_labels, run["model"])',
        "    probabilities = model.predict(x_test, batch_size=EVAL_BATCH, verbose=0)",
        "    return [float(np.mean(np.argmax(probabilities, axis=1) == test_labels))]",
    ]


def _main(plan: CodePlan) -> str:
    names = {part.key: part_function_name(part) for part in plan.parts}
    lines = [
        "def main():",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        '    parser.add_argument("--mnist", default=MNIST_FILE, help="a Keras mnist.npz")',
    ]
    if len(plan.parts) > 1:
        entries = [f'"{key}": {name}' for key, name in names.items()]
        lines += [
            _layout("    parts = {", entries, "}", "    "),
            "    parser.add_argument(",
            '        "--exercise",',
            '        action="append",',
            "        choices=list(parts),",
            '        help="run only this part (repeat for several); default: all, in order",',
            "    )",
            "    args = parser.parse_args()",
            "    mnist = load_mnist(args.mnist)",
            "    accuracies = []",
            "    for key in args.exercise or list(parts):",
            "        accuracies += parts[key](mnist)",
        ]
    else:
        lines += [
            "    args = parser.parse_args()",
            "    mnist = load_mnist(args.mnist)",
            f"    accuracies = {next(iter(names.values()))}(mnist)",
        ]
    lines += [
        "    # The last line: each run's test accuracy, to compare with DigitPad's.",
        f'    print("{LAST_LINE} " + " ".join(f"{{a:.4f}}" for a in accuracies))',
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    return "\n".join(lines)


def _layout(opening: str, items: list[str], closing: str, indent: str, width: int = 88) -> str:
    """A call or a literal laid out as ruff format does: on one line when it fits, else its
    items on one line of their own, else one item a line with a trailing comma."""
    one_line = f"{opening}{', '.join(items)}{closing}"
    if len(one_line) <= width:
        return one_line
    inner = indent + "    "
    joined = inner + ", ".join(items)
    if len(joined) <= width:
        return f"{opening}\n{joined}\n{indent}{closing}"
    return "\n".join([opening, *(f"{inner}{item}," for item in items), indent + closing])
