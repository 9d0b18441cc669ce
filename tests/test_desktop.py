"""Starting like a desktop app: no display, missing X11 libraries, the application-menu
entry, --version, and a script that forgets the main guard. Platforms other than this
Linux machine are faked where the code branches on them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from digitpad.cli import main
from digitpad.core.store.runs import RunStore
from digitpad.desktop import (
    XCB_LIBRARIES,
    desktop_entry_text,
    display_problem,
    entry_paths,
    install_desktop_entry,
    uninstall_desktop_entry,
)


def test_without_a_display_digitpad_says_so_in_one_line_and_exits_2():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    done = subprocess.run(
        [sys.executable, "-m", "digitpad"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2  # not 134: no abort, no core dump
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no display" in lines[0] and "digitpad-cli train|sweep|lab|runs" in lines[0]


def test_missing_xcb_libraries_are_named_with_their_packages():
    problem = display_problem(
        {"DISPLAY": ":0"}, platform="linux", loads=lambda soname: "cursor" not in soname
    )
    assert problem is not None
    assert "libxcb-cursor.so.0" in problem.message
    assert "sudo apt install libxcb-cursor0" in problem.message  # Debian/Ubuntu
    assert "sudo dnf install xcb-util-cursor" in problem.message  # Fedora
    every = display_problem({"DISPLAY": ":0"}, platform="linux", loads=lambda soname: False)
    assert all(debian in every.message for _, debian, _ in XCB_LIBRARIES)


def test_a_usable_display_or_platform_is_no_problem():
    assert display_problem({"DISPLAY": ":0"}, platform="linux", loads=lambda s: True) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, platform="linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None
    for other in ("win32", "darwin"):  # they always have their display
        assert display_problem({}, platform=other) is None
    wayland_asked = display_problem({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "linux")
    assert "WAYLAND_DISPLAY is unset" in wayland_asked.message


def test_the_menu_entry_installs_and_uninstalls_in_the_users_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert main(["--install-desktop-entry"]) == 0
    entry, icon = entry_paths()
    assert entry == tmp_path / "share" / "applications" / "digitpad.desktop"
    text = entry.read_text()
    assert text.startswith("[Desktop Entry]\n") and "Type=Application" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert os.path.exists(exec_line[5:].split(" -m ")[0].strip('"'))  # a real program
    assert "Icon=digitpad" in text and icon.read_bytes()[:4] == b"\x89PNG"
    assert main(["--uninstall-desktop-entry"]) == 0
    assert not entry.exists() and not icon.exists()
    assert uninstall_desktop_entry() == []  # a second time: nothing left, no error


def test_the_menu_entry_is_refused_clearly_off_linux(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path)}
    for other in ("win32", "darwin"):
        with pytest.raises(OSError, match="Linux \\(XDG\\) menu entry"):
            install_desktop_entry(env, platform=other)
    assert not any(tmp_path.iterdir())
    assert "Exec=digitpad" in desktop_entry_text("digitpad")


def test_version_names_digitpad_and_its_libraries(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    for name in ("DigitPad 0.", "TensorFlow 2.", "Keras 3.", "PySide6 6.", "LiteRT "):
        assert name in out


UNGUARDED = """
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from digitpad.ui import MainWindow

app = QApplication([])
window = MainWindow()
window.train_tab.form.set_values({**window.train_tab.form.values(), "epochs": 1})
loop = QEventLoop()
window.train_tab.trainingEnded.connect(loop.quit)
QTimer.singleShot(120_000, loop.quit)
window.train_tab.start_training()
loop.exec()
print("STATUS:", window.train_tab.status.text(), flush=True)
import os
os._exit(0)
"""


def test_a_script_without_the_main_guard_gets_a_clear_error_not_a_hang(tmp_path):
    script = tmp_path / "my_digitpad.py"
    script.write_text(textwrap.dedent(UNGUARDED))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DIGITPAD_HOME": str(tmp_path / "h")}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180
    )
    status = next(line for line in done.stdout.splitlines() if line.startswith("STATUS:"))
    assert "my_digitpad.py runs DigitPad without 'if __name__ == \"__main__\":'" in status
    assert "put the code that starts the window or the training under that line" in status
    (run,) = RunStore(tmp_path / "h").list_runs()  # recorded, and not left "running"
    assert run.status == "failed" and "not started" in run.error
