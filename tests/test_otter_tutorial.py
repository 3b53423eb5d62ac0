"""otter's own tutorial assignment (tests/fixtures/otter-tutorial, BSD-3, see its SOURCE.md),
built and graded our way and otter's way, side by side: the build is not this lesson's build."""

import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from harness.results import question_scores
from instructor.build import BuildError, build_assignment
from instructor.grade import grade_submission
from otter_compare import otter_assign, otter_run_scores

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "tests" / "fixtures" / "otter-tutorial"
SAMPLES = sorted((TUTORIAL / "submissions").glob("*.ipynb"))


@pytest.fixture(scope="module")
def assignment(tmp_path_factory) -> Path:
    """The tutorial as an instructor would keep it: the master and its requirements, nothing else."""
    folder = tmp_path_factory.mktemp("assignments") / "demo"
    folder.mkdir()
    for name in ("demo.ipynb", "requirements.txt"):
        shutil.copyfile(TUTORIAL / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def ours(assignment, tmp_path_factory):
    # otter's own self-test fails this master under numpy 2 (see the next test): skipped, as
    # plain otter needs --no-run-tests too.
    return build_assignment(assignment, tmp_path_factory.mktemp("dist"), self_test=False)


@pytest.fixture(scope="module")
def otters_scores(assignment, tmp_path_factory) -> dict:
    """Per sample, per question: what plain ``otter assign`` + ``otter run`` give."""
    work = tmp_path_factory.mktemp("plain-otter")
    bundle = otter_assign(assignment / "demo.ipynb", work / "dist")
    return {sample.stem: otter_run_scores(bundle, sample, work / sample.stem) for sample in SAMPLES}


def test_the_tutorial_builds_without_mnist_tensorflow_or_settings(ours):
    with zipfile.ZipFile(ours.bundle) as bundle:
        names = bundle.namelist()
        environment = bundle.read("environment.yml").decode()
    requirements = (ours.student_notebook.parent / "requirements.txt").read_text().splitlines()
    assert "tqdm" in environment
    assert not any(name.endswith(".npz") for name in names)
    assert "tqdm" in requirements and not any(r.startswith(("tensorflow", "keras")) for r in requirements)
    assert ours.name == "demo"  # the folder's name: the master's config has none
    assert (ours.auto_points, ours.manual_points) == (3, {"q4": 1, "q5": 1})  # otter: 1 point by default
    for notebook in (ours.student_notebook, ours.solution_notebook):
        nbformat.validate(nbformat.read(notebook, as_version=nbformat.NO_CONVERT))  # the master is nbformat 4.4


def test_otters_self_test_fails_the_build_with_otters_message(assignment, tmp_path):
    with pytest.raises(BuildError, match=r"self-test of the solution.*\n(.|\n)*q3"):
        build_assignment(assignment, tmp_path / "dist")


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_scores_what_otter_gives_it(ours, otters_scores, sample, tmp_path):
    results = grade_submission(ours.bundle, sample, tmp_path / "results.json")
    assert question_scores(results) == otters_scores[sample.stem]


def test_the_solution_filled_into_the_student_notebook_scores_what_otter_gives_the_solution(ours, tmp_path):
    """Full marks but for the four hidden q3 tests that numpy 2 fails for every notebook."""
    student = nbformat.read(ours.student_notebook, as_version=4)
    solution = {
        "square": "def square(x):\n    return x**2",
        "fiberator": "def fiberator():\n    yield 0\n    yield 1\n    x, y = 0, 1\n    while True:\n"
                     "        x, y = y, x + y\n        yield y",
        "data = ": 'data = pd.DataFrame({\n    "flavor": ["chocolate", "vanilla", "chocolate", "strawberry", '
                   '"strawberry", "vanilla", "mint", "mint", "chocolate"],\n    "scoops": [1, 1, 2, 1, 3, 2, 1, 2, 3],\n'
                   '    "price": [2, 1.5, 3, 2, 4, 2, 4, 5, 5]\n})\n'
                   'price_by_flavor = data.groupby("flavor")["price"].mean()',
    }
    for cell in student.cells:
        for marker, source in solution.items():
            if cell.cell_type == "code" and (f"def {marker}" in cell.source or cell.source.startswith(marker)):
                cell.source = source
    filled = tmp_path / "demo.ipynb"
    nbformat.write(student, filled)
    results = grade_submission(ours.bundle, filled, tmp_path / "results.json")
    assert question_scores(results) == {"q1": 1, "q2": 1, "q3": 0.5}
