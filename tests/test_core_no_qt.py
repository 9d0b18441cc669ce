"""The core must run headless: importing it loads no Qt and no pyqtgraph."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import digitpad.core

CORE = Path(digitpad.core.__file__).parent


def test_core_imports_no_qt():
    modules = [m.name for m in pkgutil.walk_packages(digitpad.core.__path__, "digitpad.core.")]
    files = {
        f"digitpad.core.{path.relative_to(CORE).with_suffix('').as_posix().replace('/', '.')}"
        for path in CORE.rglob("*.py")
    }
    # Every module of the core is imported below (a walk that missed a package would pass).
    assert {m.removesuffix(".__init__") for m in files} <= set(modules) | {"digitpad.core"}
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'pyqtgraph', 'shiboken6', 'PyQt5', 'PyQt6'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=240
    )
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["runs"],
        ["runs", "--csv"],
        ["data"],
        ["train", "--help"],
        ["lab", "--help"],
        ["export", "lab", "--as", "script", "--out", "lab.py"],
        ["reproduce", "1"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_cli_headless_commands_import_no_qt(argv, digitpad_home):
    """The commands that draw nothing run without Qt (a server without its libraries)."""
    code = (
        "import sys\nfrom digitpad import cli\n"
        f"try:\n    cli.main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('QT' if any(m.startswith('PySide6') for m in sys.modules) else 'clean')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=240
    )
    assert out.stdout.strip().endswith("clean"), out.stdout[-500:]
