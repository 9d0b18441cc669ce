"""Time from launching DigitPad to its window on screen with a usable canvas, beside the
time a bare PySide6 window with pyqtgraph imported takes to appear (what Qt itself costs),
and their ratio.

DigitPad is launched the way the ``digitpad`` command does it (its entry point
``digitpad.cli.main`` with no arguments: the command line's imports, the display check,
then the window), in fresh processes (nothing cached in memory), alternating with the bare
window after one discarded warm-up pair. The package's bytecode is compiled first, as
pip does when it installs the wheel: an editable checkout run with
``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every module on every launch,
which no installed copy does (PySide6 and pyqtgraph are compiled already).

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time

from digitpad.core.machine.environment import cpu_name
from digitpad.core.machine.paths import PACKAGE_DIR

CHILD = r"""
import os, sys, time
t0 = float(sys.argv[1])
from digitpad import cli  # what the digitpad command imports first
from PySide6.QtCore import QTimer
from digitpad.ui import MainWindow

show_event = MainWindow.showEvent


def report(window):
    shown = time.time() - t0
    usable = window.draw_tab.canvas.isVisible() and window.draw_tab.canvas.isEnabled()
    window.wait_until_ready(60)
    ready = time.time() - t0
    print(f"{shown:.3f} {ready:.3f} {int(usable)}", flush=True)
    os._exit(0)


def show_then_report(self, event):
    show_event(self, event)
    QTimer.singleShot(0, lambda: report(self))  # after the first paint's queued events


MainWindow.showEvent = show_then_report
cli.main([])
"""


BARE = r"""
import time, sys
t0 = float(sys.argv[1])
from PySide6.QtWidgets import QApplication, QMainWindow
import pyqtgraph
app = QApplication([])
window = QMainWindow()
window.resize(1100, 720)
window.show()
app.processEvents()
shown = time.time() - t0
print(f"{shown:.3f} {shown:.3f} 1")
window.close()
"""


def launch(code: str, env: dict) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, repr(time.time())],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    s, r, usable = out.stdout.split()
    assert usable == "1", "the canvas was not usable when the window appeared"
    return float(s), float(r)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DIGITPAD_HOME": os.environ.get("DIGITPAD_HOME") or tempfile.mkdtemp(),
    }
    compileall.compile_dir(str(PACKAGE_DIR), quiet=1)  # as installing the wheel does
    launch(BARE, env), launch(CHILD, env)  # warm-up: the disk cache, not a first launch
    shown, ready, bare = [], [], []
    for _ in range(args.repeats):
        bare.append(launch(BARE, env)[0])
        s, r = launch(CHILD, env)
        shown.append(s)
        ready.append(r)
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores")
    print(
        f"{args.repeats} launches (medians): window shown with canvas usable "
        f"{statistics.median(shown):.2f} s (max {max(shown):.2f}); network ready "
        f"{statistics.median(ready):.2f} s (max {max(ready):.2f})"
    )
    print(
        f"bare PySide6 window with pyqtgraph imported: {statistics.median(bare):.2f} s; "
        f"ratio DigitPad / bare {statistics.median(shown) / statistics.median(bare):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
