"""Time from launching DigitPad to its window on screen with a usable canvas, beside the
time a bare PySide6 window with pyqtgraph imported takes to appear (what Qt itself costs),
and their ratio.

Starts fresh processes (so nothing is cached in memory), alternating the two kinds: the
real window reports when it is shown and when the network has loaded in the background.

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from digitpad.core.machine.environment import cpu_name

CHILD = r"""
import time, sys
t0 = float(sys.argv[1])
from PySide6.QtWidgets import QApplication
from digitpad.ui import MainWindow
app = QApplication([])
window = MainWindow()
window.show()
app.processEvents()
shown = time.time() - t0
usable = window.draw_tab.canvas.isVisible() and window.draw_tab.canvas.isEnabled()
window.wait_until_ready(60)
ready = time.time() - t0
print(f"{shown:.3f} {ready:.3f} {int(usable)}")
window.close()
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
