"""The checks behind the assignments' tests, shipped beside the student notebook.

They run in two places: in the student's kernel, through ``grader.check``, and in the
trusted grading process. Each takes a value (a model, an answer, a notebook's globals)
and returns a :class:`Verdict` whose message a student can act on, whether it passes or
not; none reads globals or prints. The helpers ``count_parameters`` and
``evaluate_accuracy`` return numbers and raise ``TypeError``/``ValueError`` with such a
message. Keras and scikit-learn are never imported when this package is: a model of
theirs can only exist once the notebook has imported them, so the checks that receive
something else answer without paying TensorFlow's import.
"""

from student.checks.accuracy import check_accuracy, evaluate_accuracy
from student.checks.choices import check_choice_set
from student.checks.defined import check_defined
from student.checks.network import check_dense_network
from student.checks.parameters import (
    ParameterCount,
    check_nonnegative_integers,
    check_parameter_counts,
    count_parameters,
)
from student.checks.verdict import Verdict

__all__ = [
    "Verdict",
    "ParameterCount",
    "check_dense_network",
    "count_parameters",
    "check_parameter_counts",
    "check_nonnegative_integers",
    "evaluate_accuracy",
    "check_accuracy",
    "check_choice_set",
    "check_defined",
]
