"""The lab report from stored runs: which sweep each exercise reports, and its exports
(PDF, HTML, Markdown) holding exactly the store's numbers, every figure, and the answers."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from conftest import hold_lock, release, store_sweep
from digitpad.cli import main
from digitpad.core.lab.sweeps import PRESETS
from digitpad.core.report.builder import build_report
from digitpad.core.store.answers import AnswersUnavailable
from digitpad.core.store.runs import RunStore
from digitpad.render.report_files import ExportError, export


@pytest.fixture
def lab_store(digitpad_home):
    """Exercises 1, 2 (complete, and an older complete one), 3 and 9 made up in the store."""
    store = RunStore(digitpad_home)
    store_sweep(store, "ex1", "20261130-090000", [0.90, 0.91, 0.92, 0.93, 0.94])
    store_sweep(store, "ex1", "20261201-090000", [0.9231, 0.9402, 0.9555, 0.9671, 0.9744])
    store_sweep(store, "ex1", "20261201-100000", [0.95, 0.96, 0.97, 0.98, 0.99], done=2)
    store_sweep(store, "ex2", "20261201-090000", [0.9201, 0.9244, 0.9199, 0.9230, 0.9150])
    store_sweep(store, "ex3", "20261201-090000", [0.92, 0.92, 0.92, 0.92, 0.92])
    store_sweep(store, "ex9", "20261201-090000", [0.9911], [250.5])
    return store


def stored_accuracies(store: RunStore, sweep_id: str) -> list[str]:
    return [f"{r.result.test_accuracy:.4f}" for r in _done(store, sweep_id)]


def stored_times(store: RunStore, sweep_id: str) -> list[str]:
    return [f"{r.result.convergence_time:.1f}" for r in _done(store, sweep_id)]


def _done(store: RunStore, sweep_id: str):
    runs = sorted(
        store.list_runs(sweep_id=sweep_id), key=lambda r: (r.spec.neurons, r.spec.batch_size)
    )
    return [r for r in runs if r.result is not None]


def test_each_exercise_reports_its_newest_complete_sweep_unless_another_is_chosen(lab_store):
    report = build_report(lab_store)
    ex1 = report.section("ex1")
    assert ex1.runs.sweep_id == "ex1-20261201-090000"  # the newer one lacks 3 cells
    assert [c.sweep_id for c in ex1.choices][:1] == ["ex1-20261201-100000"]
    assert ex1.table.rows[0][1] == stored_accuracies(lab_store, "ex1-20261201-090000")
    older = build_report(lab_store, {"ex1": "ex1-20261130-090000"}).section("ex1")
    assert older.table.rows[0][1] == ["0.9000", "0.9100", "0.9200", "0.9300", "0.9400"]
    assert report.section("ex6").empty
    from digitpad.core.report.document import to_markdown

    assert "Not run yet: run the exercise preset on the Train tab, or `digitpad sweep ex6`" in (
        to_markdown(report.document(), lambda f: f.key)
    )
    with pytest.raises(ValueError, match="no sweep 'ex1-nope'"):
        build_report(lab_store, {"ex1": "ex1-nope"})


def test_findings_carry_the_stored_figures(lab_store):
    report = build_report(lab_store)
    ex1 = " ".join(report.section("ex1").findings)
    assert "rises at every step, from 0.9231 (8 neurons) to 0.9744 (128 neurons)" in ex1
    # exercise 3's runs match exercise 2's but for the metric: same losses, gap 0
    ex3 = " ".join(report.section("ex3").findings)
    assert "largest gap between the two metrics' loss curves is 0" in ex3
    ex9 = report.section("ex9").findings[0]
    assert "reaches 0.9911" in ex9 and "(0.9744, exercise 1 at 128 neurons)" in ex9


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.cells: list[str] = []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for name in ("href", "src"):
            if name in attrs and tag != "img":
                self.links.append(attrs[name])
        if tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append(self._cell.strip())
            self._cell = None


def test_the_html_holds_the_stored_numbers_every_figure_inline_and_no_link(
    lab_store, qapp, tmp_path
):
    lab_store.answers().save("ex1", "More neurons, more accuracy: <b>not</b> HTML.")
    report = build_report(lab_store, title="Ana's lab")
    doc = report.document()
    out = export(doc, tmp_path / "report.html")
    page = out.read_text()
    parsed = _Html()
    parsed.feed(page)
    assert len(parsed.images) == len(doc.figures) >= 10
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert not parsed.links and "http" not in page.replace("http-equiv", "")
    # The first tables are exercise 1's and exercise 2's: each cell is its run's figure.
    for nth, sweep_id in enumerate(("ex1-20261201-090000", "ex2-20261201-090000")):
        row = [i for i, c in enumerate(parsed.cells) if c == "System accuracy"][nth]
        assert parsed.cells[row + 1 : row + 6] == stored_accuracies(lab_store, sweep_id)
        row = [i for i, c in enumerate(parsed.cells) if c == "Convergence time (s)"][nth]
        assert parsed.cells[row + 1 : row + 6] == stored_times(lab_store, sweep_id)
    assert "<title>Ana&#x27;s lab</title>" in page
    assert "More neurons, more accuracy: &lt;b&gt;not&lt;/b&gt; HTML." in page


def test_the_markdown_tables_hold_the_stored_numbers_and_its_figure_links_resolve(
    lab_store, qapp, tmp_path
):
    doc = build_report(lab_store).document()
    out = export(doc, tmp_path / "md")
    assert out == tmp_path / "md" / "report.md"
    text = out.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == len(doc.figures)
    assert all((out.parent / link).is_file() for link in links)
    rows = [line for line in text.splitlines() if line.startswith("| System accuracy |")]
    first = [c.strip() for c in rows[0].strip("|").split("|")][1:]
    assert first == stored_accuracies(lab_store, "ex1-20261201-090000")
    assert "(No answer written yet.)" in text


def test_the_pdf_has_a_page_per_exercise_its_figures_and_the_stored_numbers(
    lab_store, qapp, tmp_path
):
    lab_store.answers().save("ex2", "Bigger batches: fewer steps per epoch.")
    doc = build_report(lab_store).document()
    out = export(doc, tmp_path / "report.pdf")
    pdf = PdfReader(out)
    assert len(pdf.pages) >= 11  # machine, nine exercises, the comparison
    assert sum(len(page.images) for page in pdf.pages) == len(doc.figures)
    pages = [" ".join(page.extract_text().split()) for page in pdf.pages]  # Qt spaces: tabs
    text = " ".join(pages)
    for key in ("ex1", "ex2", "ex3", "ex4", "ex6", "ex7", "ex8", "ex9"):
        assert PRESETS[key].title in text
    assert "Exercise 5: load the weights" in text
    for figure in stored_accuracies(lab_store, "ex1-20261201-090000"):
        assert figure in text
    assert "Bigger batches: fewer steps per epoch." in text
    assert [page.split()[-1] for page in pages] == [str(n) for n in range(1, len(pages) + 1)]


def test_an_export_to_an_unknown_format_or_a_missing_folder_is_refused(lab_store, qapp, tmp_path):
    doc = build_report(lab_store).document()
    with pytest.raises(ExportError, match=r"name a \.pdf or \.html file"):
        export(doc, tmp_path / "report.docx")
    with pytest.raises(ExportError, match="does not exist"):
        export(doc, tmp_path / "nowhere" / "report.pdf")


def test_report_command_on_a_folder_without_runs_says_what_to_run(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--out", "r.pdf"])
    assert exit_info.value.code == 2
    assert "run the lab first (`digitpad lab`" in capsys.readouterr().err


def test_report_command_names_a_sweep_that_is_not_there(lab_store, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--out", str(tmp_path / "r.html"), "--sweep", "ex1=ex1-nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no sweep 'ex1-nope' of ex1" in err and "ex1-20261201-090000" in err


def test_an_answer_the_database_refuses_is_kept_and_saved_at_the_next_start(lab_store):
    from test_faults import hold_lock, release

    answers = RunStore(lab_store.folder, timeout=0.2).answers()
    locker = hold_lock(lab_store.path)
    try:
        with pytest.raises(AnswersUnavailable, match=r"locked .* kept in"):
            answers.save("ex6", "Larger kernels see more of the digit.")
    finally:
        release(locker)
    assert (
        RunStore(lab_store.folder).answers().all()["ex6"] == "Larger kernels see more of the digit."
    )
    assert not answers.pending.exists()


KILLED_WINDOW = """
import sys, time
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication([])
from digitpad.ui import MainWindow
win = MainWindow()
win.show()
win.select_tab("report")
box = win.report_tab.sections["ex1"].answer
box.setFocus()
QTest.keyClicks(box, sys.argv[1])
state = win.report_tab.sections["ex1"].answer_state
deadline = time.monotonic() + 60
while state.text() != "saved" and time.monotonic() < deadline:
    app.processEvents()
print(state.text() or "not saved", flush=True)
while True:
    app.processEvents()
"""


@pytest.mark.parametrize("locked", [False, True], ids=["", "database-locked-at-start"])
def test_an_answer_typed_in_the_window_survives_a_killed_process(lab_store, qtbot, mnist, locked):
    """Typed, saved, the window killed: the answer is there at the next start. With the
    database locked when the window opened, it was saved in the window's session beside
    the database, which joins it once the killed window's process is gone."""
    typed = "The accuracy rises with the neurons; so does the time."
    locker = hold_lock(lab_store.path) if locked else None
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WINDOW, typed], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "saved"
    finally:
        proc.kill()  # SIGKILL: no close event, nothing flushed on the way out
        proc.wait()
        proc.stdout.close()
        if locker is not None:
            release(locker)
    assert RunStore(lab_store.folder).answers().all()["ex1"] == typed
    from conftest import share
    from digitpad.ui import MainWindow

    share(mnist)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.select_tab("report")
    assert win.report_tab.sections["ex1"].answer.toPlainText() == typed
    win.close()


def test_a_read_only_report_is_left_as_it_is_and_the_command_fails(lab_store, capsys, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "report.pdf"
    out.write_bytes(b"%PDF-1.4 the student's earlier report %%EOF")
    out.chmod(0o444)
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--out", str(out)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "Report written" not in captured.out
    assert "read-only" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert out.read_bytes() == b"%PDF-1.4 the student's earlier report %%EOF"
    assert [p.name for p in folder.iterdir()] == ["report.pdf"]


@pytest.mark.parametrize("name", ["report.pdf", "report.html"])
def test_a_full_disk_keeps_the_earlier_report_whole(lab_store, qapp, tmp_path, name):
    """The report written by a process that may not write more than half of it (as a disk
    that fills up): exit non-zero with one line, the earlier report whole, nothing beside."""
    folder = tmp_path / "out"
    folder.mkdir()
    out = export(build_report(lab_store).document(), folder / name)
    earlier = out.read_bytes()
    limit = len(earlier) // 2
    assert limit > lab_store.path.stat().st_size * 4  # room for the database, not the report

    def little_room() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "digitpad", "report", "--out", str(out)],
        preexec_fn=little_room,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0, done.stdout
    assert "Report written" not in done.stdout
    assert "could not write" in done.stderr and "unchanged" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert out.read_bytes() == earlier
    assert [p.name for p in folder.iterdir()] == [name]


def test_each_application_opens_with_the_code_that_made_its_runs(lab_store, qapp, tmp_path):
    report = build_report(lab_store)
    doc = report.document()
    ex1 = _done(lab_store, "ex1-20261201-090000")
    # Markdown: a fenced block, the exercise 1 runs the report shows with their seeds.
    text = export(doc, tmp_path / "md").read_text()
    fence = text.index("```python")
    code = text[fence : text.index("```", fence + 3)]
    assert text.index("## Code for application 1") < fence < text.index("## Exercise 1")
    assert "def baseline_model(neurons):" in code and "def CNN_model" not in code
    for record in ex1:
        assert f"# run {record.id}" in code and f"seed={record.result.seed}" in code
    assert "## Code for application 2" in text  # exercise 9 ran
    # HTML: highlighted by Pygments (inline colours), long lines wrapped.
    page = export(doc, tmp_path / "report.html").read_text()
    assert '<pre style="white-space: pre-wrap' in page
    assert re.search(r'<span style="[^"]*color: #008000; font-weight: bold">def</span>', page)
    # PDF: the code in monospace on pages of its own, nothing cut at the right edge.
    pdf = PdfReader(export(doc, tmp_path / "report.pdf"))
    # Text read back without its spacing: highlighting sets each token on its own.
    pages = ["".join(page.extract_text().split()) for page in pdf.pages]
    code_pages = [p for p in pages if "deftrain_and_evaluate(run,mnist):" in p]
    assert (
        code_pages
        and "Codeforapplication1" in pages[pages.index(code_pages[0]) - 1] + (code_pages[0])
    )
    fonts = {
        str(font.get("/BaseFont"))
        for page in pdf.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
        for font in [font.get_object()]
    }
    assert any("Mono" in name for name in fonts), fonts
    # The script's longest line is there whole (wrapped, not clipped at the margin).
    longest = max(report.code[1].source.splitlines(), key=len)
    assert len(longest) > 80
    assert "".join(longest.split()) in "".join(pages)
