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


class DataFolderError(RuntimeError):
    """The data folder cannot be a folder here; the message names it and the fix."""


def data_home() -> Path:
    """Return DigitPad's data folder (``$DIGITPAD_HOME`` if set, else the user data folder),
    as an absolute path: a relative ``$DIGITPAD_HOME`` is read against the working folder
    once, here, not again by each later use (workers, a changed working folder).

    The folder is created if it does not exist yet; ``DataFolderError`` if it cannot be.
    """
    configured = os.environ.get(HOME_ENV)
    home = (
        Path(os.path.abspath(Path(configured).expanduser()))
        if configured
        else Path(platformdirs.user_data_dir(APP_NAME))
    )
    try:
        home.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DataFolderError(
            f"the data folder {home} is a file, not a folder: set {HOME_ENV} to a folder "
            "(or unset it to use the usual one); the file was left as it is"
        ) from None
    except OSError as exc:
        raise DataFolderError(
            f"cannot create the data folder {home} ({exc.strerror or exc}): set {HOME_ENV} "
            "to a folder you can write to"
        ) from None
    return home


def weights_dir() -> Path:
    """Folder of the pretrained weights (``$DIGITPAD_WEIGHTS`` if set, else ``weights/``)."""
    configured = os.environ.get(WEIGHTS_ENV)
    return Path(configured).expanduser() if configured else SHIPPED_WEIGHTS_DIR
