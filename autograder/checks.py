"""Reusable checks for otter test cases, run inside the student's notebook kernel.

Each ``check_*`` function returns a :class:`Verdict` whose message a student can act on,
whether it passes or not; the helpers ``count_parameters`` and ``evaluate_accuracy``
return numbers and raise ``TypeError``/``ValueError`` with such a message. Keras and
scikit-learn are never imported here: a model of theirs can only exist once the notebook
has imported them, so the checks that receive something else answer without paying
TensorFlow's import.
"""

import sys
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# Large enough to keep the model call efficient, small enough that the activations of
# one batch of MNIST images stay a few megabytes.
_BATCH_SIZE = 1000


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check, true when it passed, printed as its message.

    Example:
    >>> verdict = Verdict(False, "`answer` is not defined.")
    >>> bool(verdict), str(verdict)
    (False, '`answer` is not defined.')
    """

    passed: bool
    message: str

    def __bool__(self):
        return self.passed

    def __str__(self):
        return self.message


class ParameterCount(NamedTuple):
    """A network's trainable numbers: kernel weights and biases, counted apart.

    Example:
    >>> ParameterCount(weights=12960, biases=42).total
    13002
    """

    weights: int
    biases: int

    @property
    def total(self) -> int:
        return self.weights + self.biases


def check_dense_network(
    model,
    hidden_units,
    *,
    hidden_activation="relu",
    output_units=10,
    output_activation="softmax",
    input_shape=(28, 28, 1),
) -> Verdict:
    """Check that ``model`` is Input → Flatten → Dense hidden layers → Dense output layer.

    Activations may be given to Dense or as a following activation layer (``Activation``,
    ``ReLU``, ``Softmax``), as a name or a function; Dropout layers are ignored, since
    they change nothing at prediction time.

    Example:
    >>> import keras
    >>> from keras import layers
    >>> model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
    ...                           layers.Dense(8, activation="tanh"),
    ...                           layers.Dense(10, activation="softmax")])
    >>> check_dense_network(model, (8,), hidden_activation="tanh").passed
    True
    >>> print(check_dense_network(model, (8,)))
    layer 1: expected Dense(8, activation='relu'), got Dense(8, activation='tanh')
    """
    hidden_activation = _activation_name(hidden_activation)
    output_activation = _activation_name(output_activation)
    expected = [_Dense(units, hidden_activation) for units in hidden_units]
    expected.append(_Dense(output_units, output_activation))
    expected_text = " → ".join(["Flatten", *(f"Dense({d.units}, {d.activation})" for d in expected)])

    try:
        _require_built_keras_model(model, input_shape)
        model_input_shape = _input_shape(model)
    except (TypeError, ValueError) as error:
        return Verdict(False, str(error))
    if model_input_shape != tuple(input_shape):
        return Verdict(
            False,
            f"your model takes inputs of shape {model_input_shape}, but the images are "
            f"{tuple(input_shape)}: start it with keras.Input(shape={tuple(input_shape)}).",
        )

    stages = _stages(model)
    unexpected = [stage for stage in stages if not isinstance(stage, (_Dense, _Flatten))]
    if unexpected:
        layer = unexpected[0]
        return Verdict(
            False,
            f"layer '{layer.name}' ({type(layer).__name__}) does not belong in this network, "
            f"which is {expected_text} (Dropout may be added).",
        )

    if not stages:
        return Verdict(False, f"your model has no layers after its input; expected {expected_text}.")
    flatten_count = sum(isinstance(stage, _Flatten) for stage in stages)
    if not isinstance(stages[0], _Flatten):
        if flatten_count:
            problem, consequence = "your model's Flatten comes after a Dense layer", ""
        else:
            problem = "your model has no Flatten before its first Dense layer"
            consequence = (
                f", so your model outputs {tuple(model.outputs[0].shape[1:])} numbers per image "
                f"instead of {output_units} class scores"
            )
        return Verdict(
            False,
            f"{problem}. A Dense layer applied to a {tuple(input_shape)} image works on the last "
            f"axis only{consequence}. Add layers.Flatten() first.",
        )
    if flatten_count > 1:
        return Verdict(
            False,
            f"your model has {flatten_count} Flatten layers; it needs one, before the first "
            "Dense layer.",
        )

    dense = stages[1:]
    if len(dense) != len(expected):
        return Verdict(
            False,
            f"your model has {_plural(len(dense), 'Dense layer')}, expected {len(expected)} after a "
            f"Flatten ({_describe_hidden(hidden_units)} and an output layer of {output_units}).",
        )
    mismatches = [
        f"layer {number}: expected {want}, got {got}"
        for number, (want, got) in enumerate(zip(expected, dense), start=1)
        if want != got
    ]
    if mismatches:
        return Verdict(False, "; ".join(mismatches))
    return Verdict(True, f"your model matches {expected_text}.")


def count_parameters(model) -> ParameterCount:
    """Count the weights and biases of a built Keras model or a fitted ``MLPClassifier``.

    Every Keras variable named ``bias`` is a bias and every other one (kernels, but also
    e.g. BatchNormalization's statistics) a weight, so the total equals
    ``model.count_params()``.

    Example:
    >>> import keras
    >>> from keras import layers
    >>> model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(16), layers.Dense(10)])
    >>> count_parameters(model)
    ParameterCount(weights=12704, biases=26)
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
    >>> print(check_parameter_counts(12970, 42, expected=ParameterCount(12960, 42)))
    weights: expected 12960, got 12970; biases: correct (42)
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
    >>> print(check_nonnegative_integers(mlp_16x16_biases=42.0))
    `mlp_16x16_biases` should be a whole number (int), got float 42.0
    >>> check_nonnegative_integers(mlp_16x16_weights=12000, mlp_16x16_biases=40).passed
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


def check_choice_set(answer, *, choices, expected=None) -> Verdict:
    """Check a multiple-choice answer given as a set of strings taken from ``choices``.

    Without ``expected`` only the form is checked (for public tests); with it, the answer
    must hold exactly the expected choices, and a failing message gives only counts.

    Example:
    >>> choices = ["relu", "sigmoid", "softmax"]
    >>> print(check_choice_set({"relu", "tanh"}, choices=choices))
    'tanh' is not in the list of choices ('relu', 'sigmoid', 'softmax').
    >>> print(check_choice_set({"relu"}, choices=choices, expected={"relu", "softmax"}))
    1 correct choice is missing.
    """
    choices = list(choices)
    if expected is not None and not set(expected) <= set(choices):
        unknown = sorted(set(expected) - set(choices))
        raise ValueError(f"expected {unknown} are not among the choices {choices}")

    example = "{" + ", ".join(repr(choice) for choice in choices[:2]) + "}"
    if answer is Ellipsis:
        return Verdict(
            False, f"your answer is still `...`: replace it with a set of choices, such as {example}."
        )
    if isinstance(answer, str):
        return Verdict(
            False,
            f"your answer should be a set of strings, got the string {answer!r}: put even a single "
            f"choice in braces, e.g. {{{answer!r}}}.",
        )
    if not isinstance(answer, (set, frozenset, list, tuple)):
        return Verdict(
            False,
            f"your answer should be a set of strings, such as {example}, got {_describe(answer)}.",
        )
    not_strings = [_describe(item) for item in answer if not isinstance(item, str)]
    if not_strings:
        return Verdict(False, f"every choice should be a string in quotes, got {_join(not_strings)}.")
    unknown = sorted(set(answer) - set(choices))
    if unknown:
        verb = "is" if len(unknown) == 1 else "are"
        listed = ", ".join(repr(choice) for choice in choices)
        return Verdict(
            False, f"{_join([repr(u) for u in unknown])} {verb} not in the list of choices ({listed})."
        )

    if expected is None:
        return Verdict(
            True,
            f"your answer has {_plural(len(set(answer)), 'valid choice')}; the autograder checks it "
            "after the deadline.",
        )
    missing = len(set(expected) - set(answer))
    extra = len(set(answer) - set(expected))
    if not missing and not extra:
        return Verdict(True, "your choices are right.")
    parts = []
    if missing:
        parts.append(f"{_plural(missing, 'correct choice')} {'is' if missing == 1 else 'are'} missing")
    if extra:
        parts.append(f"{extra} of your choices {'does' if extra == 1 else 'do'} not belong")
    return Verdict(False, " and ".join(parts) + ".")


def check_defined(namespace: dict, *names: str) -> Verdict:
    """Check that each name is assigned in ``namespace`` (the notebook's globals) and answered.

    Example:
    >>> print(check_defined({"cnn_weights": ...}, "cnn_weights"))
    `cnn_weights` is still `...`: replace it with your answer.
    >>> check_defined({"cnn_weights": 34720}, "cnn_weights").passed
    True
    """
    if not names:
        raise ValueError("name at least one variable, e.g. check_defined(globals(), 'answer')")
    missing = [f"`{name}`" for name in names if name not in namespace]
    placeholders = [f"`{name}`" for name in names if namespace.get(name) is Ellipsis]
    problems = []
    if missing:
        one = len(missing) == 1
        problems.append(
            f"{_join(missing)} {'is' if one else 'are'} not defined. "
            f"Assign {'it' if one else 'them'} in the answer cell for this question; the autograder "
            "skips the lesson's demonstration cells (marked 'skipped when grading'), so answers "
            "placed there are lost."
        )
    if placeholders:
        one = len(placeholders) == 1
        problems.append(
            f"{_join(placeholders)} {'is' if one else 'are'} still `...`: replace "
            f"{'it' if one else 'them'} with your answer{'' if one else 's'}."
        )
    if problems:
        return Verdict(False, " ".join(problems))
    verb = "is" if len(names) == 1 else "are"
    return Verdict(True, f"{_join([f'`{name}`' for name in names])} {verb} defined.")


@dataclass(frozen=True)
class _Dense:
    units: int
    activation: str

    def then(self, activation: str) -> "_Dense":
        # An activation layer after a linear Dense is that Dense's activation; after a
        # non-linear one the two compose, which no expected network has.
        if self.activation == "linear":
            return _Dense(self.units, activation)
        return _Dense(self.units, f"{self.activation}, then {activation}")

    def __str__(self):
        return f"Dense({self.units}, activation='{self.activation}')"


class _Flatten:
    pass


def _stages(model):
    """The model's layers as _Flatten, _Dense (activation layers merged in) or the layer itself."""
    from keras import layers

    # All are the identity at prediction time, so they change neither the network's shape
    # nor its predictions.
    inert = (
        layers.InputLayer,
        layers.Dropout,
        layers.GaussianDropout,
        layers.AlphaDropout,
        layers.GaussianNoise,
    )
    stages = []
    for layer in model.layers:
        if isinstance(layer, inert):
            continue
        if isinstance(layer, layers.Flatten):
            stages.append(_Flatten())
        elif isinstance(layer, layers.Dense):
            stages.append(_Dense(layer.units, _activation_name(layer.activation)))
        elif _is_activation_layer(layer) and stages and isinstance(stages[-1], _Dense):
            stages[-1] = stages[-1].then(_activation_name(layer))
        else:
            stages.append(layer)
    return stages


def _is_activation_layer(layer):
    from keras import layers

    return isinstance(
        layer,
        (layers.Activation, layers.ReLU, layers.Softmax, layers.LeakyReLU, layers.ELU, layers.PReLU),
    )


def _activation_name(activation):
    """A name for an activation given as a string, a function or an activation layer."""
    if isinstance(activation, str):
        return activation
    if _is_keras_layer(activation):
        from keras import layers

        if isinstance(activation, layers.Activation):
            return _activation_name(activation.activation)
        if isinstance(activation, layers.ReLU):
            modified = {
                "max_value": activation.max_value,
                "negative_slope": activation.negative_slope,
                "threshold": activation.threshold,
            }
            options = ", ".join(f"{key}={value}" for key, value in modified.items() if value)
            return f"relu({options})" if options else "relu"
        if isinstance(activation, layers.Softmax):
            return "softmax" if activation.axis == -1 else f"softmax(axis={activation.axis})"
        if isinstance(activation, layers.LeakyReLU):
            return "leaky_relu"
        return type(activation).__name__.lower()
    # Keras turns "relu" into keras.activations.relu, and tf.nn.relu keeps its own
    # function name, so the name identifies the activation however it was written.
    return getattr(activation, "__name__", type(activation).__name__)


def _require_built_keras_model(model, input_shape):
    """Raise TypeError for anything but a Keras model and ValueError for an unbuilt one."""
    if not _is_keras_model(model):
        hint = ""
        if isinstance(model, list):
            hint = "; to make a model from a list of layers, pass it to keras.Sequential(...)"
        raise TypeError(
            f"expected a Keras model, such as keras.Sequential([...]), got {_describe(model)}{hint}."
        )
    if not model.built:
        shape = "..." if input_shape is None else str(tuple(input_shape))
        batch_shape = "(None, ...)" if input_shape is None else str((None, *input_shape))
        raise ValueError(
            "your model is not built yet: it does not know its input shape, so it has no weights. "
            f"Start it with keras.Input(shape={shape}) as in the lesson, or call "
            f"model.build({batch_shape}), or train it with fit."
        )


def _input_shape(model):
    """The model's input shape without the batch axis; ValueError if that is not one shape."""
    try:
        inputs = model.inputs
    except AttributeError:
        # Only subclassed models lack `inputs` once built; their layer order is
        # attribute order, not the order of computation, so they cannot be checked.
        raise ValueError(
            "your model subclasses keras.Model, so its layers cannot be checked in order: build it "
            "with keras.Sequential([...]) or keras.Model(inputs, outputs), as in the lesson."
        ) from None
    if len(inputs) != 1:
        raise ValueError(f"your model has {len(inputs)} inputs; it should take one input, the images.")
    return tuple(inputs[0].shape[1:])


def _is_keras_model(value):
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


def _is_keras_layer(value):
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.layers.Layer)


def _whole_number_problem(label, value):
    if value is Ellipsis:
        return f"{label} is still `...`: replace it with your answer"
    # bool is an int subclass, but True is no count.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return f"{label} should be a whole number (int), got {_describe(value)}"
    return None


def _describe(value):
    """A short phrase for a received value, e.g. "float 42.0" or "str '42'"."""
    if value is Ellipsis:
        return "`...` (the placeholder to replace with your answer)"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:59] + "…"
    kind = type(value).__name__
    return text if value is None or text.startswith(kind) else f"{kind} {text}"


def _describe_hidden(hidden_units):
    hidden_units = list(hidden_units)
    if not hidden_units:
        return "no hidden layer"
    if len(set(hidden_units)) == 1:
        sizes = str(hidden_units[0])
    else:
        sizes = _join([str(units) for units in hidden_units])
    return f"{_plural(len(hidden_units), 'hidden layer')} of {sizes}"


def _plural(count, noun):
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _join(items):
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))
