"""The one way DigitPad writes a file a person keeps (an export, a report, weights, a drawing
kept aside): into a temporary file in the target's folder, renamed onto the target only
once it is whole. A full disk, a killed process or a failed check leaves the previous file
as it was, and no half-written one beside it."""

from __future__ import annotations

import csv
import io
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteRefused(PermissionError):
    """The target is a read-only file: kept as it is, not replaced behind its owner's back."""


@contextmanager
def replacing(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; when the block ends without an error
    it is flushed to disk and renamed onto ``target``, otherwise removed. A ``target`` whose
    write permission was taken away is refused (``WriteRefused``), whoever runs DigitPad."""
    target = Path(target)
    if target.is_file() and not target.stat().st_mode & stat.S_IWUSR:
        raise WriteRefused(
            f"{target} is read-only, so it was kept as it is; make it writable or choose "
            "another name"
        )
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
        with open(partial, "rb+") as written:
            os.fsync(written.fileno())  # on disk before it takes the old file's place
        os.chmod(partial, _mode_for(target))
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` whole or not at all (see ``replacing``)."""
    with replacing(target) as partial:
        partial.write_bytes(data)
    return Path(target)


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` whole or not at all (see ``replacing``)."""
    return write_bytes(target, text.encode("utf-8"))


def copy_file(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy ``source`` to ``target`` whole or not at all (see ``replacing``)."""
    with replacing(target) as partial, open(source, "rb") as src, open(partial, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return Path(target)


def write_failure(target: str | os.PathLike, exc: OSError) -> str:
    """One line saying that ``target`` was not written, why, and that nothing was lost."""
    if isinstance(exc, WriteRefused):
        return str(exc)
    why = exc.strerror or str(exc)
    return (
        f"could not write {target} ({why}); any earlier file there is unchanged. "
        "Free some space or choose a folder you can write to, and try again"
    )


def _read_umask() -> int:
    umask = os.umask(0)  # read once, at import: setting it is not thread-safe
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _mode_for(target: Path) -> int:
    """The file's mode: the one it replaces, or what the user's umask gives a new file."""
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    return 0o666 & ~_UMASK


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """``rows`` as CSV text (the csv module's dialect), for ``write_text``."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
