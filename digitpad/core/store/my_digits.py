"""My digits: the student's own handwriting, a personal test set kept in the data folder.

Kept in the run database, beside the runs (so the Results table can sort runs by their
score on it, and a data folder carries its set along). Each drawing is written the moment it
is made (a collect round killed halfway loses nothing): its true label, the 28x28 image
the networks read (uint8, white on black, as MNIST) and, when it was drawn in the app, its
raw strokes. Every change bumps a revision number, so scores computed on the set can be
cached and known stale.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.core.machine.errors import first_line
from digitpad.core.machine.files import replacing, write_text
from digitpad.core.store.database import transaction
from digitpad.core.store.run_refs import RUN_REF_PREFIX

SIDE = 28

# Created by RunStore with its own tables (and by MyDigits, for a database on its own).
SCHEMA = """
CREATE TABLE IF NOT EXISTS my_digits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    image BLOB NOT NULL,
    strokes_json TEXT,
    source TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS my_digits_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS my_digits_scores (
    network TEXT NOT NULL,
    revision INTEGER NOT NULL,
    accuracy REAL NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (network, revision)
);
"""
# A run's score on the set as it is now, as an SQL expression over the runs table (the
# Results table's "My digits" column, sortable like the others).
RUN_SCORE_SQL = (
    "(SELECT accuracy FROM my_digits_scores WHERE network = "
    f"'{RUN_REF_PREFIX}' || runs.id AND revision = "
    "(SELECT value FROM my_digits_meta WHERE key = 'revision'))"
)

# Where a drawing came from.
COLLECTED, CORRECTED, IMPORTED = "collect", "correction", "import"

Stroke = dict  # {"width": share of the canvas side, "points": [[x, y], ...] in 0..1}


PENDING_FOLDER = "my-digits-pending"  # beside the database: drawings it could not take yet


class MyDigitsError(ValueError):
    """The personal set cannot do what was asked; the message says why and what to do."""


class MyDigitsUnavailable(MyDigitsError):
    """The database cannot be used now (locked, read-only, disk full); nothing was lost:
    a new drawing is kept aside (see ``MyDigits.add``)."""


@dataclass(frozen=True)
class Drawing:
    """One of my digits."""

    id: int
    label: int
    image: np.ndarray  # (28, 28) uint8, white digit on black
    strokes: list[Stroke] | None
    source: str
    created: float


class MyDigits:
    """The personal set in the SQLite database at ``path`` (the run store's, normally:
    ``RunStore.my_digits()``). Any thread may call it: each call has its own connection."""

    def __init__(
        self, path: Path, timeout: float = 10.0, create: bool = True, read_only: bool = False
    ):
        self.path = Path(path)
        self.timeout = timeout
        self.read_only = read_only
        self.pending_folder = self.path.parent / PENDING_FOLDER
        self._unsaved: list[dict] = []  # kept in memory when not even a file could be written
        self.left_in_place: list[str] = []  # kept-aside files that could not be read, and why
        if create:  # RunStore creates these tables with its own
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._db() as db:
                db.executescript(SCHEMA)

    def _db(self):
        return transaction(self.path, self.timeout, MyDigitsUnavailable, read_only=self.read_only)

    # --- changes ------------------------------------------------------------------------

    def add(
        self,
        label: int,
        image: np.ndarray,
        strokes: list[Stroke] | None = None,
        source: str = COLLECTED,
    ) -> int:
        """Store one drawing now; returns its id.

        When the database cannot take it (locked, read-only, disk full) the drawing is kept
        aside, in a file beside the database or else in memory, and joins the set at the
        next write that succeeds; ``MyDigitsUnavailable`` then says where it is."""
        row = {
            "label": _checked_label(label),
            "image": as_image(image).ravel().tolist(),
            "strokes": strokes,
            "source": source,
            "created": time.time(),
        }
        try:
            self.add_pending()
            with self._db() as db:
                drawing_id = _insert(db, row)
                _bump(db)
                return drawing_id
        except MyDigitsUnavailable as exc:
            raise MyDigitsUnavailable(f"{exc} {self._keep_aside(row)}") from exc

    def _keep_aside(self, row: dict) -> str:
        """Keep a drawing the database could not take; says where, for the message."""
        try:
            self.pending_folder.mkdir(parents=True, exist_ok=True)
            path = write_text(self.pending_folder / f"{time.time_ns()}.json", json.dumps(row))
        except OSError:
            self._unsaved.append(row)
            return (
                "Your drawing is kept in memory and is saved at the next drawing that can "
                "be written; it is lost if DigitPad is closed before then."
            )
        return f"Your drawing was kept in {path} and joins My digits at the next save."

    def pending_count(self) -> int:
        """Drawings kept aside, waiting for the database."""
        try:
            files = len(list(self.pending_folder.glob("*.json")))
        except OSError:
            files = 0
        return files + len(self._unsaved)

    def add_pending(self) -> int:
        """Put the drawings kept aside into the set (``MyDigitsUnavailable`` if it still
        cannot be written); how many."""
        files = sorted(self.pending_folder.glob("*.json")) if self.pending_folder.is_dir() else []
        rows, readable = list(self._unsaved), []
        self.left_in_place = []
        for path in files:
            try:
                row = _pending_row(json.loads(path.read_text()))
            except (OSError, ValueError) as exc:  # left in place for a person to look at
                self.left_in_place.append(f"{path} ({first_line(exc)})")
                continue
            rows.append(row)
            readable.append(path)
        if not rows:
            return 0
        with self._db() as db:
            for row in rows:
                _insert(db, row)
            _bump(db)
        self._unsaved.clear()
        for path in readable:
            path.unlink(missing_ok=True)
        return len(rows)

    def add_many(self, labels: np.ndarray, images: np.ndarray, source: str = IMPORTED) -> int:
        """Store many drawings in one transaction (imports); returns how many."""
        rows = [
            (_checked_label(label), as_image(image).tobytes(), None, source, time.time())
            for label, image in zip(labels, images, strict=True)
        ]
        with self._db() as db:
            db.executemany(
                "INSERT INTO my_digits (label, image, strokes_json, source, created) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            if rows:
                _bump(db)
        return len(rows)

    def delete(self, drawing_id: int) -> None:
        with self._db() as db:
            db.execute("DELETE FROM my_digits WHERE id = ?", (drawing_id,))
            _bump(db)

    def relabel(self, drawing_id: int, label: int) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE my_digits SET label = ? WHERE id = ?", (_checked_label(label), drawing_id)
            )
            _bump(db)

    # --- reading ------------------------------------------------------------------------

    def revision(self) -> int:
        """A number that changes whenever the set does."""
        with self._db() as db:
            row = db.execute("SELECT value FROM my_digits_meta WHERE key = 'revision'").fetchone()
        return int(row[0]) if row else 0

    def drawings(self) -> list[Drawing]:
        """Every drawing, by digit then age."""
        with self._db() as db:
            rows = db.execute(
                "SELECT id, label, image, strokes_json, source, created FROM my_digits "
                "ORDER BY label, id"
            ).fetchall()
        return [
            Drawing(
                int(i),
                int(label),
                np.frombuffer(image, np.uint8).reshape(SIDE, SIDE).copy(),
                None if strokes is None else json.loads(strokes),
                source,
                float(created),
            )
            for i, label, image, strokes, source, created in rows
        ]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: ``(n, 28, 28)`` uint8 images and ``(n,)`` int64 labels, Keras style."""
        drawings = self.drawings()
        x = np.zeros((len(drawings), SIDE, SIDE), np.uint8)
        for i, drawing in enumerate(drawings):
            x[i] = drawing.image
        return x, np.array([d.label for d in drawings], np.int64)

    def counts(self) -> dict[int, int]:
        """How many drawings of each digit (every digit listed, zeros too)."""
        with self._db() as db:
            rows = db.execute("SELECT label, COUNT(*) FROM my_digits GROUP BY label").fetchall()
        counts = dict.fromkeys(range(10), 0)
        counts.update({int(label): int(n) for label, n in rows})
        return counts

    def __len__(self) -> int:
        return sum(self.counts().values())

    # --- cached scores --------------------------------------------------------------------

    def cached_score(self, network: str, revision: int | None = None) -> float | None:
        """A network's accuracy on the set at ``revision`` (default: now), if computed."""
        revision = self.revision() if revision is None else revision
        with self._db() as db:
            row = db.execute(
                "SELECT accuracy FROM my_digits_scores WHERE network = ? AND revision = ?",
                (network, revision),
            ).fetchone()
        return None if row is None else float(row[0])

    def cached_scores(self) -> dict[str, float]:
        """Every network's cached accuracy on the set as it is now."""
        revision = self.revision()
        with self._db() as db:
            rows = db.execute(
                "SELECT network, accuracy FROM my_digits_scores WHERE revision = ?", (revision,)
            ).fetchall()
        return {network: float(accuracy) for network, accuracy in rows}

    def remember_score(self, network: str, revision: int, accuracy: float, count: int) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO my_digits_scores (network, revision, accuracy, count) "
                "VALUES (?, ?, ?, ?)",
                (network, revision, accuracy, count),
            )
            # Scores of older revisions will never be asked for again.
            db.execute("DELETE FROM my_digits_scores WHERE revision < ?", (revision,))


def as_image(image: np.ndarray) -> np.ndarray:
    """A 28x28 image as uint8 0..255 (floats in [0, 1] are scaled)."""
    array = np.asarray(image)
    if array.shape != (SIDE, SIDE):
        raise MyDigitsError(f"a drawing must be a 28x28 image; got shape {array.shape}")
    if array.dtype.kind == "f":
        array = np.rint(np.clip(np.nan_to_num(array), 0.0, 1.0) * 255)
    return np.clip(array, 0, 255).astype(np.uint8)


def _checked_label(label) -> int:
    if isinstance(label, bool) or int(label) != label or not 0 <= int(label) <= 9:
        raise MyDigitsError(f"a digit's label must be 0 to 9; got {label!r}")
    return int(label)


def _pending_row(data: object) -> dict:
    """A drawing kept aside in a file (see ``_keep_aside``), checked field by field: the
    file may have been edited, or written by another version. ``ValueError`` says what is
    wrong."""
    if not isinstance(data, dict):
        raise ValueError("not a kept drawing's record")
    missing = [key for key in ("label", "image", "source", "created") if key not in data]
    if missing:
        raise ValueError(f"no {', '.join(missing)}")
    label, source, created = data["label"], data["source"], data["created"]
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
        raise ValueError(f"label {label!r} is not a digit 0 to 9")
    try:
        image = np.asarray(data["image"])
    except ValueError:
        image = np.zeros(0)
    if (
        image.size != SIDE * SIDE
        or image.dtype.kind not in "iu"
        or not (image.min() >= 0 and image.max() <= 255)
    ):
        raise ValueError("image is not 784 whole numbers 0 to 255")
    if not isinstance(source, str):
        raise ValueError(f"source {source!r} is not a text")
    if isinstance(created, bool) or not isinstance(created, int | float) or created != created:
        raise ValueError(f"created {created!r} is not a time in seconds")
    return {
        "label": label,
        "image": image.astype(np.uint8).ravel().tolist(),
        "strokes": data.get("strokes"),
        "source": source,
        "created": float(created),
    }


def _insert(db: sqlite3.Connection, row: dict) -> int:
    """Insert one drawing kept as a plain dict (see ``MyDigits.add``); its id."""
    image = np.asarray(row["image"], np.uint8).reshape(SIDE, SIDE)
    strokes = row.get("strokes")
    cursor = db.execute(
        "INSERT INTO my_digits (label, image, strokes_json, source, created) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            _checked_label(row["label"]),
            image.tobytes(),
            None if strokes is None else json.dumps(strokes),
            row["source"],
            float(row["created"]),
        ),
    )
    return int(cursor.lastrowid)


def _bump(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO my_digits_meta (key, value) VALUES ('revision', 1) "
        "ON CONFLICT (key) DO UPDATE SET value = value + 1"
    )


def shuffled_round(rng: np.random.Generator) -> list[int]:
    """The digits 0-9 in a random order: one round of the collect mode."""
    return [int(d) for d in rng.permutation(10)]


def write_npz(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Save a set as a Keras-style ``.npz``: ``x`` (n, 28, 28) uint8 and ``y`` (n,) int64."""
    with replacing(path) as partial, open(partial, "wb") as out:  # a file object: no ".npz" added
        np.savez_compressed(out, x=np.asarray(images, np.uint8), y=np.asarray(labels, np.int64))


# My digits is one person's handwriting: a file of more is someone else's data set, and
# 300,000 drawings made a 246 MB database that every score then read.
MAX_IMPORT = 20_000


@dataclass
class NpzDigits:
    """The usable drawings of a ``.npz`` file, and how many images were refused, by why."""

    images: np.ndarray
    labels: np.ndarray
    refused: dict[str, int]


def read_npz(path: Path) -> NpzDigits:
    """A Keras-style ``.npz`` (``x``: n 28x28 images, ``y``: n labels 0-9) as uint8 images
    and int64 labels, each image checked as a folder's pictures are (blank, not finite,
    outside the pixel range: refused and counted); ``MyDigitsError`` naming what is wrong
    with the file otherwise."""
    try:
        # Opened here, not by np.load, which leaves its file open when the zip is damaged.
        with open(path, "rb") as handle:
            loaded = np.load(handle, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):  # a .npy renamed: one array
                raise MyDigitsError(
                    f"{path} holds a single array, not a .npz archive; save the images and "
                    "labels with numpy.savez(path, x=images, y=labels)"
                )
            with loaded as archive:
                if "x" not in archive or "y" not in archive:
                    raise MyDigitsError(
                        f"{path} has arrays {', '.join(archive.files) or 'none'}; expected x "
                        "(the images) and y (their labels), as keras.datasets.mnist gives"
                    )
                _check_headers(path, archive)  # before decompressing anything
                x, y = archive["x"], archive["y"]
    except MyDigitsError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise MyDigitsError(f"{path} is not a readable .npz file ({first_line(exc)})") from exc
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise MyDigitsError(f"{path}: labels in y must be whole numbers 0 to 9")
    keep, refused = _usable_images(x)
    # Floats are read as 0..1 (Keras' scaled images), whole numbers as 0..255.
    images = np.array([as_image(image) for image in x[keep]], np.uint8).reshape(-1, SIDE, SIDE)
    return NpzDigits(images, y[keep].astype(np.int64), refused)


def _check_headers(path: Path, archive) -> None:
    """Refuse, from the arrays' headers alone, what cannot be drawings: the wrong shapes,
    values that are not pixel numbers (text, dates, records), or more than ``MAX_IMPORT``."""
    shapes = {}
    for key in ("x", "y"):
        with archive.zip.open(f"{key}.npy") as member:
            version = np.lib.format.read_magic(member)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _order, dtype = read_header(member)
        shapes[key] = (shape, dtype)
    (x_shape, x_type), (y_shape, y_type) = shapes["x"], shapes["y"]
    if x_type.kind not in "iuf":
        raise MyDigitsError(
            f"{path}: x holds {x_type} values, not pixel numbers; images are whole numbers "
            "0 to 255 or floats 0 to 1"
        )
    if y_type.kind not in "iu":
        raise MyDigitsError(f"{path}: y holds {y_type} values; labels are whole numbers 0 to 9")
    if len(x_shape) != 3 or x_shape[1:] != (SIDE, SIDE) or len(y_shape) != 1:
        raise MyDigitsError(
            f"{path}: x must be (n, 28, 28) and y (n,); got x {x_shape} and y {y_shape}"
        )
    if x_shape[0] != y_shape[0]:
        raise MyDigitsError(f"{path}: x has {x_shape[0]} images but y {y_shape[0]} labels")
    if x_shape[0] > MAX_IMPORT:
        raise MyDigitsError(
            f"{path} holds {x_shape[0]:,} images; My digits takes at most {MAX_IMPORT:,} at a "
            "time (it is your own handwriting, not a data set): import a part of them"
        )


def _usable_images(x: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Which images can be drawings, and how many were refused for each reason."""
    flat = x.reshape(len(x), -1)
    top = 1.0 if x.dtype.kind == "f" else 255
    with np.errstate(invalid="ignore"):
        reasons = {
            "values that are not finite (NaN or infinite)": ~np.isfinite(flat).all(axis=1)
            if x.dtype.kind == "f"
            else np.zeros(len(x), bool),
            "negative values": (flat < 0).any(axis=1),
            f"values above {top} (floats are read as 0 to 1, whole numbers as 0 to 255)": (
                flat > top
            ).any(axis=1),
            "blank (no ink)": (flat == 0).all(axis=1),
        }
    bad = np.zeros(len(x), bool)
    refused = {}
    for why, hit in reasons.items():
        hit = hit & ~bad  # each image counted once, for the first reason it meets
        if hit.any():
            refused[why] = int(hit.sum())
        bad |= hit
    return ~bad, refused
