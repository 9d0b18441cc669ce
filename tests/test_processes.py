"""Process liveness, right on every platform: Linux here, Windows' branch with its system
calls faked (``os.kill(pid, 0)`` would send Ctrl+C there)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from digitpad.core.machine import processes
from digitpad.core.machine.processes import pid_alive


def test_a_running_process_is_alive_and_an_ended_one_is_not():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid)
        child.kill()
        # Not reaped yet: a zombie, which has ended all the same.
        deadline = time.monotonic() + 10
        while pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)
    assert pid_alive(os.getpid())
    assert not pid_alive(None) and not pid_alive(0)


class FakeKernel32:
    """OpenProcess / GetExitCodeProcess / CloseHandle as Windows answers them."""

    def __init__(self, processes: dict[int, int], denied: set[int] = frozenset()):
        self.processes = processes  # pid -> exit code (259: still active)
        self.denied = denied
        self.closed = []
        self.error = 0

    def OpenProcess(self, access, inherit, pid):
        if pid in self.denied:
            self.error = 5
            return 0
        if pid not in self.processes:
            self.error = 87
            return 0
        return 1000 + pid

    def GetExitCodeProcess(self, handle, code_ref):
        code_ref._obj.value = self.processes[handle - 1000]
        return 1

    def CloseHandle(self, handle):
        self.closed.append(handle)


def test_windows_liveness_asks_for_the_exit_code_and_never_signals(monkeypatch):
    kernel = FakeKernel32({10: 259, 11: 0}, denied={12})
    real = processes._alive_windows

    def windows(pid):
        return real(pid, kernel, lambda: kernel.error)

    def no_signals(*args):
        raise AssertionError("os.kill on Windows sends Ctrl+C")

    monkeypatch.setattr(processes, "_alive_windows", windows)
    monkeypatch.setattr(processes.os, "kill", no_signals)
    assert pid_alive(10, platform="win32")  # still active
    assert not pid_alive(11, platform="win32")  # ended with code 0
    assert pid_alive(12, platform="win32")  # another user's: exists
    assert not pid_alive(13, platform="win32")  # no such process
    assert kernel.closed == [1010, 1011]  # every handle opened is closed
