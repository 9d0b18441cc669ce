"""A class of 300 synthetic hand-ins of the whole lab (``class_handins.py``): the time to
import them into a fresh class store, to import the folder again (nothing new), to read
the class (tables and flags) and to open the Class view and sort its table by a column.

Targets (issue "A class"): import ≤ 30 s on two cores; the view opens and sorts in ≤ 1 s.

    python benchmarks/bench_class.py [--students 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))

from class_handins import synthetic_handin

from digitpad.core.classroom.class_store import ClassStore
from digitpad.core.classroom.class_tables import read_class
from digitpad.core.machine.environment import processor_name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--pdf-kb", type=int, default=2000, help="each hand-in's report.pdf (a whole lab's: ~2 MB)"
    )
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from digitpad.ui.classroom.class_view import ClassWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "handins"
        folder.mkdir()
        started = time.perf_counter()
        for number in range(args.students):
            synthetic_handin(folder, number, pdf_kb=args.pdf_kb)
        made = time.perf_counter() - started
        size = sum(p.stat().st_size for p in folder.iterdir()) / len(list(folder.iterdir()))
        times: dict[str, list[float]] = {"import": [], "again": [], "read": [], "view": []}
        for repeat in range(args.repeats):
            store = ClassStore(Path(tmp) / f"teacher-{repeat}")
            started = time.perf_counter()
            store.import_folder(folder)
            times["import"].append(time.perf_counter() - started)
            started = time.perf_counter()
            store.import_folder(folder)
            times["again"].append(time.perf_counter() - started)
            started = time.perf_counter()
            read_class(store)
            times["read"].append(time.perf_counter() - started)
            started = time.perf_counter()
            view = ClassWindow(store)
            view.show()
            view.sort_by(1)
            app.processEvents()
            times["view"].append(time.perf_counter() - started)
            view.close()
    print(
        f"CPU: {processor_name()}, {os.cpu_count()} cores; {args.students} hand-ins of "
        f"the whole lab ({size / 1024:.0f} KB each, made in {made:.1f} s); medians of "
        f"{args.repeats}"
    )
    for name, what in (
        ("import", "import into a fresh class store"),
        ("again", "import the folder again (nothing new)"),
        ("read", "read the class: tables and flags"),
        ("view", "open the Class view and sort by a column"),
    ):
        print(
            f"  {what}: {statistics.median(times[name]):.2f} s "
            f"(all: {', '.join(f'{t:.2f}' for t in times[name])})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
