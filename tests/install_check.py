"""The install check (``make install-check``, part of ``make test``): run by the Python of a
fresh virtual environment where DigitPad was installed from its wheel, not editable, from a
folder outside the checkout. It proves that such an install reads drawings with every
shipped network.

    python install_check.py CHECKOUT
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def fail(message: str) -> None:
    print(f"install check FAILED: {message}", file=sys.stderr)
    sys.stdout.flush()
    os._exit(1)


def main() -> None:
    checkout = Path(sys.argv[1]).resolve()
    import digitpad
    from digitpad.core.inference.weights import SHIPPED
    from digitpad.core.machine.paths import SHIPPED_WEIGHTS_DIR

    package = Path(digitpad.__file__).resolve().parent
    if checkout in package.parents or Path.cwd().resolve() == checkout:
        fail(f"DigitPad was imported from the checkout ({package}), not from the install")
    if SHIPPED_WEIGHTS_DIR.resolve() != package / "weights":
        fail(f"the networks are read from {SHIPPED_WEIGHTS_DIR}, not from the package")
    print(f"DigitPad {digitpad.__version__} from {package}")

    from PySide6.QtWidgets import QApplication

    from digitpad.ui import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    window = MainWindow()
    window.show()
    tab = window.draw_tab
    window.wait_until_ready(120)  # the window lists its networks once it has started
    for name in SHIPPED:
        names = [tab.model_selector.itemData(i).name for i in range(tab.model_selector.count())]
        index = names.index(name) if name in names else -1
        if index < 0:
            fail(f"the shipped network {name} is not offered on the canvas")
        tab.model_selector.setCurrentIndex(index)
        if not window.wait_until_ready(120) or tab.predictor is None:
            fail(f"{name} did not load: {tab.detail_label.text()}")
        read = []
        for digit in range(10):
            seen = []
            tab.predicted.connect(seen.append)
            tab.draw_sample(digit)
            tab.predict_now()  # on the loaded network: LiteRT or TensorFlow, on this thread
            deadline = time.monotonic() + 30
            while not seen and time.monotonic() < deadline:
                QApplication.processEvents()
                time.sleep(0.01)
            tab.predicted.disconnect(seen.append)
            read.append(str(int(seen[-1].argmax())) if seen else "-")
        right = sum(got == str(digit) for digit, got in enumerate(read))
        engine = "LiteRT" if tab.predictor.engine == "litert" else "TensorFlow"
        print(f"{name}: reads the sample digits 0-9 as {' '.join(read)} ({right}/10, {engine})")
        if right < 8:
            fail(f"{name} read only {right} of the 10 sample digits")
    window.close()
    print("install check passed")
    sys.stdout.flush()
    os._exit(0)  # skip TensorFlow/Qt teardown


if __name__ == "__main__":
    main()
