"""Private helpers that recognise and question Keras models without importing Keras.

A Keras model can only exist once its owner has imported ``keras``, so looking it up in
``sys.modules`` answers "is this a model?" without paying that import.
"""

import sys

from student.checks._describe import _describe


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
