"""Is a process still alive? Answered right on Linux, macOS and Windows.

``os.kill(pid, 0)`` is the POSIX idiom, but on Windows signal 0 is ``CTRL_C_EVENT``: it
would send Ctrl+C to the process (or its console group) instead of asking about it.
"""

from __future__ import annotations

import os
import sys

_STILL_ACTIVE = 259  # GetExitCodeProcess' code for a process that has not ended
_QUERY_LIMITED_INFORMATION = 0x1000
_ACCESS_DENIED = 5


def pid_alive(pid: int | None, platform: str = sys.platform) -> bool:
    """True while process ``pid`` exists and has not ended (zombies count as ended)."""
    if not pid or pid < 0:
        return False
    if platform == "win32":
        return _alive_windows(pid)
    return _alive_posix(pid)


def _alive_posix(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    # A zombie has ended but not been reaped yet (in containers nothing may ever reap it).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(") ")[2][:1] != "Z"
    except OSError:  # no /proc (macOS): alive as far as the kernel says
        return True


def _alive_windows(pid: int, kernel32=None, last_error=None) -> bool:
    """OpenProcess and GetExitCodeProcess; ``kernel32`` and ``last_error`` are for tests."""
    import ctypes

    if kernel32 is None:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        last_error = ctypes.get_last_error
    handle = kernel32.OpenProcess(_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        # Access denied: it exists but belongs to another user. Anything else: no such pid.
        return last_error() == _ACCESS_DENIED
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True  # cannot tell: assume alive rather than mark a live run as cut
        return code.value == _STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
