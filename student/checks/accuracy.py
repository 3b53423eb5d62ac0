"""Evaluating a Keras model on a labelled set of images, and checking its accuracy."""

from typing import NamedTuple

import numpy as np

from student.checks._models import _input_shape, _require_built_keras_model
from student.checks.verdict import Verdict

# Large enough to keep the model call efficient, small enough that the activations of
# one batch of MNIST images stay a few megabytes.
_BATCH_SIZE = 1000


def evaluate_accuracy(model, x, y) -> float:
    """The fraction of images in ``x`` whose highest-scoring class is the label in ``y``.

    ``x`` holds images in the model's input shape: floats scaled to [0, 1], or uint8 pixels
    (0-255), which are scaled one batch at a time so that no float copy of the whole set sits
    in memory beside the student's training data. ``y`` holds integer labels ``(N,)`` or
    one-hot rows ``(N, classes)``. The model runs in batches, in inference mode.

    Example:
    >>> import keras
    >>> from keras import layers
    >>> model = keras.Sequential([keras.Input(shape=(2, 2, 1)), layers.Flatten(),
    ...                           layers.Dense(3, activation="softmax")])
    >>> x = np.zeros((4, 2, 2, 1), dtype="float32")
    >>> 0.0 <= evaluate_accuracy(model, x, [0, 1, 2, 0]) <= 1.0
    True
    """
    return _evaluate(model, x, y).accuracy


class _Evaluation(NamedTuple):
    """What evaluating a classifier on labelled images measured."""

    correct: int
    images: int
    predicted: np.ndarray  # per class, the images whose scores are finite and highest for it
    not_finite: int  # images with a NaN or infinite score

    @property
    def accuracy(self) -> float:
        return self.correct / self.images


def _evaluate(model, x, y) -> _Evaluation:
    x = np.asarray(x)
    y = np.asarray(y)
    _require_built_keras_model(model, input_shape=x.shape[1:])
    model_input_shape = _input_shape(model)
    expected_text = "(N, " + ", ".join(str(size) for size in model_input_shape) + ")"
    fits = x.ndim == len(model_input_shape) + 1 and all(
        want is None or want == got for want, got in zip(model_input_shape, x.shape[1:])
    )
    if not fits:
        raise ValueError(
            f"the images have shape {x.shape}, but the model takes {expected_text}: images must be "
            f"{expected_text} float32 scaled to [0, 1]."
        )
    pixels_are_bytes = x.dtype == np.uint8
    if not (pixels_are_bytes or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(
            f"the images are {x.dtype}, but the model needs float32 pixels scaled to [0, 1] "
            "(divide by 255.0, as in the lesson), or uint8 pixels to be scaled here."
        )
    if len(x) == 0:
        raise ValueError("there are no images to evaluate (x is empty).")
    if not pixels_are_bytes and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"the pixel values range from {x.min():g} to {x.max():g}; scale them to [0, 1] "
            "(divide by 255.0, as in the lesson)."
        )
    if len(x) != len(y):
        raise ValueError(f"there are {len(x)} images but {len(y)} labels; they must pair up.")

    outputs = model.outputs
    if len(outputs) != 1 or len(outputs[0].shape) != 2:
        shapes = ", ".join(str(("N", *output.shape[1:])) for output in outputs)
        raise ValueError(
            f"the model outputs {shapes}, but accuracy needs one score per class, (N, classes): "
            "flatten the images before the Dense layers, and end with one unit per class."
        )
    classes = outputs[0].shape[1]
    if y.ndim == 2 and y.shape[1] == classes:
        labels = y.argmax(axis=1)
    elif y.ndim == 1:
        labels = y
    else:
        raise ValueError(
            f"the labels have shape {y.shape}; expected integer labels (N,) "
            f"or one-hot rows (N, {classes})."
        )

    correct = not_finite = 0
    predicted = np.zeros(classes, dtype=np.int64)
    for start in range(0, len(x), _BATCH_SIZE):
        batch = x[start : start + _BATCH_SIZE]
        if pixels_are_bytes:
            batch = batch.astype("float32") / 255
        scores = np.asarray(model(batch, training=False))
        predictions = scores.argmax(axis=1)
        correct += int(np.sum(predictions == labels[start : start + _BATCH_SIZE]))
        finite = np.isfinite(scores).all(axis=1)
        predicted += np.bincount(predictions[finite], minlength=classes)
        not_finite += int(np.sum(~finite))
    return _Evaluation(correct, len(x), predicted, not_finite)


def check_accuracy(model, x, y, *, threshold: float) -> Verdict:
    """Check that the model's accuracy on ``x``, ``y`` (the test set) reaches ``threshold``.

    A failing message states what was measured, never a guessed cause (a model can be
    trained and still not learn): the accuracy and the number of images; when the accuracy
    is within half of chance (one class in ``classes`` guessed at random), the chance level;
    when one class gets most predictions, that class and its share; and how many images
    got NaN or infinite scores.

    Example:
    >>> import keras
    >>> from keras import layers
    >>> model = keras.Sequential([keras.Input(shape=(2, 2, 1)), layers.Flatten(),
    ...                           layers.Dense(3, activation="softmax")])
    >>> x = np.zeros((4, 2, 2, 1), dtype="float32")
    >>> check_accuracy(model, x, [0, 1, 2, 0], threshold=0.0).passed
    True
    >>> print(check_accuracy(model, x, [0, 1, 2, 1], threshold=0.9))
    test accuracy 0.250 on 4 test images is below 0.900, about chance (0.333 for 3 classes); the model predicts class 0 for 100% of them.
    """
    try:
        evaluation = _evaluate(model, x, y)
    except (TypeError, ValueError) as error:
        return Verdict(False, str(error))
    accuracy = evaluation.accuracy
    if accuracy >= threshold:
        return Verdict(True, f"test accuracy {accuracy:.3f} ≥ {threshold:.3f}")
    # Enough digits that a near miss never reads "0.900 is below 0.900".
    digits = 3
    while digits < 6 and f"{accuracy:.{digits}f}" == f"{threshold:.{digits}f}":
        digits += 1
    images = evaluation.images
    facts = [
        f"test accuracy {accuracy:.{digits}f} on {images:,} test images is below {threshold:.{digits}f}"
    ]
    classes = len(evaluation.predicted)
    chance = 1 / classes
    if classes > 1 and abs(accuracy - chance) <= chance / 2:
        facts[0] += f", about chance ({chance:.{digits}f} for {classes} classes)"
    top = int(evaluation.predicted.argmax())
    share = evaluation.predicted[top] / images
    if classes > 1 and share >= 0.5:
        facts.append(f"the model predicts class {top} for {share:.0%} of them")
    if evaluation.not_finite:
        facts.append(
            f"its scores are NaN or infinite for {evaluation.not_finite:,} of the {images:,} images"
        )
    return Verdict(False, "; ".join(facts) + ".")
