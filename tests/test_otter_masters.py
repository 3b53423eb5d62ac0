"""Masters from otter-grader's own test suite (tests/fixtures/otter-masters, BSD-3, see its
SOURCE.md), built and graded our way and otter's way, side by side.

Together they use the formats and options otter 7 accepts: config and question headers as raw
cells and as Markdown ```otter blocks, an external ``config_file``, doctests and exception-style
tests, points per test case and as lists, ``points: {each: ...}``, ``all_or_nothing``, seeds
(intercell and by variable), ``files`` and ``student_files``, hand-graded questions.

Each master is graded on its solution notebook, its blank student notebook and a wrong
solution (the solution with answers changed, as a student could write it), each tool on the
notebooks it built. Plain otter runs in background threads while ours grade.
"""

import json
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from harness.results import question_scores
from instructor.build import build_assignment
from instructor.grade import grade_submission
from otter_compare import edited_notebook, otter_assign, otter_run_scores

REPO = Path(__file__).resolve().parents[1]
MASTERS_DIR = REPO / "tests" / "fixtures" / "otter-masters"
# Per master, the wrong solution's edits (old: new, each in one code cell of the built solution).
WRONG = {
    "example": {
        "y = x * x # SOLUTION": "y = x * x if x < 10 else 0",  # q3: square(16) fails (10 points), square(1) passes
        "z = np.random.normal(4, 2, 10) # SOLUTION": "z = np.random.normal(4, 2, 10) * 2",  # q8 [10, 2]: 10
        "s = add(1, 2) # SOLUTION": "s = add(1, 1)",  # q9: one of two cases
    },
    "exception-example": {
        "x = 2 # SOLUTION": "x = 3",  # q1 all or nothing: the public case passes, the hidden one fails: 0
        "np.random.seed(42) # SEED\n": "",  # q8: otter's intercell seed (42) still gives the expected values
    },
    "generate-otter": {
        "x = 2 # SOLUTION": "x = 3",  # q1, 0.75 each: the two hidden cases fail
        "nine = square(3)": "nine = square(3) + 1",  # q3: one case of three fails
    },
}
MASTERS = sorted(WRONG)
KINDS = ("solution", "student", "wrong")


def _notebooks(solution: Path, student: Path, master: str, folder: Path) -> dict:
    """The notebooks graded for ``master``: the built solution and student notebooks, the wrong one."""
    wrong = edited_notebook(solution, WRONG[master], folder / "wrong" / solution.name)
    return {"solution": solution, "student": student, "wrong": wrong}


@pytest.fixture(scope="module")
def assignments(tmp_path_factory) -> dict:
    """Each master's folder as an instructor would keep it: otter's files, nothing else."""
    root = tmp_path_factory.mktemp("assignments")
    return {master: Path(shutil.copytree(MASTERS_DIR / master, root / master, ignore=shutil.ignore_patterns("*.md")))
            for master in MASTERS}


@pytest.fixture(scope="module")
def otters_scores(assignments, tmp_path_factory):
    """Per master, a future of plain ``otter assign`` + ``otter run``'s scores per notebook kind."""
    work = tmp_path_factory.mktemp("plain-otter")

    def plain_otter(master: str) -> dict:
        notebook = f"{master}.ipynb"
        bundle = otter_assign(assignments[master] / notebook, work / master / "dist")
        dist = bundle.parents[1]
        notebooks = _notebooks(dist / "autograder" / notebook, dist / "student" / notebook, master, work / master)
        return {kind: otter_run_scores(bundle, path, work / master / "results" / kind) for kind, path in notebooks.items()}

    with ThreadPoolExecutor(max_workers=len(MASTERS)) as pool:
        yield {master: pool.submit(plain_otter, master) for master in MASTERS}


@pytest.fixture(scope="module")
def ours(assignments, tmp_path_factory) -> dict:
    # otter's own tests build these with no_run_tests: example's solution fails its own q1.
    dist = tmp_path_factory.mktemp("dist")
    return {master: build_assignment(assignments[master], dist, self_test=False) for master in MASTERS}


@pytest.fixture(scope="module")
def our_scores(ours, otters_scores, tmp_path_factory):
    """Per master and notebook kind, a future of ``instructor grade``'s scores (otter's run meanwhile)."""
    work = tmp_path_factory.mktemp("ours")

    with ThreadPoolExecutor(max_workers=len(MASTERS)) as pool:
        futures = {}
        for master in MASTERS:
            build = ours[master]
            notebooks = _notebooks(build.solution_notebook, build.student_notebook, master, work / master)
            for kind, path in notebooks.items():
                futures[master, kind] = pool.submit(grade_submission, build.bundle, path, work / master / kind / "results.json")
        yield futures


def test_every_otter_format_is_read(ours):
    example, exception, plain = ours["example"], ours["exception-example"], ours["generate-otter"]
    assert (example.name, exception.name, plain.name) == ("hw01", "exception-example", "generate-otter")
    # The raw config's seed variable, as otter writes it for otter run.
    with zipfile.ZipFile(example.bundle) as bundle:
        config = json.loads(bundle.read("otter_config.json"))
        assert bundle.read("files/data.csv")
    assert (config["seed"], config["seed_variable"]) == (42, "a_nonexistent_variable")
    # exception-example's config is a Markdown ```otter block naming a config file, whose
    # tests: {ok_format: false} makes otter write exception-style tests; its seed is intercell.
    with zipfile.ZipFile(exception.bundle) as bundle:
        config = json.loads(bundle.read("otter_config.json"))
        q1 = bundle.read("tests/q1.py").decode()
    assert config["seed"] == 42 and "seed_variable" not in config
    assert "OK_FORMAT = False" in q1 and "all_or_nothing = True" in q1 and "def test_type(x):" in q1
    # Answers come from the test functions' parameters, which otter fills from the notebook.
    assert exception.derived_answers == {"q1": ["x"], "q3": ["nine", "square"], "q8": ["np", "z"]}
    # The Markdown question headers are read: their hand-graded questions and their order.
    assert exception.manual_points == {"q2": 1, "q4": 2, "question6": 1, "q7": 1}
    student = nbformat.read(exception.student_notebook, as_version=4)
    assert not any("```otter" in cell.source or "ASSIGNMENT CONFIG" in cell.source for cell in student.cells)
    assert sum("grader.check_all()" in cell.source for cell in student.cells) == 1  # config file's check_all_cell
    assert plain.auto_points == pytest.approx(4.75)  # q1: 5 cases of 0.75; q3: 1
    for build in ours.values():
        for notebook in (build.student_notebook, build.solution_notebook):
            nbformat.validate(nbformat.read(notebook, as_version=nbformat.NO_CONVERT))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("master", MASTERS)
def test_every_notebook_scores_what_otter_gives_it(master, kind, our_scores, otters_scores):
    ours = question_scores(our_scores[master, kind].result())
    assert ours == otters_scores[master].result()[kind]
    if kind == "wrong":  # partial credit, points lists, all or nothing: the wrong notebook loses points
        assert ours != otters_scores[master].result()["solution"]


def test_a_config_block_inside_markdown_is_applied_after_its_config_file(assignments, tmp_path):
    """As otter applies them: the config file, then the block (here turning off the file's
    check_all_cell); the Markdown around the block stays in the notebook."""
    folder = Path(shutil.copytree(assignments["exception-example"], tmp_path / "variant"))
    master = folder / "exception-example.ipynb"
    notebook = nbformat.read(master, as_version=nbformat.NO_CONVERT)
    block = notebook.cells[0]
    assert block.cell_type == "markdown" and block.source.startswith("```otter")
    block.source = ("# Exceptions\n\nAn introduction.\n\n" + block.source.replace("generate:", "check_all_cell: false\ngenerate:")
                    + "\n\nMore text.")
    nbformat.write(notebook, master)
    build = build_assignment(folder, tmp_path / "dist", self_test=False)
    student = nbformat.read(build.student_notebook, as_version=nbformat.NO_CONVERT)
    nbformat.validate(student)
    sources = [cell.source for cell in student.cells]
    assert "# Exceptions\n\nAn introduction.\n" in sources and "More text." in sources
    assert not any("grader.check_all()" in source or "```otter" in source for source in sources)
    with zipfile.ZipFile(build.bundle) as bundle:
        assert "OK_FORMAT = False" in bundle.read("tests/q1.py").decode()  # the file's tests: {ok_format: false}
