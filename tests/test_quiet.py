"""What students and instructors see when something goes wrong, or nothing does: one line that
says what to do, and no noise (TensorFlow's C++ log, tracebacks; the export's own output is in test_submit.py).

Real processes throughout: Jupyter kernels through nbclient, the ``instructor`` command as a
subprocess."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mnist_data import DOWNLOAD_URL

REPO = Path(__file__).resolve().parents[1]
INSTRUCTOR = Path(sys.executable).parent / "instructor"


def run_in_kernel(sources, folder: Path, timeout=180):
    """The cells' outputs after running ``sources`` in a fresh Jupyter kernel in ``folder``."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(notebook, timeout=timeout, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    return [cell.outputs for cell in notebook.cells]


def stderr_of(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr")


# Set by the tests' own environment or by importing ``student``; each test starts without them.
UNSET = ("MNIST_NPZ", "TF_CPP_MIN_LOG_LEVEL")


def offline_variables(home: Path) -> dict:
    """No MNIST anywhere, and downloads sent to a closed local port so they fail at once."""
    return {"HOME": str(home), "KERAS_HOME": str(home / "keras"), "https_proxy": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9"}


def test_tensorflow_logs_nothing_once_the_lesson_imports_the_student_package(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    # Without the package, this machine's TensorFlow does print its C++ log at import.
    plain = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, timeout=120)
    assert "cpu_feature_guard" in plain.stderr or "oneDNN" in plain.stderr or "absl" in plain.stderr
    # The notebook's order: the student package (the grader's init cell, first), later Keras and TensorFlow.
    outputs = run_in_kernel(
        ["from student.notebook import Notebook", "import keras\nimport tensorflow as tf\nprint(int(tf.constant(1) + 1))"],
        REPO,
    )
    assert [stderr_of(o) for o in outputs] == ["", ""]
    assert outputs[1][0]["text"] == "2\n"


def test_without_mnist_the_notebook_shows_one_message_and_no_traceback(tmp_path, monkeypatch):
    for name, value in offline_variables(tmp_path).items():
        monkeypatch.setenv(name, value)
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    (outputs,) = run_in_kernel(["from mnist_data import load_mnist\n(x_train, y_train), (x_test, y_test) = load_mnist()"],
                               REPO)
    (error,) = [o for o in outputs if o["output_type"] == "error"]
    assert error["ename"] == "MNISTError"
    (line,) = error["traceback"]
    assert line.startswith("MNISTError: MNIST is not available") and DOWNLOAD_URL in line
    assert "Traceback" not in json.dumps(outputs) and stderr_of(outputs) == ""


# (arguments, the start of the one line it must print); paths under {tmp}.
KNOWN_ERRORS = {
    "no MNIST anywhere": (["build", str(REPO / "assignments/neural-networks"), "--dist", "{tmp}/dist"],
                          "Error: MNIST is not available"),
    "an MNIST path that is not there": (["build", str(REPO / "assignments/neural-networks"),
                                         "--data", "mnist.npz={tmp}/no.npz"], "Error: MNIST file not found"),
    "a data file the assignment does not declare": (["build", str(REPO / "tests/fixtures/tiny"),
                                                     "--data", "mnist.npz={tmp}/no.npz"],
                                                    f"Error: {REPO}/tests/fixtures/tiny declares no external file mnist.npz"),
    "no assignment folder": (["build", "{tmp}/nowhere"], "Error: {tmp}/nowhere is not a folder"),
    "no bundle": (["grade", "{tmp}/a.ipynb", "--bundle", "{tmp}/no.zip"], "Error: {tmp}/no.zip is not an autograder zip"),
    "no submission": (["grade", "{tmp}/a.ipynb", "--bundle", "{tmp}/bundle.zip"], "Error: submission not found"),
    "no master to validate": (["validate", "{tmp}"], "Error: {tmp} must hold exactly one master notebook"),
    "no expected scores": (["validate", str(REPO / "tests/fixtures/tiny")],
                           f"Error: {REPO}/tests/fixtures/tiny/submissions/expected.yml not found"),
    "no submissions folder": (["grade-all", "{tmp}/none", "--bundle", "{tmp}/bundle.zip", "-o", "{tmp}/out"],
                              "Error: {tmp}/none not found"),
}


@pytest.mark.parametrize("case", sorted(KNOWN_ERRORS))
def test_the_instructor_command_prints_a_known_error_as_one_line(case, tmp_path):
    arguments, expected = KNOWN_ERRORS[case]
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as bundle:
        bundle.writestr("run_otter.py", "")
    result = subprocess.run([str(INSTRUCTOR), *(a.format(tmp=tmp_path) for a in arguments)], capture_output=True,
                            text=True, timeout=300, cwd=tmp_path,
                            env={**{k: v for k, v in os.environ.items() if k not in UNSET}, **offline_variables(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected.format(tmp=tmp_path)), result.stderr
