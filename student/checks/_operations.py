"""A Keras model as the operations it computes at prediction time: its canonical form.

Layers written differently can compute the same function, so the checks compare this form,
never the layers as written:

- a ``Dense`` layer becomes :class:`_Dense`, its activation a name, however it was given
  ("relu", ``keras.activations.relu``, ``tf.nn.relu``; ``tf.nn.softmax``, whose function is
  named ``softmax_v2``, is "softmax");
- an activation after a ``Dense`` (an ``Activation``, ``ReLU`` or ``Softmax`` layer, or in a
  functional model ``keras.activations.relu(x)`` or ``keras.ops.softmax(x)``) becomes that
  Dense's activation; after a non-linear activation it composes with it ("relu, then
  softmax"), except that ``relu`` after ``relu`` is ``relu`` (it changes nothing);
- a run of reshapes (``Flatten``, ``Reshape``, ``keras.ops.reshape``) that keeps the batch
  axis and the order of the numbers is one :class:`_Reshape`: a ``Reshape((784,))`` or
  ``Reshape((-1,))`` is a Flatten, and a run that ends in its input's shape (a ``Flatten``
  of what is already a vector) is no operation at all;
- layers that are the identity at prediction time are dropped: ``InputLayer``, the
  ``Dropout`` layers and ``GaussianNoise`` (they act only while training),
  ``ActivityRegularization`` (it only adds a training loss), ``Identity``, and a linear
  activation (``Activation('linear')``, ``Activation(None)``);
- a model used as a layer is replaced by its own operations.

Anything else is kept as :class:`_Other`: a check that does not expect it says that it does
not belong. Not equivalent, so kept apart: ``Dense(use_bias=False)`` (no biases: another
function), ``BatchNormalization`` (an affine map learnt in training), an activation before
any Dense, and ``Flatten(data_format='channels_first')`` of an image (it reorders the pixels).
"""

import math
from dataclasses import dataclass, field

from student.checks._models import _is_keras_layer, _is_keras_model

# Functional models may apply activations as operations, not layers; their class names.
_ACTIVATION_OPERATIONS = {
    "Relu": "relu",
    "Relu6": "relu6",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "LogSoftmax": "log_softmax",
    "LeakyRelu": "leaky_relu",
    "Elu": "elu",
    "Selu": "selu",
    "Gelu": "gelu",
    "Silu": "silu",
    "Softplus": "softplus",
    "Softsign": "softsign",
    "HardSigmoid": "hard_sigmoid",
}
# f(f(x)) == f(x): applying one of these twice is applying it once.
_IDEMPOTENT = {"relu", "relu6"}


@dataclass(frozen=True)
class _Dense:
    units: int
    activation: str
    use_bias: bool = True

    def then(self, activation: str) -> "_Dense":
        if activation == "linear" or (activation == self.activation and activation in _IDEMPOTENT):
            return self
        if self.activation == "linear":
            return _Dense(self.units, activation, self.use_bias)
        return _Dense(self.units, f"{self.activation}, then {activation}", self.use_bias)

    def __str__(self):
        bias = "" if self.use_bias else ", use_bias=False"
        return f"Dense({self.units}, activation='{self.activation}'{bias})"


@dataclass(frozen=True)
class _Reshape:
    """Numbers kept in order, per image, from shape ``source`` to ``target`` (None: unknown)."""

    source: tuple | None
    target: tuple
    name: str = field(default="", compare=False)

    @property
    def flattens(self) -> bool:
        return len(self.target) == 1

    def __str__(self):
        return "Flatten" if self.flattens else f"Reshape to {self.target}"


@dataclass(frozen=True)
class _Other:
    """An operation with no canonical form here, e.g. a Conv2D layer."""

    name: str
    kind: str


def _operations(model, input_shape) -> list:
    """The canonical operations of a built Keras model whose images have ``input_shape``.

    Example:
    >>> import keras
    >>> from keras import layers
    >>> model = keras.Sequential([keras.Input(shape=(4, 4)), layers.Reshape((-1,)),
    ...     layers.Dense(8), layers.Dropout(0.5), layers.ReLU(), layers.Dense(3, activation="softmax")])
    >>> [str(operation) for operation in _operations(model, (4, 4))]
    ['Flatten', "Dense(8, activation='relu')", "Dense(3, activation='softmax')"]
    """
    operations = []
    shape = tuple(input_shape)
    for operation in _chain(model):
        shape = _add(operations, operation, shape)
    return operations


def _chain(model):
    """The model's layers and operations in order, a model used as a layer replaced by its own."""
    # A functional model lists operations that are not layers (keras.ops.relu(x)) only here.
    operations = getattr(model, "operations", None)
    for operation in model.layers if operations is None else operations:
        if _is_keras_model(operation):
            yield from _chain(operation)
        else:
            yield operation


def _add(operations: list, operation, shape):
    """Append ``operation``'s canonical form to ``operations``; return its output shape."""
    from keras import layers

    output_shape = _output_shape(operation, shape)
    inert = (
        layers.InputLayer,
        layers.Dropout,
        layers.SpatialDropout1D,
        layers.SpatialDropout2D,
        layers.SpatialDropout3D,
        layers.GaussianDropout,
        layers.AlphaDropout,
        layers.GaussianNoise,
        layers.ActivityRegularization,
        layers.Identity,
    )
    if isinstance(operation, inert):
        return shape
    if isinstance(operation, layers.Dense):
        dense = _Dense(operation.units, "linear", bool(operation.use_bias))
        operations.append(dense.then(_activation_name(operation.activation)))
        return output_shape
    activation = _activation_of(operation)
    if activation == "linear":
        return shape
    if activation is not None:
        if operations and isinstance(operations[-1], _Dense):
            operations[-1] = operations[-1].then(activation)
        else:
            operations.append(_Other(operation.name, type(operation).__name__))
        return output_shape
    target = _reshape_target(operation, shape, output_shape)
    if target is None:
        kind = type(operation).__name__
        if isinstance(operation, layers.Flatten):
            kind = "Flatten(data_format='channels_first'), which reorders the pixels"
        operations.append(_Other(operation.name, kind))
        return output_shape
    source = shape
    if operations and isinstance(operations[-1], _Reshape):
        source = operations.pop().source  # two reshapes in a row are one
    if source is None or source != target:
        operations.append(_Reshape(source, target, operation.name))
    return target


def _output_shape(operation, shape):
    """The operation's output shape per image, or None when it cannot be known."""
    if shape is not None and _is_keras_layer(operation):
        try:
            return tuple(operation.compute_output_shape((None, *shape))[1:])
        except Exception:  # noqa: BLE001 - e.g. a layer that cannot take this shape
            pass
    try:
        return tuple(operation.output.shape[1:])
    except Exception:  # noqa: BLE001 - e.g. an operation used in several places
        return None


def _reshape_target(operation, shape, output_shape):
    """The shape per image a pure reshape makes, or None if ``operation`` is no pure reshape."""
    from keras import layers

    if isinstance(operation, layers.Flatten):
        reorders = operation.data_format == "channels_first" and (shape is None or len(shape) > 1)
        if reorders:
            return None
        return output_shape if output_shape is not None else (None,)
    is_reshape_operation = (
        type(operation).__name__ == "Reshape"
        and type(operation).__module__.startswith("keras.")
        and tuple(getattr(operation, "newshape", (None,)))[:1] in ((-1,), (None,))
    )
    if not (isinstance(operation, layers.Reshape) or is_reshape_operation):
        return None
    if output_shape is None:
        return None
    if shape is not None and None not in shape + output_shape and math.prod(shape) != math.prod(output_shape):
        return None  # the batch axis changed size: images were split or merged
    return output_shape


def _activation_of(operation):
    """The activation an activation layer or operation applies, or None for anything else."""
    from keras import layers

    if isinstance(
        operation,
        (layers.Activation, layers.ReLU, layers.Softmax, layers.LeakyReLU, layers.ELU, layers.PReLU),
    ):
        return _activation_name(operation)
    if _is_keras_layer(operation) or not type(operation).__module__.startswith("keras."):
        return None
    kind = type(operation).__name__
    if kind in ("ReLU", "Softmax"):  # keras.activations.relu(x, ...) and softmax(x, axis)
        return _activation_name(operation)
    return _ACTIVATION_OPERATIONS.get(kind)


def _activation_name(activation):
    """A name for an activation given as a string, a function, or a layer or operation.

    Example:
    >>> import keras
    >>> [_activation_name(a) for a in ("relu", keras.activations.relu, None, keras.layers.ReLU(6.0))]
    ['relu', 'relu', 'linear', 'relu(max_value=6.0)']
    """
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation
    from keras import layers

    if isinstance(activation, layers.Activation):
        return _activation_name(activation.activation)
    kind = type(activation).__name__
    if kind in ("ReLU", "Softmax") or isinstance(activation, (layers.ReLU, layers.Softmax)):
        if kind == "Softmax" or isinstance(activation, layers.Softmax):
            axis = getattr(activation, "axis", -1)
            return "softmax" if axis in (-1, [-1], (-1,)) else f"softmax(axis={axis})"
        modified = {
            "max_value": activation.max_value,
            "negative_slope": activation.negative_slope,
            "threshold": activation.threshold,
        }
        options = ", ".join(f"{key}={value}" for key, value in modified.items() if value)
        return f"relu({options})" if options else "relu"
    if isinstance(activation, layers.LeakyReLU):
        return "leaky_relu"
    if _is_keras_layer(activation):
        return kind.lower()
    # Keras turns "relu" into keras.activations.relu, and tf.nn.relu keeps its own function
    # name, so the name identifies the activation however it was written; TensorFlow names
    # its current softmax "softmax_v2".
    name = getattr(activation, "__name__", kind)
    name = name.removesuffix("_v2")
    return "linear" if name == "identity" else name
