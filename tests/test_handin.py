"""The student's hand-in: one file with the report, the answers, every run the report uses,
the code and a digest; a changed figure shows; damaged, foreign and newer files are one
line each."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from conftest import store_sweep
from digitpad.core.classroom.handin import (
    HANDIN_FORMAT,
    MANIFEST,
    HandinError,
    read_handin,
)
from digitpad.core.report.builder import complete_report
from digitpad.core.store.runs import RunStore
from digitpad.render.handin_file import hand_in


@pytest.fixture
def lab(digitpad_home):
    """A student's data folder: exercises 1, 2 and 9 made up, two answers and a title."""
    store = RunStore(digitpad_home)
    store_sweep(store, "ex1", "20261201-090000", [0.9231, 0.9402, 0.9555, 0.9671, 0.9744])
    store_sweep(store, "ex2", "20261201-090000", [0.9201, 0.9244, 0.9199, 0.9230, 0.9150])
    store_sweep(store, "ex9", "20261201-090000", [0.9911], [250.5])
    store.answers().save("ex1", "More neurons, more accuracy.")
    store.answers().save("ex9", "")
    return store


def stored(store: RunStore) -> dict[int, float]:
    return {r.id: r.result.test_accuracy for r in store.list_runs() if r.result is not None}


def test_a_handin_holds_the_report_answers_every_run_and_the_code(lab, qapp, tmp_path):
    out = hand_in(lab, complete_report(lab), "  Ana   Lopes ", tmp_path / "ana")
    assert out == tmp_path / "ana.digitpad"
    assert out.stat().st_size < 3 * 1024 * 1024  # a few MB at most

    handin = read_handin(out)
    assert handin.digest_ok and handin.name == "Ana Lopes"  # as typed, spaces tidied
    assert handin.manifest["format"] == HANDIN_FORMAT
    assert {r.run_id: r.result.test_accuracy for r in handin.runs} == stored(lab)
    assert {r.exercise for r in handin.runs} == {"ex1", "ex2", "ex9"}
    ex1 = sorted((r.column, r.result.spec.neurons) for r in handin.runs if r.exercise == "ex1")
    assert ex1 == [(n, n) for n in (8, 16, 32, 64, 128)]
    assert handin.answers["ex1"] == "More neurons, more accuracy."
    assert b"Exercise 1: hidden neurons" in handin.report_html
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {"report.pdf", "code/application1.py", "code/application2.py"} <= names
        assert archive.read("report.pdf").startswith(b"%PDF-")
        assert b"def baseline_model(neurons):" in archive.read("code/application1.py")


def rewrite(path, change) -> None:
    """Rewrite a hand-in's members through ``change(name, body) -> body``."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, change(name, body))


def test_a_figure_changed_afterwards_breaks_the_digest(lab, qapp, tmp_path):
    out = hand_in(lab, complete_report(lab), "Ana Lopes", tmp_path / "ana")

    def better(name: str, body: bytes) -> bytes:
        return body.replace(b'"test_accuracy": 0.9231', b'"test_accuracy": 0.9731')

    rewrite(out, better)
    handin = read_handin(out)
    assert not handin.digest_ok and handin.problems == ["runs.json was changed"]
    assert 0.9731 in {r.result.test_accuracy for r in handin.runs}  # read, and flagged

    def renamed(name: str, body: bytes) -> bytes:
        if name != MANIFEST:
            return body
        manifest = json.loads(body)
        manifest["name"] = "Someone Else"
        return json.dumps(manifest).encode()

    rewrite(out, renamed)
    assert "the manifest was changed" in read_handin(out).problems


def test_damaged_foreign_and_newer_files_are_one_line_each(lab, qapp, tmp_path):
    out = hand_in(lab, complete_report(lab), "Ana Lopes", tmp_path / "ana")
    cut = tmp_path / "cut.digitpad"
    cut.write_bytes(out.read_bytes()[:5000])
    foreign = tmp_path / "photos.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("holiday.jpg", b"\xff\xd8")
    newer = tmp_path / "newer.digitpad"
    newer.write_bytes(out.read_bytes())

    def from_the_future(name: str, body: bytes) -> bytes:
        if name != MANIFEST:
            return body
        return json.dumps({**json.loads(body), "format": HANDIN_FORMAT + 1}).encode()

    rewrite(newer, from_the_future)
    for path, says in [
        (cut, "not a zip archive"),
        (foreign, "no DigitPad hand-in (it has no manifest.json)"),
        (newer, "made by a newer DigitPad"),
        (tmp_path / "gone.digitpad", "cannot be read"),
    ]:
        with pytest.raises(HandinError) as caught:
            read_handin(path)
        assert says in str(caught.value) and "\n" not in str(caught.value)


def test_handin_on_the_command_line(lab, tmp_path):
    def handin(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "digitpad", "handin", *args],
            capture_output=True,
            text=True,
            timeout=240,
        )

    done = handin("--name", "Ana Lopes", "--out", str(tmp_path / "ana"))
    assert done.returncode == 0, done.stderr
    assert read_handin(tmp_path / "ana.digitpad").digest_ok
    for args, says in [
        (["--name", " ", "--out", str(tmp_path / "x")], "give your name"),
        (["--name", "Ana", "--out", str(tmp_path / "no" / "x")], "does not exist"),
    ]:
        done = handin(*args)
        assert done.returncode == 2 and says in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
