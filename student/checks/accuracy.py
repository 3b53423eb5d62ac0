"""Evaluating a Keras model on a labelled set of images, and checking its accuracy."""

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

    correct = 0
    for start in range(0, len(x), _BATCH_SIZE):
        batch = x[start : start + _BATCH_SIZE]
        if pixels_are_bytes:
            batch = batch.astype("float32") / 255
        scores = np.asarray(model(batch, training=False))
        correct += int(np.sum(scores.argmax(axis=1) == labels[start : start + _BATCH_SIZE]))
    return correct / len(x)


def check_accuracy(model, x, y, *, threshold: float) -> Verdict:
    """Check that the model's accuracy on ``x``, ``y`` (the test set) reaches ``threshold``.

    Example:
    >>> import keras
    >>> from keras import layers
    >>> model = keras.Sequential([keras.Input(shape=(2, 2, 1)), layers.Flatten(),
    ...                           layers.Dense(3, activation="softmax")])
    >>> x = np.zeros((4, 2, 2, 1), dtype="float32")
    >>> check_accuracy(model, x, [0, 1, 2, 0], threshold=0.0).passed
    True
    """
    try:
        accuracy = evaluate_accuracy(model, x, y)
    except (TypeError, ValueError) as error:
        return Verdict(False, str(error))
    if accuracy >= threshold:
        return Verdict(True, f"test accuracy {accuracy:.3f} ≥ {threshold:.3f}")
    # Enough digits that a near miss never reads "0.900 is below 0.900".
    digits = 3
    while digits < 6 and f"{accuracy:.{digits}f}" == f"{threshold:.{digits}f}":
        digits += 1
    return Verdict(
        False,
        f"test accuracy {accuracy:.{digits}f} is below {threshold:.{digits}f}: was your model "
        "trained (compile, then fit as in the lesson)?",
    )
