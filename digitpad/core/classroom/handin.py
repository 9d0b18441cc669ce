"""A student's hand-in: one file holding their lab report (HTML and PDF), their answers,
every run the report uses (settings, seed, results, curves, fingerprint), each
application's code, exercise 4's weights, and a digest over all of it.

The file is a zip archive (``.digitpad``) with a ``manifest.json`` that names the format
version, the student, the machine and the data, and the sha256 of every other member; the
digest is a sha256 over the manifest's own fields. Changing any stored figure changes a
member's sha256, and the digest no longer matches (``read_handin`` says so). The digest
proves the file is as DigitPad wrote it; it does not prove who wrote it: anyone with
DigitPad can make a hand-in under any name (docs/class.md).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from digitpad import __version__
from digitpad.core.machine.environment import library_versions, processor_name
from digitpad.core.machine.files import replacing
from digitpad.core.nets.results import RunResult
from digitpad.core.report.sections import StudentReport

# The hand-in format this version writes and the newest it reads (docs/class.md).
HANDIN_FORMAT = 1
SUFFIX = ".digitpad"
MANIFEST = "manifest.json"
RUNS = "runs.json"
ANSWERS = "answers.json"
REPORT_HTML = "report.html"
REPORT_PDF = "report.pdf"
EX4_WEIGHTS = "weights/ex4.weights.h5"
# A hand-in bigger than this is no DigitPad lab (a whole lab is a few MB at most).
MAX_BYTES = 64 * 1024 * 1024


class HandinError(ValueError):
    """A file that is no readable hand-in (one line says why and what to do)."""


@dataclass(frozen=True)
class HandedRun:
    """One run the report uses, as handed in: the exercise and column it fills, the epoch
    it is read at (exercise 8), and the run itself."""

    exercise: str
    column: Any
    at_epoch: int | None
    run_id: int
    result: RunResult


@dataclass
class Handin:
    """A hand-in read back: its manifest, runs and answers, its report, and whether its
    digest holds (``problems`` names each member that does not match)."""

    path: Path
    manifest: dict[str, Any]
    runs: list[HandedRun]
    answers: dict[str, str]
    report_html: bytes
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", ""))

    @property
    def digest_ok(self) -> bool:
        return not self.problems


def handin_name(name: str) -> str:
    """The name as the teacher's table lists it (spaces tidied); ``HandinError`` when empty."""
    name = " ".join(name.split())
    if not name:
        raise HandinError('give your name (--name "Your Name"): the teacher\'s table lists it')
    return name


def digest_of(manifest: dict[str, Any]) -> str:
    """The digest over a manifest's fields (all but the digest itself)."""
    fields = {key: value for key, value in manifest.items() if key != "digest"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def handin_members(
    report: StudentReport, answers: dict[str, str], weights: Path | None, report_files: dict
) -> dict[str, bytes]:
    """Every member of a hand-in but the manifest, as bytes by path."""
    runs = []
    for section in report.sections:
        if section.runs is None or section.key != section.runs.sweep.id:
            continue  # exercise 5 shows exercise 4's runs: handed in once, with ex4
        for cell, record in section.runs.cells:
            if record.result is None:
                continue
            runs.append(
                {
                    "exercise": section.key,
                    "sweep_id": section.runs.sweep_id,
                    "column": cell.value,
                    "at_epoch": cell.at_epoch,
                    "run_id": record.id,
                    "result": {**record.result.to_dict(), "model_path": None, "weights_path": None},
                }
            )
    members = {
        RUNS: json.dumps(runs, indent=1, sort_keys=True).encode(),
        ANSWERS: json.dumps(answers, indent=1, sort_keys=True).encode(),
        **{f"code/application{n}.py": code.source.encode() for n, code in report.code.items()},
        **report_files,
    }
    if weights is not None and weights.exists():
        members[EX4_WEIGHTS] = weights.read_bytes()
    return members


def write_handin(
    out: str | Path,
    name: str,
    report: StudentReport,
    answers: dict[str, str],
    report_files: dict[str, bytes],
    weights: Path | None = None,
) -> Path:
    """Write the hand-in of ``name`` (as they typed it) to ``out`` (``.digitpad`` added),
    through a temporary file renamed into place. ``report_files`` holds ``report.html`` and
    ``report.pdf`` as written by the report's writers."""
    members = handin_members(report, answers, weights, report_files)
    results = [run for section in report.sections if section.runs for _, run in section.runs.cells]
    data = sorted({r.result.data_sha256 for r in results if r.result and r.result.data_sha256})
    return pack_handin(out, name, members, {"title": report.title, "data_sha256": data})


def pack_handin(
    out: str | Path, name: str, members: dict[str, bytes], about: dict[str, Any]
) -> Path:
    """The hand-in file itself: ``members`` and a manifest (``about`` added to it) with
    each member's sha256 and the digest, through a temporary file renamed into place."""
    name = handin_name(name)
    out = Path(out)
    if not out.name.endswith(SUFFIX):
        out = out.with_name(out.name + SUFFIX)
    manifest: dict[str, Any] = {
        "format": HANDIN_FORMAT,
        "digitpad": __version__,
        "name": name,
        "made_at": datetime.now().isoformat(timespec="seconds"),
        "versions": library_versions(),
        "processor": processor_name(),
        **about,
        "files": {path: hashlib.sha256(body).hexdigest() for path, body in sorted(members.items())},
    }
    manifest["digest"] = digest_of(manifest)
    with replacing(out) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        for path, body in sorted(members.items()):
            archive.writestr(path, body)
    return out


def read_handin(path: str | Path) -> Handin:
    """A hand-in read and checked. ``HandinError`` (one line) for a file that is no
    hand-in, is damaged, or was written by a newer format; a hand-in whose figures were
    changed reads, with ``problems`` naming what no longer matches its digest."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise HandinError(f"{path.name}: {path.stat().st_size:,} bytes is no DigitPad hand-in")
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if MANIFEST not in names:
                raise HandinError(f"{path.name} is no DigitPad hand-in (it has no {MANIFEST})")
            manifest = json.loads(archive.read(MANIFEST))
            _check_format(path, manifest)
            bodies = {name: archive.read(name) for name in names if name != MANIFEST}
    except zipfile.BadZipFile as exc:
        raise HandinError(f"{path.name} is no DigitPad hand-in (not a zip archive: {exc})") from exc
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HandinError(f"{path.name} cannot be read ({exc}); ask for it again") from exc
    problems = _digest_problems(manifest, bodies)
    try:
        runs = [
            HandedRun(
                entry["exercise"],
                entry["column"],
                entry["at_epoch"],
                int(entry["run_id"]),
                RunResult.from_dict(entry["result"]),
            )
            for entry in json.loads(bodies.get(RUNS, b"[]"))
        ]
        answers = {str(k): str(v) for k, v in json.loads(bodies.get(ANSWERS, b"{}")).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise HandinError(
            f"{path.name}: its runs cannot be read ({exc}); ask for it again"
        ) from exc
    return Handin(path, manifest, runs, answers, bodies.get(REPORT_HTML, b""), problems)


def _check_format(path: Path, manifest: Any) -> None:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
        raise HandinError(f"{path.name} is no DigitPad hand-in (its manifest names no format)")
    if manifest["format"] > HANDIN_FORMAT:
        raise HandinError(
            f"{path.name} was made by a newer DigitPad (hand-in format {manifest['format']}; this "
            f"one reads up to {HANDIN_FORMAT}): update DigitPad to read it"
        )


def _digest_problems(manifest: dict[str, Any], bodies: dict[str, bytes]) -> list[str]:
    problems = []
    files = manifest.get("files") or {}
    for name in sorted(set(files) | set(bodies)):
        if name not in bodies:
            problems.append(f"{name} is missing")
        elif name not in files:
            problems.append(f"{name} was added")
        elif hashlib.sha256(bodies[name]).hexdigest() != files[name]:
            problems.append(f"{name} was changed")
    if manifest.get("digest") != digest_of(manifest):
        problems.append("the manifest was changed")
    return problems
