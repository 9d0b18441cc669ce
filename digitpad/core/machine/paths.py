"""Where DigitPad keeps its files: one data folder, overridable for tests and portable installs."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "DigitPad"
HOME_ENV = "DIGITPAD_HOME"
WEIGHTS_ENV = "DIGITPAD_WEIGHTS"

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # digitpad/, from core/machine/paths.py
# The pretrained networks: inside the installed package (a wheel carries them as
# digitpad/weights/), or the checkout's top-level weights/ folder (their source of truth,
# which a checkout or an editable install reads directly).
_INSTALLED_WEIGHTS = PACKAGE_DIR / "weights"
SHIPPED_WEIGHTS_DIR = (
    _INSTALLED_WEIGHTS if _INSTALLED_WEIGHTS.is_dir() else PACKAGE_DIR.parent / "weights"
)


def data_home() -> Path:
    """Return DigitPad's data folder (``$DIGITPAD_HOME`` if set, else the user data folder),
    as an absolute path: a relative ``$DIGITPAD_HOME`` is read against the working folder
    once, here, not again by each later use (workers, a changed working folder).

    The folder is created if it does not exist yet.
    """
    configured = os.environ.get(HOME_ENV)
    home = (
        Path(os.path.abspath(Path(configured).expanduser()))
        if configured
        else Path(platformdirs.user_data_dir(APP_NAME))
    )
    home.mkdir(parents=True, exist_ok=True)
    return home


def weights_dir() -> Path:
    """Folder of the pretrained weights (``$DIGITPAD_WEIGHTS`` if set, else ``weights/``)."""
    configured = os.environ.get(WEIGHTS_ENV)
    return Path(configured).expanduser() if configured else SHIPPED_WEIGHTS_DIR
