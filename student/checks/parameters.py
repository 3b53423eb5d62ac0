"""Counting a network's weights and biases, and checking a student's counts."""

import sys
from typing import NamedTuple

import numpy as np

from student.checks._describe import _describe, _join
from student.checks._models import _is_keras_model, _require_built_keras_model
from student.checks.verdict import Verdict


class ParameterCount(NamedTuple):
    """A network's trainable numbers: kernel weights and biases, counted apart.

    Example:
    >>> ParameterCount(weights=100, biases=7).total
    107
    """

    weights: int
    biases: int

    @property
    def total(self) -> int:
        return self.weights + self.biases


def count_parameters(model) -> ParameterCount:
    """Count the weights and biases of a built Keras model or a fitted ``MLPClassifier``.

    Every Keras variable named ``bias`` is a bias and every other one (kernels, but also
    e.g. BatchNormalization's statistics) a weight, so the total equals
    ``model.count_params()``.

    Example:
    >>> import keras
    >>> from keras import layers
    >>> model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(8), layers.Dense(4)])
    >>> count_parameters(model)
    ParameterCount(weights=112, biases=12)
    """
    if _is_keras_model(model):
        _require_built_keras_model(model, input_shape=None)
        biases = sum(_size(v.shape) for v in model.weights if v.name.endswith("bias"))
        return ParameterCount(sum(_size(v.shape) for v in model.weights) - biases, biases)

    neural_network = sys.modules.get("sklearn.neural_network")
    if neural_network is not None and isinstance(model, neural_network.MLPClassifier):
        if not hasattr(model, "coefs_"):
            raise ValueError(
                "the MLPClassifier is not fitted yet, so it has no weights: call its "
                ".fit(x, y) with the training data first, as in the lesson."
            )
        return ParameterCount(
            sum(kernel.size for kernel in model.coefs_),
            sum(bias.size for bias in model.intercepts_),
        )

    raise TypeError(
        "expected a built Keras model or a fitted scikit-learn MLPClassifier, "
        f"got {_describe(model)}."
    )


def check_parameter_counts(weights, biases, *, expected: ParameterCount) -> Verdict:
    """Compare a student's counts of weights and biases with the right ones.

    Example:
    >>> print(check_parameter_counts(110, 7, expected=ParameterCount(weights=100, biases=7)))
    weights: expected 100, got 110; biases: correct (7)
    """
    answers = {"weights": (weights, expected.weights), "biases": (biases, expected.biases)}
    problems = [_whole_number_problem(label, got) for label, (got, _) in answers.items()]
    if any(problems):
        return Verdict(False, "; ".join(problem for problem in problems if problem))
    if all(got == want for got, want in answers.values()):
        return Verdict(True, f"both counts are right ({int(weights)} weights, {int(biases)} biases).")
    return Verdict(
        False,
        "; ".join(
            f"{label}: correct ({int(got)})"
            if got == want
            else f"{label}: expected {want}, got {int(got)}"
            for label, (got, want) in answers.items()
        ),
    )


def check_nonnegative_integers(**answers) -> Verdict:
    """Check that each answer is a whole number ≥ 0, without judging (or revealing) its value.

    Example:
    >>> print(check_nonnegative_integers(hidden_biases=7.0))
    `hidden_biases` should be a whole number (int), got float 7.0
    >>> check_nonnegative_integers(hidden_weights=100, hidden_biases=7).passed
    True
    """
    if not answers:
        raise ValueError("name at least one answer, e.g. check_nonnegative_integers(count=count)")
    problems = []
    for name, value in answers.items():
        problem = _whole_number_problem(f"`{name}`", value)
        if problem is None and value < 0:
            problem = f"`{name}` should be 0 or more, got {value}"
        if problem:
            problems.append(problem)
    if problems:
        return Verdict(False, "; ".join(problems))
    names = _join([f"`{name}`" for name in answers])
    if len(answers) == 1:
        verdict = f"{names} is a whole number; the autograder checks its value"
    else:
        verdict = f"{names} are whole numbers; the autograder checks their values"
    return Verdict(True, verdict + " after the deadline.")


def _whole_number_problem(label, value):
    if value is Ellipsis:
        return f"{label} is still `...`: replace it with your answer"
    # bool is an int subclass, but True is no count.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return f"{label} should be a whole number (int), got {_describe(value)}"
    return None


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))
