"""The build, through otter assign, on the tiny fixture and on the real assignment."""

import filecmp
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from instructor.build import BuildError, build_assignment, grading_requirements
from mnist_data import load_mnist

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = {
    "tiny": REPO / "tests" / "fixtures" / "tiny",
    "neural-networks": REPO / "assignments" / "neural-networks",
}
# Lines such as "except ValueError as error:" say nothing about an answer.
CONTROL_FLOW = re.compile(r"^(try|except|else|finally)\b.*:$")
TRIVIAL = {"", "...", ")", "])", "]", "}", "pass", "assert verdict, verdict.message"}


@pytest.fixture(scope="module", params=sorted(ASSIGNMENTS))
def two_builds(request, tmp_path_factory, mnist_npz):
    folder = ASSIGNMENTS[request.param]
    data = {"mnist.npz": mnist_npz} if request.param == "neural-networks" else {}
    first = build_assignment(folder, tmp_path_factory.mktemp("first"), data)
    second = build_assignment(folder, tmp_path_factory.mktemp("second"), data)
    return folder, first, second


def test_two_builds_are_identical(two_builds):
    _, first, second = two_builds
    comparison = filecmp.dircmp(first.student_notebook.parents[1], second.student_notebook.parents[1])
    assert _differences(comparison) == []
    assert first.bundle.read_bytes() == second.bundle.read_bytes()


def _differences(comparison) -> list[str]:
    (_, mismatch, errors) = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    found = mismatch + errors + comparison.left_only + comparison.right_only
    for sub in comparison.subdirs.values():
        found += _differences(sub)
    return found


def test_the_bundle_carries_the_pins_the_python_and_only_declared_data(two_builds, tmp_path):
    folder, build, _ = two_builds
    with zipfile.ZipFile(build.bundle) as bundle:
        names = set(bundle.namelist())
        environment = bundle.read("environment.yml").decode()
        entry = bundle.read("run_otter.py").decode()
        if folder.name == "neural-networks":
            bundle.extract("files/mnist.npz", tmp_path)
    assert {"run_autograder", "setup.sh", "otter_config.json", "grading_limits.json", "questions.json"} <= names
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in environment
    pins = grading_requirements("neural-networks" if folder.name == "neural-networks" else None)
    pip_section = next(d["pip"] for d in yaml.safe_load(environment)["dependencies"] if isinstance(d, dict))
    assert set(pins) <= set(pip_section)
    assert (build.student_notebook.parent / "requirements.txt").read_text().splitlines() == pins
    assert "from harness.supervisor import main" in entry
    if folder.name == "neural-networks":
        (x_train, _), _ = load_mnist(tmp_path / "files" / "mnist.npz")
        assert x_train.shape == (60000, 28, 28)
    else:  # declares no data and no extra: no MNIST, no TensorFlow
        assert not any(name.endswith(".npz") for name in names)
        assert not any(pin.startswith(("tensorflow", "keras")) for pin in pins)


def test_the_student_folder_has_no_solution_and_no_hidden_test(two_builds):
    folder, build, _ = two_builds
    student_lines = _student_folder_lines(build.student_notebook.parent)
    solution, lesson = _master_lines(folder)
    # A line the lesson itself shows (the CNN's Flatten, the data loader) gives nothing away.
    secrets = (solution | _hidden_test_lines(build.bundle)) - lesson
    assert secrets, "the scan found nothing to look for"
    assert sorted(secrets & student_lines) == []


def test_the_student_readme_adds_what_the_assignment_declares(nn_dist):
    readme = (nn_dist / "neural-networks" / "student" / "README.md").read_text()
    assert readme.index("%pip install -q -r requirements.txt") < readme.index("## This assignment")
    for text in ("**Not supported:** Macs", "!pip uninstall -y -q tensorflow", "MNIST_NPZ"):
        assert text in readme


def test_the_student_notebook_keeps_every_question_and_prompt(two_builds):
    folder, build, _ = two_builds
    student = nbformat.read(build.student_notebook, as_version=4)
    order = json.loads(zipfile.ZipFile(build.bundle).read("questions.json"))
    assert order, "no questions found"
    with_public_tests = set(student.metadata["otter"]["tests"])
    assert with_public_tests <= set(order)
    assert any("..." in cell.source for cell in student.cells if cell.cell_type == "code")


def test_a_new_assignment_in_assignments_builds_with_the_same_command(tmp_path):
    assignments = tmp_path / "assignments"
    shutil.copytree(ASSIGNMENTS["tiny"], assignments / "tiny")
    instructor = Path(sys.executable).parent / "instructor"
    completed = subprocess.run(
        [str(instructor), "build", "assignments/tiny"], cwd=tmp_path, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "dist" / "tiny" / "autograder" / "tiny-autograder.zip").is_file()
    assert (tmp_path / "dist" / "tiny" / "student" / "tiny.ipynb").is_file()


def test_answer_names_are_declared_or_derived_from_the_tests(tiny_build, nn_dist):
    with zipfile.ZipFile(tiny_build.bundle) as bundle:
        assert json.loads(bundle.read("answer_names.json")) == {"answer": ["answer"], "square": ["square"]}
    assert tiny_build.derived_answers == {"answer": ["answer"], "square": ["square"]}
    with zipfile.ZipFile(nn_dist / "neural-networks" / "autograder" / "neural-networks-autograder.zip") as bundle:
        declared = json.loads(bundle.read("answer_names.json"))
    assert declared["mlp-params"] == ["mlp_16x16_weights", "mlp_16x16_biases"]
    assert declared["mlp-accuracy"] == ["mlp_keras"]


def test_a_student_file_showing_a_hidden_answer_is_refused(tmp_path):
    assignment = tmp_path / "tiny"
    shutil.copytree(ASSIGNMENTS["tiny"], assignment)
    (assignment / "hint.py").write_text('"""Example: square(7) gives 49."""\n')
    master = assignment / "tiny.ipynb"
    notebook = nbformat.read(master, as_version=4)
    notebook.cells[0].source = notebook.cells[0].source.replace("name: tiny\n", "name: tiny\nfiles:\n  - hint.py\n")
    nbformat.write(notebook, master)
    with pytest.raises(BuildError, match=r"hint.py:1 shows 49, which a hidden test expects"):
        build_assignment(assignment, tmp_path / "dist")



def test_a_master_older_than_nbformat_4_5_builds_valid_notebooks(tmp_path):
    """Cell ids are invalid before nbformat 4.5: a 4.4 master's outputs are upgraded, not left invalid."""
    assignment = tmp_path / "tiny"
    shutil.copytree(ASSIGNMENTS["tiny"], assignment)
    master = json.loads((assignment / "tiny.ipynb").read_text())
    master["nbformat_minor"] = 4
    for cell in master["cells"]:
        cell.pop("id", None)
    (assignment / "tiny.ipynb").write_text(json.dumps(master))
    build = build_assignment(assignment, tmp_path / "dist")
    with zipfile.ZipFile(build.bundle) as bundle:
        bundled = [nbformat.reads(bundle.read(n).decode(), as_version=nbformat.NO_CONVERT)
                   for n in bundle.namelist() if n.endswith(".ipynb")]
    for notebook in [nbformat.read(build.student_notebook, as_version=nbformat.NO_CONVERT),
                     nbformat.read(build.solution_notebook, as_version=nbformat.NO_CONVERT), *bundled]:
        assert notebook.nbformat_minor == 5
        nbformat.validate(notebook)


def test_a_folder_without_a_master_notebook_is_refused(tmp_path):
    with pytest.raises(BuildError, match="exactly one master notebook"):
        build_assignment(tmp_path, tmp_path / "dist")


def _normalise(line: str) -> str:
    return re.sub(r"^(>>>|\.\.\.) ?", "", line.strip()).strip()


def _master_lines(folder: Path) -> tuple[set[str], set[str]]:
    """Solution lines, and the lesson's own lines (prompts, demonstrations) outside solutions and tests."""
    (master,) = [p for p in folder.glob("*.ipynb")]
    solution, lesson = set(), set()
    in_block, in_tests = False, False
    for cell in nbformat.read(master, as_version=4).cells:
        if cell.cell_type == "raw":
            in_tests = {"# BEGIN TESTS": True, "# END TESTS": False}.get(cell.source.strip(), in_tests)
            in_block = {"# BEGIN SOLUTION": True, "# END SOLUTION": False}.get(cell.source.strip(), in_block)
            continue
        if cell.cell_type != "code" or in_tests:
            continue
        inside = False
        for line in cell.source.splitlines():
            marker = line.strip()
            if marker.startswith("# BEGIN SOLUTION"):
                inside = True
            elif marker == "# END SOLUTION":
                inside = False
            elif inside or marker.endswith("# SOLUTION"):
                solution.add(_normalise(marker.removesuffix("# SOLUTION")))
            elif not in_block:
                lesson.add(_normalise(marker))
    return solution - TRIVIAL, lesson


def _hidden_test_lines(bundle: Path) -> set[str]:
    hidden, public = set(), set()
    with zipfile.ZipFile(bundle) as archive:
        for name in archive.namelist():
            if name.startswith("tests/") and name.endswith(".py"):
                scope = {}
                exec(archive.read(name).decode(), scope)
                for suite in scope["test"]["suites"]:
                    for case in suite["cases"]:
                        target = hidden if case.get("hidden") else public
                        target |= {_normalise(line) for line in case["code"].splitlines()}
    return {line for line in hidden - public - TRIVIAL if not CONTROL_FLOW.match(line)}


def _student_folder_lines(folder: Path) -> set[str]:
    lines = set()
    for path in folder.rglob("*"):
        if path.suffix == ".ipynb":
            notebook = nbformat.read(path, as_version=4)
            texts = [cell.source for cell in notebook.cells]
            texts += [case["code"] for test in notebook.metadata.get("otter", {}).get("tests", {}).values()
                      for suite in test["suites"] for case in suite["cases"]]
        elif path.is_file() and path.suffix in {".py", ".txt", ".json", ".md", ".yml"}:
            texts = [path.read_text()]
        else:
            continue
        lines |= {_normalise(line) for text in texts for line in text.splitlines()}
    return lines


def test_the_student_folder_runs_on_its_own(tiny_build):
    """The student's Jupyter, in the handed-out folder: imports resolve to the folder's own
    copies and the public checks run."""
    from nbclient import NotebookClient

    folder = tiny_build.student_notebook.parent
    notebook = nbformat.read(tiny_build.student_notebook, as_version=4)
    notebook.cells = [c for c in notebook.cells if "export_submission" not in c.source]
    notebook.cells.append(nbformat.v4.new_code_cell("import student.checks\nprint(student.checks.__file__)"))
    NotebookClient(notebook, timeout=120, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    texts = ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in notebook.cells]
    assert texts[-1].strip() == str(folder / "student" / "checks" / "__init__.py")
    check = next(c for c in notebook.cells if c.source == 'grader.check("square")')
    # The blank square() is a function, so its one public check passes; the hidden one is not shipped,
    # and the check says it does not decide the points.
    assert "square: public checks pass. Correctness is graded after you submit (2 points)." in json.dumps(check.outputs)
    readme = (folder / "README.md").read_text()
    for steps in (".venv/bin/python -m pip install -r requirements.txt", ".venv\\Scripts\\python -m pip install -r",
                  "%pip install -q -r requirements.txt"):
        assert steps in readme
    assert "MNIST" not in readme and "TensorFlow" not in readme, "the tiny assignment declares neither"
    assert not (folder / "harness").exists(), "the grading harness is for the bundle only"
