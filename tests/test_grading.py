"""Grading through the real pipeline (build, bundle, run_otter.py, otter, a kernel) with the
tiny fixture assignment, so each case takes seconds. Every results.json is schema-checked."""

import hashlib
import json
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

from instructor.grade import grade_submission

FAST = {"cell_timeout": 5, "total_timeout": 20, "results_timeout": 20}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def grade(tiny_build, tmp_path, results_validator):
    bundle_hash = sha256(tiny_build.bundle)

    def grade_file(path: Path, **limits) -> dict:
        results = grade_submission(tiny_build.bundle, path, tmp_path / "results.json", limits or None)
        results_validator(results)
        assert json.loads((tmp_path / "results.json").read_text()) == results
        return results

    yield grade_file
    assert sha256(tiny_build.bundle) == bundle_hash, "grading modified the bundle"


def answered(tiny_build, *extra_cells: str, answer: str = "42") -> nbformat.NotebookNode:
    """The built student notebook, answered the way a student would, plus ``extra_cells``."""
    notebook = nbformat.read(tiny_build.student_notebook, as_version=4)
    for cell in notebook.cells:
        if cell.source.startswith("def square"):
            cell.source = "def square(x):\n    return x ** 2"
        elif cell.source.startswith("answer = "):
            cell.source = f"answer = {answer}"
    submission_cell = next(i for i, c in enumerate(notebook.cells) if c.source.startswith("## Submission"))
    notebook.cells[submission_cell:submission_cell] = [nbformat.v4.new_code_cell(s) for s in extra_cells]
    return notebook


def write(notebook, path: Path) -> Path:
    nbformat.write(notebook, path)
    return path


def scores(results) -> dict:
    return {t["name"]: t["score"] for t in results["tests"]}


def test_answered_notebook_gets_full_marks(grade, tiny_build, tmp_path):
    results = grade(write(answered(tiny_build), tmp_path / "tiny.ipynb"))
    assert scores(results) == {"square": 2, "answer": 1}
    assert results["score"] == 3
    assert [t["number"] for t in results["tests"]] == ["1", "2"]
    assert all(t["status"] == "passed" and t["visibility"] == "after_published" for t in results["tests"])


def test_blank_notebook_scores_zero_with_the_checks_messages(grade, tiny_build):
    results = grade(tiny_build.student_notebook)
    assert scores(results) == {"square": 0, "answer": 0}
    square = results["tests"][0]
    assert square["status"] == "failed"
    assert "square(7) should be 49, got None" in square["output"]
    assert "Hidden tests decide" in results["output"]


def test_wrong_answer_loses_only_its_points(grade, tiny_build, tmp_path):
    results = grade(write(answered(tiny_build, answer="41"), tmp_path / "tiny.ipynb"))
    assert scores(results) == {"square": 2, "answer": 0}


def test_the_export_zip_is_graded(grade, tiny_build, tmp_path):
    archive = tmp_path / "tiny_2026_11_28T12_00_00.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tiny.ipynb", nbformat.writes(answered(tiny_build)))
        zf.writestr(".OTTER_LOG", b"")
    assert grade(archive)["score"] == 3


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"print('hello')\n", "not valid JSON"),
        (b'{"name": "not a notebook"}', "JSON but not a Jupyter notebook"),
        (b'{"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a valid Jupyter notebook"),
    ],
    ids=["empty", "not-json", "json-not-notebook", "invalid-notebook"],
)
def test_unreadable_notebooks_get_zero_and_say_why(grade, tmp_path, content, message):
    path = tmp_path / "tiny.ipynb"
    path.write_bytes(content)
    results = grade(path)
    assert results["score"] == 0
    assert message in results["output"]
    assert [t["name"] for t in results["tests"]] == ["square", "answer"]


def test_a_zip_without_a_notebook_is_refused(grade, tmp_path):
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes.txt", "my answers")
    results = grade(archive)
    assert results["score"] == 0
    assert "contains no notebook" in results["output"]


def test_a_damaged_zip_member_is_refused_with_a_message(grade, tiny_build, tmp_path):
    archive = tmp_path / "answers.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        bundle.writestr("tiny.ipynb", nbformat.writes(answered(tiny_build)))
    data = bytearray(archive.read_bytes())
    data[100] ^= 0xFF  # inside the stored notebook: its CRC no longer matches
    archive.write_bytes(bytes(data))
    results = grade(archive)
    assert results["score"] == 0
    assert "tiny.ipynb in answers.zip cannot be read" in results["output"]


def test_macos_metadata_beside_an_uploaded_notebook_is_ignored(grade, tiny_build, tmp_path):
    folder = tmp_path / "upload"
    (folder / "__MACOSX").mkdir(parents=True)
    (folder / "__MACOSX" / "._tiny.ipynb").write_bytes(b"\x00\x05\x16\x07")
    write(answered(tiny_build), folder / "tiny.ipynb")
    assert grade(folder)["score"] == 3


def test_a_zip_with_two_notebooks_is_refused(grade, tiny_build, tmp_path):
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tiny.ipynb", nbformat.writes(answered(tiny_build)))
        zf.writestr("copy/tiny-old.ipynb", nbformat.writes(answered(tiny_build)))
    results = grade(archive)
    assert results["score"] == 0
    assert "contains 2 notebooks" in results["output"]


def test_a_file_that_is_not_a_zip_or_notebook_is_refused(grade, tmp_path):
    path = tmp_path / "answers.zip"
    path.write_bytes(b"definitely not a zip")
    results = grade(path)
    assert results["score"] == 0
    assert "answers.zip is not a valid zip file" in results["output"]


def test_a_notebook_of_another_assignment_is_refused_by_otters_name_check(grade, tiny_build, tmp_path):
    notebook = answered(tiny_build)
    notebook.metadata["otter"]["assignment_name"] = "neural-networks"
    results = grade(write(notebook, tmp_path / "tiny.ipynb"))
    assert results["score"] == 0
    assert "Received submission for assignment 'neural-networks' (this is assignment 'tiny')" in results["output"]


def test_a_submission_cannot_bring_its_own_checks(grade, tiny_build, tmp_path):
    folder = tmp_path / "upload"
    (folder / "student").mkdir(parents=True)
    (folder / "student" / "__init__.py").write_text("raise SystemExit('replaced')\n")
    write(answered(tiny_build, "import student.checks"), folder / "tiny.ipynb")
    assert grade(folder)["score"] == 3


def test_a_cell_that_never_returns_is_stopped_and_answers_still_score(grade, tiny_build, tmp_path):
    notebook = answered(tiny_build, "while True:\n    pass")
    results = grade(write(notebook, tmp_path / "tiny.ipynb"), **FAST)
    assert results["score"] == 3
    assert "ran past the time limit" in results["output"]


def test_cells_past_the_total_budget_are_skipped_and_graded_answers_kept(grade, tiny_build, tmp_path):
    notebook = answered(tiny_build, *["import time\ntime.sleep(4)"] * 6)
    results = grade(write(notebook, tmp_path / "tiny.ipynb"), cell_timeout=5, total_timeout=10, results_timeout=20)
    assert results["score"] == 3
    assert "used up the autograder's time budget" in results["output"]


def test_a_kernel_that_ignores_interrupts_is_killed_with_a_message(grade, tiny_build, tmp_path):
    hang = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)"
    results = grade(write(answered(tiny_build, hang), tmp_path / "tiny.ipynb"), cell_timeout=3, total_timeout=6, results_timeout=5)
    assert results["score"] == 0
    assert "Make sure every cell finishes" in results["output"]
    assert results["execution_time"] < 120
    assert leftover_grading_processes() == []


def leftover_grading_processes() -> list:
    """Processes still running for a grading whose temporary folder is gone."""
    leftovers = []
    for process in psutil.process_iter():
        try:
            bundle_data = process.environ().get("MNIST_NPZ", "")
        except psutil.Error:
            continue
        if "/gradescope-" in bundle_data and not Path(bundle_data).parent.exists():
            leftovers.append(process.pid)
    return leftovers


@pytest.mark.parametrize("statement", ["import sys\nsys.exit()", "raise KeyboardInterrupt"])
def test_exits_and_interrupts_in_a_cell_do_not_stop_grading(grade, tiny_build, tmp_path, statement):
    assert grade(write(answered(tiny_build, statement), tmp_path / "tiny.ipynb"))["score"] == 3


def test_os_exit_ends_grading_with_a_message_naming_the_cell(grade, tiny_build, tmp_path):
    results = grade(write(answered(tiny_build, "import os\nos._exit(3)"), tmp_path / "tiny.ipynb"))
    assert results["score"] == 0
    cell = 1 + next(i for i, c in enumerate(nbformat.read(tmp_path / "tiny.ipynb", as_version=4).cells) if "os._exit" in c.source)
    assert f"stopped while running cell {cell}." in results["output"]


def test_fifty_megabytes_of_output_are_dropped_not_stored(grade, tiny_build, tmp_path):
    results = grade(write(answered(tiny_build, "print('x' * 50_000_000)"), tmp_path / "tiny.ipynb"))
    assert results["score"] == 3
    assert len(json.dumps(results)) < 20_000


def test_a_hundred_megabyte_notebook_is_refused_without_reading_it(grade, tiny_build, tmp_path):
    notebook = answered(tiny_build)
    notebook.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 100_000_000)]
    results = grade(write(notebook, tmp_path / "tiny.ipynb"))
    assert results["score"] == 0
    assert "the autograder accepts notebooks up to 20 MB" in results["output"]


def test_an_answer_left_in_a_skipped_cell_is_explained(grade, tiny_build, tmp_path):
    notebook = answered(tiny_build, answer="...")
    skipped = next(c for c in notebook.cells if "otter_ignore" in c.metadata.get("tags", []))
    skipped.source += "\nanswer = 42"
    results = grade(write(notebook, tmp_path / "tiny.ipynb"))
    assert scores(results)["answer"] == 0
    assert "`answer` is assigned only in cell" in results["tests"][1]["output"]
    assert "which the autograder skips" in results["output"]
