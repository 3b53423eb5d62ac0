"""The autograder self-test on the neural-networks assignment: every fixture submission is
graded through the real pipeline (bundle, otter, a kernel, TensorFlow training) and must
score exactly as expected.yml says; each is made from the current build by its declared edits.
The slowest test here: a few minutes on 2 cores."""

from pathlib import Path

import pytest

from harness.results import scored_tests
from instructor.grade import grade_submission
from instructor.validate import outcome_table, validate

ASSIGNMENT = Path(__file__).resolve().parents[1] / "assignments" / "neural-networks"


@pytest.fixture(scope="module")
def outcomes(nn_dist):
    return {outcome.submission: outcome for outcome in validate(ASSIGNMENT, nn_dist)}


@pytest.mark.slow
def test_every_fixture_scores_as_expected(outcomes, results_validator):
    table = outcome_table(list(outcomes.values()))
    assert all(outcome.matches for outcome in outcomes.values()), table
    for outcome in outcomes.values():
        results_validator(outcome.results)


@pytest.mark.slow
def test_the_blank_notebook_fails_every_question_with_the_checks_messages(outcomes):
    results = outcomes["student-notebook"].results
    assert results["score"] == 0
    assert "`mlp_16x16_weights` and `mlp_16x16_biases` are still `...`" in results["output"]
    assert "not built" in next(t["output"] for t in results["tests"] if t["name"] == "mlp-keras")


@pytest.mark.slow
def test_a_wrong_layer_is_named_in_the_feedback(outcomes):
    output = outcomes["32-units-instead-of-16"].results["output"]
    assert "layer 1: expected Dense(16, activation='relu'), got Dense(32, activation='relu')" in output


@pytest.mark.slow
def test_an_answer_moved_into_a_skipped_cell_is_explained(outcomes):
    output = outcomes["answer-in-skipped-cell"].results["output"]
    assert "`cnn_weights` is assigned only in cell" in output and "which the autograder skips" in output


@pytest.mark.slow
def test_the_solution_notebook_gets_full_marks(nn_dist, results_validator):
    built = nn_dist / "neural-networks" / "autograder"
    results = grade_submission(built / "neural-networks-autograder.zip", built / "neural-networks.ipynb")
    results_validator(results)
    assert results["score"] == sum(test["max_score"] for test in scored_tests(results)) == 10
