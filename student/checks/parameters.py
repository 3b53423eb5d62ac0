"""Counting a network's weights and biases, and checking a student's counts."""

import decimal
import fractions
import math
import numbers
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

    A count may be any number that holds a whole value (see :func:`check_nonnegative_integers`).

    Example:
    >>> print(check_parameter_counts(110, 7, expected=ParameterCount(weights=100, biases=7)))
    weights: expected 100, got 110; biases: correct (7)
    >>> check_parameter_counts(100.0, np.int64(7), expected=ParameterCount(weights=100, biases=7)).passed
    True
    """
    counts = {"weights": _whole_number(weights), "biases": _whole_number(biases)}
    problems = [_problem(label, value, count) for (label, count), value in zip(counts.items(), (weights, biases))]
    if any(problems):
        return Verdict(False, "; ".join(problem for problem in problems if problem))
    answers = {label: (count, getattr(expected, label)) for label, count in counts.items()}
    if all(got == want for got, want in answers.values()):
        return Verdict(
            True, f"both counts are right ({counts['weights']} weights, {counts['biases']} biases)."
        )
    return Verdict(
        False,
        "; ".join(
            f"{label}: correct ({got})" if got == want else f"{label}: expected {want}, got {got}"
            for label, (got, want) in answers.items()
        ),
    )


def check_nonnegative_integers(**answers) -> Verdict:
    """Check that each answer is a whole number ≥ 0, without judging (or revealing) its value.

    A count is judged by its value, not its type: an ``int``, a NumPy integer, a float whose
    value is whole (``7.0``, e.g. from ``/``), a 0-d NumPy array holding one of these, or a
    ``Fraction`` or ``Decimal`` with a whole value. Refused, with a message naming the value
    and its type: ``bool`` (``True`` is no count, though Python treats it as 1), numbers that
    are not whole (``7.5``, or ``7.000000000000001`` from rounding: no tolerance is guessed),
    NaN and infinities, complex numbers, strings (``"7"``) and arrays of several numbers.

    Example:
    >>> check_nonnegative_integers(hidden_weights=100, hidden_biases=7.0).passed
    True
    >>> print(check_nonnegative_integers(hidden_biases=7.5))
    `hidden_biases` should be a whole number, such as 3, got float 7.5, which is not whole
    """
    if not answers:
        raise ValueError("name at least one answer, e.g. check_nonnegative_integers(count=count)")
    problems = []
    for name, value in answers.items():
        count = _whole_number(value)
        problem = _problem(f"`{name}`", value, count)
        if problem is None and count < 0:
            problem = f"`{name}` should be 0 or more, got {count}"
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


def _whole_number(value):
    """``value`` as an ``int`` if it is a real number with a whole value, else None.

    Example:
    >>> [_whole_number(v) for v in (3, np.uint8(3), 3.0, np.float32(3), np.array(3.0))]
    [3, 3, 3, 3, 3]
    >>> [_whole_number(v) for v in (True, 3.5, float("nan"), "3", np.array([3]), 3 + 0j)]
    [None, None, None, None, None, None]
    """
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]  # the NumPy scalar inside a 0-d array
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, fractions.Fraction):
        return int(value) if value.denominator == 1 else None
    if isinstance(value, decimal.Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else None
    if isinstance(value, numbers.Real):  # NumPy registers its floats as numbers.Real
        try:
            return int(value) if math.isfinite(value) and value == math.floor(value) else None
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _problem(label, value, count):
    """What is wrong with ``value`` as a count (``count``: its whole value, or None), or None."""
    if value is Ellipsis:
        return f"{label} is still `...`: replace it with your answer"
    if count is not None:
        return None
    got = f"{label} should be a whole number, such as 3, got {_describe(value)}"
    scalar = value[()] if isinstance(value, np.ndarray) and value.shape == () else value
    if isinstance(scalar, (bool, np.bool_)):
        return f"{got}: True and False are not counts"
    if isinstance(scalar, str):
        return f"{got}: write the number without quotes"
    if isinstance(scalar, (np.ndarray, list, tuple, set, frozenset)):
        return f"{got}: a count is one number"
    if isinstance(scalar, decimal.Decimal):
        nan, infinite = scalar.is_nan(), scalar.is_infinite()
    elif isinstance(scalar, numbers.Real):  # NumPy registers its floats as numbers.Real
        nan, infinite = math.isnan(scalar), math.isinf(scalar)
    elif isinstance(scalar, numbers.Complex):
        return f"{got}: a complex number"
    else:
        return got
    if nan:
        return f"{got}: NaN (not a number)"
    if infinite:
        return f"{got}: an infinity"
    return f"{got}, which is not whole"


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))
