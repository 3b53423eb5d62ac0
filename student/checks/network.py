"""Checking the layers of a dense (fully connected) Keras network."""

from student.checks._describe import _join, _plural
from student.checks._models import _input_shape, _require_built_keras_model
from student.checks._operations import _activation_name, _Dense, _operations, _Other, _Reshape
from student.checks.verdict import Verdict


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

    The model is compared by the function it computes at prediction time, not by how its
    layers are written (``student.checks._operations`` lists every equivalence): an
    activation may be given to Dense or as a following activation layer or operation, as a
    name or a function; a ``Reshape`` to a vector is a Flatten; layers that are the identity
    at prediction time (Dropout, ``Activation('linear')``, ``Identity``) are ignored. Dropout
    does change training, and so the trained model: that is graded by its accuracy.

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

    stages = _operations(model, model_input_shape)
    unexpected = [stage for stage in stages if not isinstance(stage, _Dense) and not _is_flatten(stage)]
    if unexpected:
        layer = unexpected[0]
        kind = layer.kind if isinstance(layer, _Other) else str(layer)
        return Verdict(
            False,
            f"layer '{layer.name}' ({kind}) does not belong in this network, "
            f"which is {expected_text} (Dropout may be added).",
        )

    if not stages:
        return Verdict(False, f"your model has no layers after its input; expected {expected_text}.")
    flatten_count = sum(_is_flatten(stage) for stage in stages)
    if not _is_flatten(stages[0]):
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


def _is_flatten(operation):
    return isinstance(operation, _Reshape) and operation.flattens


def _describe_hidden(hidden_units):
    hidden_units = list(hidden_units)
    if not hidden_units:
        return "no hidden layer"
    if len(set(hidden_units)) == 1:
        sizes = str(hidden_units[0])
    else:
        sizes = _join([str(units) for units in hidden_units])
    return f"{_plural(len(hidden_units), 'hidden layer')} of {sizes}"
