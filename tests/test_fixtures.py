"""Self-test fixtures declared as edits, and mutation testing, through the real pipeline (real
builds, real grading) with the tiny fixture assignment, so each case takes seconds."""

from pathlib import Path

import nbformat
import pytest
import yaml
from click.testing import CliRunner

from instructor.cli import main
from instructor.mutants import mutants_of, run_mutants
from instructor.validate import built_assignment, validate

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "fixtures" / "tiny" / "tiny.ipynb"
FULL = {"square": 2, "answer": 1}


def tiny_assignment(folder: Path, fixtures: dict, weaken_answer_test: bool = False) -> Path:
    """The tiny master in ``folder`` with ``fixtures`` as its expected.yml; optionally with a
    hidden test that accepts any answer from 42 up."""
    folder.mkdir()
    master = nbformat.read(TINY, as_version=4)
    if weaken_answer_test:
        for cell in master.cells:
            cell.source = cell.source.replace("assert answer == 42", "assert answer >= 42")
    nbformat.write(master, folder / TINY.name)
    (folder / "submissions").mkdir()
    (folder / "submissions" / "expected.yml").write_text(yaml.safe_dump(fixtures, sort_keys=False))
    return folder


@pytest.fixture
def built(tmp_path, mnist_npz):
    def build(fixtures: dict, **options) -> tuple[Path, Path]:
        assignment = tiny_assignment(tmp_path / "tiny", fixtures, **options)
        result = CliRunner().invoke(main, ["build", str(assignment), "--dist", str(tmp_path / "dist")])
        assert result.exit_code == 0, result.output
        return assignment, tmp_path / "dist"

    return build


def test_declared_fixtures_are_made_from_the_build_and_score_as_expected(built, tmp_path):
    fixtures = {
        "blank": {"from": "student", "expect": {"square": 0, "answer": 0}},
        "reference": {"from": "solution", "expect": FULL},
        "off-by-one": {"from": "solution", "edits": [{"set": {"answer": "41"}}], "expect": {"square": 2, "answer": 0}},
        "own-words": {"from": "student", "edits": [
            {"in": {"assigns": "square"}, "source": "def square(x):\n    return x ** 2\n"},
            {"set": {"answer": "6 * 7"}},
            {"insert_after": {"line": "return x ** 2"}, "source": "print(square(3))"},
        ], "expect": FULL},
        "upload": {"file": "upload.ipynb", "expect": FULL},
    }
    assignment, dist = built(fixtures)
    solution = nbformat.read(dist / "tiny" / "autograder" / "tiny.ipynb", as_version=4)
    solution.cells[-1].source += "\n# uploaded by a student"  # a real upload, kept as a file
    nbformat.write(solution, assignment / "submissions" / "upload.ipynb")
    outcomes = validate(assignment, dist)
    assert {o.submission: o.got for o in outcomes} == {name: f["expect"] for name, f in fixtures.items()}
    made = dist / "tiny" / "fixtures"
    assert sorted(p.name for p in made.iterdir()) == sorted(f"{name}.ipynb" for name in fixtures)
    own = nbformat.read(made / "own-words.ipynb", as_version=4)
    sources = [cell.source for cell in own.cells]
    assert "answer = 6 * 7" in sources
    assert sources[sources.index("def square(x):\n    return x ** 2") + 1] == "print(square(3))"
    assert (made / "upload.ipynb").read_bytes() == (assignment / "submissions" / "upload.ipynb").read_bytes()


@pytest.mark.parametrize("edit, problem", [
    ({"set": {"answr": 1}}, "expected exactly one cell that assigns answr, found 0"),
    ({"in": {"tag": "otter_assign_solution_cell"}, "source": "x = 1"},
     "expected exactly one cell that is tagged otter_assign_solution_cell, found 2"),
    ({"insert_after": {"line": "answer = 43"}, "source": "x = 1"},
     "expected exactly one cell that has a line containing 'answer = 43', found 0"),
    ({"in": {"assigns": "answer"}, "replace": {"answer = 43": "answer = 44"}}, "the cell has no 'answer = 43'"),
    ({"in": {"assigns": "square"}}, "give one of source, replace, append"),
])
def test_an_edit_that_misses_its_target_stops_validate_with_one_line(built, edit, problem):
    assignment, dist = built({
        "reference": {"from": "solution", "expect": FULL},
        "stale": {"from": "solution", "edits": [{"set": {"answer": 41}}, edit], "expect": FULL},
    })
    result = CliRunner().invoke(main, ["validate", str(assignment), "--dist", str(dist)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: fixture stale, edit 2 ("), result.output
    assert problem in lines[0]
    assert not (dist / "tiny" / "fixtures").exists(), "nothing is written or graded when a fixture is stale"


def test_mutants_that_keep_full_marks_are_reported_as_survivors(built):
    assignment, dist = built({"reference": {"from": "solution", "expect": FULL}}, weaken_answer_test=True)
    result = CliRunner().invoke(main, ["validate", str(assignment), "--dist", str(dist), "--mutants", "--fail-on-survivors"])
    assert result.exit_code == 1, result.output
    table = result.output.splitlines()
    assert table[0].split() == ["mutant", "score", "result", "lost", "points", "in"]
    assert table[1].split() == ["answer", "+", "1", "3/3", "SURVIVED"]
    assert table[2].split() == ["answer", "-", "1", "2/3", "killed", "answer"]
    assert "no mutants for: square" in result.output
    assert result.output.splitlines()[-1] == (
        "Error: 1 of 2 mutants lost points; 1 kept full marks (tests too weak): answer + 1")


def test_the_tiny_assignments_own_tests_kill_every_mutant(built):
    assignment, dist = built({"reference": {"from": "solution", "expect": FULL}})
    outcomes, unmutated = run_mutants(built_assignment(assignment, dist))
    assert [(o.label, o.killed, o.lost) for o in outcomes] == [("answer + 1", True, ["answer"]),
                                                               ("answer - 1", True, ["answer"])]
    assert unmutated == ["square"]


def test_the_neural_networks_solution_gets_one_mutant_per_distinct_wrong_answer(nn_dist):
    solution = nbformat.read(nn_dist / "neural-networks" / "autograder" / "neural-networks.ipynb", as_version=4)
    names = ["mlp_16x16_weights", "mlp_16x16_biases", "cnn_weights", "cnn_biases", "hyperparameters", "mlp_keras"]
    mutants, unmutated = mutants_of(solution, names)
    labels = [m.label for m in mutants]
    assert unmutated == [] and len(labels) == len(set(labels)) == 30
    assert "hyperparameters with 'val_accuracy'" in labels and "hyperparameters without 'epochs'" in labels
    assert "mlp_keras: layer 3 Dense dropped" in labels
    assert "mlp_keras: layer 4 Dense dropped" not in labels  # the same model as dropping layer 3
    cell = next(m for m in mutants if m.label == "mlp_keras: layer 5 Dense units num_classes + 1").source
    assert "layers.Dense(num_classes + 1, activation='softmax')" in cell and "mlp_keras.summary" in cell
