"""numpy arrays <-> QImages: grey images, signed heat maps, overlays, and image files.

Colours come from pyqtgraph's colour maps: ``CET-D1`` (blue - white - red) for signed
values (saliency, weights), so that zero is always white and the sign always reads the same.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPixmap

from digitpad.core.machine.files import replacing

DIVERGING = "CET-D1"
GAP_COLOUR = (60, 60, 60, 255)  # the lines between tiles of a mosaic


def grey_image(values: np.ndarray, low: float = 0.0, high: float = 1.0) -> QImage:
    """A 2-D array as a grey QImage: ``low`` black, ``high`` white; NaN (a mosaic's gaps)
    dark grey."""
    array = np.asarray(values, np.float32)
    span = max(high - low, 1e-12)
    levels = np.clip((np.nan_to_num(array, nan=low) - low) / span, 0.0, 1.0) * 255
    rgba = np.repeat(np.rint(levels).astype(np.uint8)[..., None], 4, axis=-1)
    rgba[..., 3] = 255
    rgba[np.isnan(array)] = GAP_COLOUR
    return _rgba_image(rgba)


def signed_image(values: np.ndarray, limit: float | None = None, alpha: bool = False) -> QImage:
    """Signed values on a diverging map: -limit blue, 0 white, +limit red.

    ``limit`` defaults to the largest magnitude. With ``alpha``, opacity grows with the
    magnitude, so the image can lie over another one (zero is see-through).
    """
    array = np.asarray(values, np.float32)
    finite = np.nan_to_num(array, nan=0.0)
    limit = float(np.abs(finite).max()) if limit is None else limit
    scaled = finite / limit if limit > 0 else np.zeros_like(finite)
    position = np.clip(0.5 + 0.5 * scaled, 0.0, 1.0)
    rgba = _diverging_table()[np.rint(position * 255).astype(np.intp)]
    if alpha:
        rgba[..., 3] = np.rint(np.clip(np.abs(scaled), 0.0, 1.0) * 255)
    rgba[np.isnan(array)] = GAP_COLOUR
    return _rgba_image(rgba)


def overlay(base: QImage, top: QImage) -> QImage:
    """``top`` (with its alpha) drawn over ``base``, at ``base``'s size."""
    out = base.convertToFormat(QImage.Format.Format_ARGB32)
    painter = QPainter(out)
    painter.drawImage(out.rect(), top)
    painter.end()
    return out


def scaled_pixmap(image: QImage, width: int, height: int | None = None) -> QPixmap:
    """Blown up without smoothing, so that each network pixel stays a crisp square."""
    return QPixmap.fromImage(image).scaled(
        width,
        height or width,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


def read_image(path: str | Path) -> QImage:
    """An image file, read; ``ValueError`` naming the file and why it cannot be used (it is
    missing, too large for Qt to decode, or not a picture)."""
    reader = QImageReader(str(path))
    size = reader.size()  # from the file's header: nothing decoded yet
    limit_mb = reader.allocationLimit()
    if size.isValid() and limit_mb and size.width() * size.height() * 4 > limit_mb * 2**20:
        raise ValueError(
            f"{path} is too large to read ({size.width()}×{size.height()} pixels, more than "
            f"{limit_mb} MB once decoded): scale it down to a picture of one digit"
        )
    image = reader.read()
    if image.isNull():
        if not Path(path).is_file():
            raise ValueError(f"{path} does not exist")
        raise ValueError(f"{path} is not a readable image (use PNG, JPG or BMP)")
    return image


def read_grey(path: str | Path) -> np.ndarray:
    """An image file as a 2-D uint8 array of grey levels (alpha composited on white).

    Raises ``ValueError`` naming the file when it cannot be used (see ``read_image``).
    """
    return qimage_to_grey(read_image(path))


def qimage_to_grey(image: QImage) -> np.ndarray:
    """A QImage as a 2-D uint8 numpy array of grey levels (alpha composited on white)."""
    if image.hasAlphaChannel():
        flat = QImage(image.size(), QImage.Format.Format_RGB32)
        flat.fill(QColor("white"))
        painter = QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        image = flat
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    stride = grey.bytesPerLine()
    buffer = np.frombuffer(grey.constBits(), np.uint8, count=stride * grey.height())
    return buffer.reshape(grey.height(), stride)[:, : grey.width()].copy()


def save_image(image: QImage, path: str | Path, scale: int = 1) -> None:
    """Write ``image`` (blown up ``scale`` times, crisp) as a PNG; ``OSError`` on failure."""
    if scale > 1:
        image = image.scaled(
            image.width() * scale,
            image.height() * scale,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
    with replacing(path) as partial:
        if not image.save(str(partial), "PNG"):
            raise OSError(f"cannot write {path}")


@functools.cache
def _diverging_table() -> np.ndarray:
    """The diverging map's 256 colours (RGBA bytes), looked up by index: interpolating
    pyqtgraph's map for every pixel cost milliseconds per picture."""
    return pg.colormap.get(DIVERGING).map(np.linspace(0.0, 1.0, 256), mode="byte").astype(np.uint8)


def _rgba_image(rgba: np.ndarray) -> QImage:
    h, w, _ = rgba.shape
    data = np.ascontiguousarray(rgba)
    # RGBA8888 reads bytes in R, G, B, A order on every platform; copy() owns the pixels.
    return QImage(data.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
