"""My digits to and from a folder of PNGs by label (``7/anything.png``), and ``.npz``.

Images are read and written with QtGui (no other image library is needed); what a picture
means as a digit is the core's rule (``preprocess.digit_from_picture``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitpad.core.data.preprocess import digit_from_picture
from digitpad.core.store.my_digits import (
    IMPORTED,
    MyDigits,
    MyDigitsError,
    read_npz,
    write_npz,
)
from digitpad.render.pictures import grey_image, read_grey, save_image


@dataclass
class ImportReport:
    """What an import added, and each file it skipped with why."""

    added: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # images of a .npz, by why

    def text(self) -> str:
        lines = [f"added {self.added} drawing(s)"]
        lines += [f"refused {count} image(s): {why}" for why, count in self.refused.items()]
        lines += [f"skipped {path}: {why}" for path, why in self.skipped]
        return "\n".join(lines)

    @property
    def anything_left_out(self) -> bool:
        return bool(self.skipped or self.refused)


def import_into(my_digits: MyDigits, source: Path) -> ImportReport:
    """Add a ``.npz`` file or a folder of PNGs by label to ``my_digits``."""
    source = Path(source)
    if source.suffix.lower() == ".npz":
        found = read_npz(source)
        added = my_digits.add_many(found.labels, found.images, IMPORTED)
        return ImportReport(added, refused=found.refused)
    if not source.is_dir():
        raise MyDigitsError(
            f"{source} is neither a folder nor a .npz file: give a folder with sub-folders "
            "0 to 9 of pictures (7/anything.png), or a Keras-style .npz"
        )
    report = ImportReport()
    images, labels = [], []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        label = path.parent.name
        if path.parent == source or label not in tuple("0123456789"):
            report.skipped.append((path, "not in a folder named 0 to 9"))
            continue
        try:
            image = read_digit_picture(path)
        except ValueError as exc:
            report.skipped.append((path, str(exc)))
            continue
        images.append(image)
        labels.append(int(label))
    report.added = my_digits.add_many(np.array(labels, np.int64), np.array(images), IMPORTED)
    return report


def read_digit_picture(path: Path) -> np.ndarray:
    """A picture of one digit as the 28x28 uint8 image a network reads.

    A 28x28 picture is taken as it is (a light digit on dark; dark on light is inverted);
    any other size goes through the same preprocessing as a drawing. ``ValueError`` says
    why a file cannot be used.
    """
    if path.stat().st_size == 0:
        raise ValueError("the file is empty")
    try:
        grey = read_grey(path)
    except ValueError as exc:  # said without the path, which the report puts first
        raise ValueError(str(exc).removeprefix(f"{path} ").removeprefix("is ")) from None
    return digit_from_picture(grey)


def export_from(my_digits: MyDigits, target: Path) -> int:
    """Write the set as ``target/<label>/<id>.png`` (white on black, 28x28) or, for a
    ``.npz`` target, as ``x`` and ``y``; returns how many drawings."""
    target = Path(target)
    if target.suffix.lower() == ".npz":
        images, labels = my_digits.arrays()
        target.parent.mkdir(parents=True, exist_ok=True)
        write_npz(target, images, labels)
        return len(labels)
    drawings = my_digits.drawings()
    for drawing in drawings:
        folder = target / str(drawing.label)
        folder.mkdir(parents=True, exist_ok=True)
        save_image(grey_image(drawing.image, high=255), folder / f"{drawing.id:05d}.png")
    return len(drawings)
