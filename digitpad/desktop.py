"""How DigitPad meets the desktop it starts on: is there a display, can Qt's xcb plugin
load, the application-menu entry, and the versions it runs with. No Qt is imported here:
these checks run before Qt, which would abort (and dump core) where they fail."""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from digitpad.core.machine.files import copy_file, write_text

APP_ID = "digitpad"
HEADLESS_HINT = "the headless commands work without one: digitpad-cli train|sweep|lab|runs|data"

# The system libraries Qt 6's xcb platform plugin needs that desktops often lack, with the
# packages that bring each: (soname, Debian/Ubuntu package, Fedora package).
XCB_LIBRARIES = (
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
)


def can_load(soname: str) -> bool:
    """True when the dynamic loader finds ``soname`` (as Qt's plugin would)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class DisplayProblem:
    """Why the window cannot open here, in one line, with the fix."""

    message: str


def display_problem(
    environ: os._Environ | dict | None = None,
    platform: str = sys.platform,
    loads=can_load,
) -> DisplayProblem | None:
    """None when Qt can open a window here; else what is missing and how to fix it.

    Only Linux and the other X11/Wayland systems are checked: Windows and macOS always
    have their display.
    """
    env = os.environ if environ is None else environ
    if platform in ("win32", "darwin"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if chosen in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb"):
        return None  # draws without a desktop
    wayland, x11 = bool(env.get("WAYLAND_DISPLAY")), bool(env.get("DISPLAY"))
    if chosen == "wayland" and not wayland:
        return DisplayProblem(
            "digitpad: QT_QPA_PLATFORM=wayland but no Wayland display (WAYLAND_DISPLAY is "
            f"unset); {HEADLESS_HINT}"
        )
    if not wayland and not x11:
        return DisplayProblem(
            "digitpad: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are "
            f"unset: an SSH session or a container?); {HEADLESS_HINT}, and "
            "'digitpad --screenshot FILE.png' renders the window without a display"
        )
    if chosen == "xcb" or (x11 and not wayland):
        missing = [entry for entry in XCB_LIBRARIES if not loads(entry[0])]
        if missing:
            debian = " ".join(entry[1] for entry in missing)
            fedora = " ".join(sorted({entry[2] for entry in missing}))
            return DisplayProblem(
                "digitpad: Qt's X11 (xcb) plugin cannot load: missing "
                f"{', '.join(entry[0] for entry in missing)}. Install them: "
                f"sudo apt install {debian} (Debian/Ubuntu), or sudo dnf install {fedora} "
                "(Fedora)"
            )
    return None


# --- the application menu (XDG) -----------------------------------------------------------


def xdg_data_home(environ: os._Environ | dict | None = None) -> Path:
    """``$XDG_DATA_HOME``, else ``~/.local/share``."""
    env = os.environ if environ is None else environ
    configured = env.get("XDG_DATA_HOME", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".local" / "share"


def entry_paths(environ=None) -> tuple[Path, Path]:
    """Where the launcher and its icon go: (``…/applications/digitpad.desktop``,
    ``…/icons/hicolor/256x256/apps/digitpad.png``)."""
    base = xdg_data_home(environ)
    return (
        base / "applications" / f"{APP_ID}.desktop",
        base / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png",
    )


def desktop_entry_text(command: str) -> str:
    """The XDG desktop entry that starts DigitPad with ``command``."""
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Version=1.5",
            "Name=DigitPad",
            "GenericName=Handwritten digit recogniser",
            "Comment=Draw digits, watch neural networks read them, run the MNIST lab",
            f"Exec={command}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=Education;Science;ArtificialIntelligence;",
            "Keywords=MNIST;neural network;Keras;digits;",
            "StartupWMClass=DigitPad",
            "",
        ]
    )


def install_desktop_entry(environ=None, platform: str = sys.platform) -> list[Path]:
    """Write the launcher and the icon into the user's folders; returns what was written."""
    _require_xdg(platform)
    entry, icon = entry_paths(environ)
    entry.parent.mkdir(parents=True, exist_ok=True)
    icon.parent.mkdir(parents=True, exist_ok=True)
    write_text(entry, desktop_entry_text(launch_command()))
    copy_file(Path(__file__).parent / "ui" / "icon.png", icon)
    return [entry, icon]


def uninstall_desktop_entry(environ=None, platform: str = sys.platform) -> list[Path]:
    """Remove the launcher and the icon; returns what was removed."""
    _require_xdg(platform)
    removed = []
    for path in entry_paths(environ):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def launch_command() -> str:
    """How the menu starts this DigitPad: its ``digitpad`` script beside this Python,
    else this Python running the package."""
    script = Path(sys.executable).parent / "digitpad"
    if script.exists():
        return _quoted(str(script))
    return f"{_quoted(sys.executable)} -m digitpad"


def _quoted(path: str) -> str:
    return f'"{path}"' if " " in path else path


def _require_xdg(platform: str) -> None:
    if platform in ("win32", "darwin"):
        raise OSError(
            "--install-desktop-entry writes a Linux (XDG) menu entry; on this system, "
            "start DigitPad with the digitpad command (pipx can add it to your PATH)"
        )


# --- versions -----------------------------------------------------------------------------


def versions_text() -> str:
    """DigitPad's version and those it runs with, from the installed packages' metadata
    (nothing is imported, so it answers in a blink and works without a display)."""
    from importlib import metadata

    from digitpad import __version__

    lines = [f"DigitPad {__version__}"]
    for label, package in (
        ("Python", None),
        ("TensorFlow", "tensorflow"),
        ("Keras", "keras"),
        ("PySide6", "PySide6-Essentials"),
        ("LiteRT", "ai-edge-litert"),
        ("Dask", "distributed"),
    ):
        if package is None:
            version = sys.version.split()[0]
        else:
            try:
                version = metadata.version(package)
            except metadata.PackageNotFoundError:
                version = "not installed"
        lines.append(f"{label} {version}")
    return "\n".join(lines)
