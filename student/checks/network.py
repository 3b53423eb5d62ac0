"""Checking the layers of a dense (fully connected) Keras network."""

from dataclasses import dataclass

from student.checks._describe import _join, _plural
from student.checks._models import _input_shape, _is_keras_layer, _require_built_keras_model
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


def _describe_hidden(hidden_units):
    hidden_units = list(hidden_units)
    if not hidden_units:
        return "no hidden layer"
    if len(set(hidden_units)) == 1:
        sizes = str(hidden_units[0])
    else:
        sizes = _join([str(units) for units in hidden_units])
    return f"{_plural(len(hidden_units), 'hidden layer')} of {sizes}"
