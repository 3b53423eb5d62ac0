"""The sandbox levels through the real pipeline: bubblewrap (locally), the student user alone
(Gradescope's Docker, which forbids namespaces), and the refusal when neither is possible."""

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

from harness.sandbox import STUDENT_UID, detect
from instructor.grade import grade_submission
from test_grading import answered, scores, write
from test_tamper import uid_in_use

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="these cases switch users: they need root")

# The bundle's packages are on the kernel's path; its tests sit beside them.
READ_TESTS = """\
import os, pathlib
tests = pathlib.Path(os.environ["PYTHONPATH"]).parent / "tests"
try:
    answer = [path.read_text() for path in tests.iterdir()]
except OSError as error:
    answer = type(error).__name__
"""


@pytest.fixture
def python_reachable_by_other_users():
    """The student user runs this venv's Python in place at the user level: open /root for passing through,
    as the bundle's setup.sh does on Gradescope, and close it again after."""
    opened = []
    for folder in {*Path(sys.executable).parents, *Path(sys.executable).resolve().parents}:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            opened.append((folder, mode))
    yield
    for folder, mode in opened:
        folder.chmod(mode)


def leftover_student_processes() -> list:
    """Processes of a student user that no running grading holds (another test run's are not leftovers)."""
    return [
        p.pid for p in psutil.process_iter(["uids"])
        if p.info["uids"] and STUDENT_UID <= p.info["uids"].real < STUDENT_UID + 64 and not uid_in_use(p.info["uids"].real)
    ]


def test_gradings_at_once_never_share_a_student_user():
    first, second = detect("require"), detect("require")
    assert first.level == second.level == "bwrap"
    assert first.uid != second.uid and {first.uid, second.uid} <= set(range(STUDENT_UID, STUDENT_UID + 64))


def test_at_the_user_level_the_notebook_is_graded_and_cannot_read_the_tests(
    tiny_build, tmp_path, python_reachable_by_other_users, results_validator
):
    honest = grade_submission(tiny_build.bundle, write(answered(tiny_build), tmp_path / "tiny.ipynb"), sandbox="user")
    results_validator(honest)
    assert scores(honest) == {"square": 2, "answer": 1}
    notebook = answered(tiny_build, READ_TESTS)
    (tmp_path / "attack").mkdir()
    results = grade_submission(tiny_build.bundle, write(notebook, tmp_path / "attack" / "tiny.ipynb"), sandbox="user")
    # The bundle's tests exist but are closed to the student user: the answer is the list of errors.
    assert scores(results) == {"square": 2, "answer": 0}
    assert "square(7) should be 49" not in json.dumps(results)
    assert leftover_student_processes() == []


def gradescope_tree(tiny_build, root: Path, notebook) -> Path:
    """/autograder as Gradescope lays it out, to run the bundle's own entry point on ``notebook``."""
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(tiny_build.bundle) as bundle:
        bundle.extractall(root / "source")
    nbformat.write(notebook, root / "submission" / "tiny.ipynb")
    return root / "source" / "run_otter.py"


def test_without_bubblewrap_local_grading_refuses_with_what_to_do(tiny_build, tmp_path):
    root = tmp_path / "autograder"
    entry = gradescope_tree(tiny_build, root, answered(tiny_build))
    no_bwrap = {"PATH": "/nonexistent", "GRADING_SANDBOX": "require", "MNIST_NPZ": os.environ.get("MNIST_NPZ", "")}
    completed = subprocess.run([sys.executable, str(entry)], env=no_bwrap, capture_output=True, text=True)
    assert completed.returncode != 0
    assert "bubblewrap (bwrap) cannot run here" in completed.stderr
    assert "--no-sandbox" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (root / "results" / "results.json").exists()


def test_what_the_notebook_prints_outside_its_cells_reaches_the_instructor_capped(tiny_build, tmp_path):
    root = tmp_path / "autograder"
    flood = "import os\nfor _ in range(8):\n    os.write(1, b'\\x1b[2J' + b'x' * (1 << 20))"
    entry = gradescope_tree(tiny_build, root, answered(tiny_build, flood))
    completed = subprocess.run([sys.executable, str(entry)], env={**os.environ, "GRADING_SANDBOX": "require"},
                               capture_output=True)
    assert completed.returncode == 0
    assert json.loads((root / "results" / "results.json").read_text())["score"] == 3
    assert (1 << 20) <= len(completed.stdout) < (1 << 20) + 4096
    assert b"\x1b" not in completed.stdout
