"""The student's way to a submission, in real Jupyter kernels: checks that say what they verified,
an export that refuses a stale save, and a pre-submit run that grades nothing but warns of what
the grader will see.

Each test builds on the tiny assignment's student notebook as a student would fill it, runs it
cell by cell in one kernel (nbclient), saves it with nbformat where a student would press
Ctrl+S, then runs the export cell in the same kernel. The browser test (tests/test_browser.py)
does the same through JupyterLab.
"""

import json
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from instructor.grade import grade_submission
from student.presubmit import check_saved_notebook, problems

ANSWERS = {"def square": "def square(x):\n    return x * x", "answer =": "answer = 42"}


@pytest.fixture
def student_folder(tiny_build, tmp_path):
    folder = shutil.copytree(tiny_build.student_notebook.parent, tmp_path / "student-folder")
    return folder / tiny_build.student_notebook.name


class Session:
    """A student's kernel on a notebook file: run cells, edit them, save, export."""

    def __init__(self, path):
        self.path = path
        self.notebook = nbformat.read(path, as_version=4)
        self.client = NotebookClient(self.notebook, timeout=180, allow_errors=True, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})

    def cell(self, start: str):
        return next(c for c in self.notebook.cells if c.cell_type == "code" and c.source.startswith(start))

    def run(self, cell):
        self.client.execute_cell(cell, self.notebook.cells.index(cell))
        return cell.outputs

    def run_all_but_export(self):
        for cell in self.notebook.cells:
            if cell.cell_type == "code" and "export_submission" not in cell.source:
                self.run(cell)

    def save(self):
        nbformat.write(self.notebook, self.path)

    def export(self) -> str:
        outputs = self.run(next(c for c in self.notebook.cells if "export_submission" in c.source))
        return json.dumps(outputs)

    def zips(self):
        return sorted(self.path.parent.glob("*.zip"))


def filled(session: Session, answers=ANSWERS) -> Session:
    for start, source in answers.items():
        session.cell(start).source = source
    return session


def test_a_saved_notebook_is_exported_after_it_runs_cleanly_the_graders_way(student_folder, tiny_build):
    session = filled(Session(student_folder))
    with session.client.setup_kernel():
        session.run_all_but_export()
        check = json.dumps(session.cell('grader.check("square")').outputs)
        session.save()
        shown = session.export()
    # The public test only asks that square be a function: the check says so, never "passed".
    assert "square: public checks pass. Correctness is graded after you submit (2 points)." in check
    assert "passed" not in check
    assert "runs the way the grader runs it, with no errors" in shown
    assert "Not exported" not in shown and "Traceback" not in shown and "without encryption" not in shown
    (zip_path,) = session.zips()
    assert grade_submission(tiny_build.bundle, zip_path)["score"] == 3


def test_an_answer_changed_and_run_but_not_saved_is_not_exported(student_folder):
    session = filled(Session(student_folder))
    with session.client.setup_kernel():
        session.run_all_but_export()
        session.save()
        session.cell("answer =").source = "answer = 41"
        session.run(session.cell("answer ="))
        shown = session.export()
    assert "Not exported: your saved notebook is not what you ran" in shown
    assert "Save it (Ctrl+S, or Cmd+S on a Mac), then run this cell again." in shown
    assert session.zips() == []


def test_a_save_taken_in_the_middle_of_run_all_is_not_exported(student_folder):
    session = filled(Session(student_folder))
    with session.client.setup_kernel():
        session.run(session.cell("# Initialize Otter"))
        session.run(session.cell("def square"))
        session.save()  # JupyterLab's autosave, while Run All goes on
        session.run(session.cell("answer ="))
        shown = session.export()
    assert "Not exported" in shown and "is not in the saved file" in shown
    assert session.zips() == []


def test_an_edited_cell_saved_without_running_it_is_not_exported(student_folder):
    session = filled(Session(student_folder))
    with session.client.setup_kernel():
        session.run_all_but_export()
        session.cell("answer =").source = "answer = 7"
        session.save()
        shown = session.export()
    assert "Not exported" in shown and "was changed after it ran" in shown
    assert session.zips() == []


def test_an_answer_made_from_a_demonstration_cell_is_named_before_upload(student_folder):
    session = filled(Session(student_folder), {**ANSWERS, "answer =": "answer = base + 1"})
    demo = session.cell("# Skipped when grading")
    demo.source += "\nbase = 41"
    with session.client.setup_kernel():
        session.run(session.cell("# Initialize Otter"))
        session.run(session.cell("def square"))
        session.run(demo)  # the student ran the demonstration first: every check passes in their session
        session.run(session.cell("answer ="))
        session.run(session.cell('grader.check("square")'))
        session.save()
        shown = session.export()
    assert "Before you upload" in shown
    assert ("which assigns `answer`, raises NameError: name 'base' is not defined. `base` is made only in cell "
            f"{session.notebook.cells.index(demo) + 1}, a demonstration cell that grading skips.") in shown
    assert "`answer` has a value in your session but none when your saved notebook runs" in shown
    assert len(session.zips()) == 1  # the student is warned, not stopped


def test_a_value_left_by_a_deleted_cell_is_named_before_upload(student_folder):
    session = filled(Session(student_folder))
    with session.client.setup_kernel():
        session.run_all_but_export()
        scratch = nbformat.v4.new_code_cell("answer = 43")
        session.notebook.cells.append(scratch)
        session.run(scratch)
        session.notebook.cells.remove(scratch)  # run, then deleted
        session.run(session.cell('grader.check("square")'))
        session.save()
        shown = session.export()
    assert "`answer` is 43 in your session but 42 when your saved notebook runs; the grader grades 42." in shown


def test_a_pre_submit_run_past_its_time_is_reported_not_raised(student_folder):
    notebook = nbformat.read(student_folder, as_version=4)
    notebook.metadata["grading"]["limits"]["total_timeout"] = -119.5  # a budget of half a second
    report = check_saved_notebook(student_folder, notebook)
    assert problems(report, {}) == [
        "Your saved notebook could not be run the way the grader runs it: it was still running after 0.5 s, "
        "longer than the grader allows."
    ]


def test_a_failing_check_keeps_otters_own_message(student_folder):
    session = filled(Session(student_folder), {**ANSWERS, "def square": "square = 4"})
    with session.client.setup_kernel():
        session.run(session.cell("# Initialize Otter"))
        session.run(session.cell("square = 4"))
        shown = json.dumps(session.run(session.cell('grader.check("square")')))
    assert "square should be a function" in shown and "Correctness is graded" not in shown
