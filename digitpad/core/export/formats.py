"""The export formats, one list, and writing code exports (script, notebook) atomically."""

from __future__ import annotations

from pathlib import Path

from digitpad.core.export.code_plan import CodePlan
from digitpad.core.machine.files import write_text

CODE_FORMATS = {
    "script": "a plain Keras script (.py) that prints the same numbers",
    "notebook": "the same as a Jupyter notebook (.ipynb)",
}
NETWORK_FORMATS = {
    "keras": "the whole network (.keras)",
    "weights": "the lab's weights file (.weights.h5, model.save_weights)",
    "tflite": "LiteRT (.tflite), the canvas' engine",
    "onnx": "ONNX (.onnx), for ONNX Runtime",
}
FORMATS = {**CODE_FORMATS, **NETWORK_FORMATS}
# What a file of each format is called (a path without it gets it).
SUFFIXES = {
    "script": ".py",
    "notebook": ".ipynb",
    "keras": ".keras",
    "weights": ".weights.h5",
    "tflite": ".tflite",
    "onnx": ".onnx",
}


def with_suffix(path: str | Path, fmt: str) -> Path:
    """``path`` ending as ``fmt``'s files do (Keras refuses weights without .weights.h5)."""
    path = Path(path)
    suffix = SUFFIXES[fmt]
    return path if path.name.endswith(suffix) else path.with_name(path.name + suffix)


def code_text(plan: CodePlan, fmt: str) -> str:
    """The script's or the notebook's text."""
    if fmt == "script":
        from digitpad.core.export.script import script_text

        return script_text(plan)
    from digitpad.core.export.notebook import notebook_text

    return notebook_text(plan)


def write_code(plan: CodePlan, fmt: str, out: str | Path) -> Path:
    """Write ``plan`` as ``fmt`` to ``out`` (a temporary file renamed into place)."""
    path = with_suffix(out, fmt)
    write_text(path, code_text(plan, fmt))
    return path
