"""Tests of student.checks on real (small, untrained) Keras models and a fitted MLPClassifier."""

import os
import subprocess
import sys
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from student.checks import (
    ParameterCount,
    Verdict,
    check_accuracy,
    check_choice_set,
    check_defined,
    check_dense_network,
    check_nonnegative_integers,
    check_parameter_counts,
    count_parameters,
    evaluate_accuracy,
)

REPO = Path(__file__).resolve().parents[1]
MLP_16X16 = ParameterCount(weights=12960, biases=42)
CNN = ParameterCount(weights=34720, biases=106)
CHOICES = ["relu", "sigmoid", "softmax", "tanh"]


def images_model(*body, input_shape=(28, 28, 1)):
    return keras.Sequential([keras.Input(shape=input_shape), *body])


def mlp(*body):
    return images_model(layers.Flatten(), *body)


def relu(units):
    return layers.Dense(units, activation="relu")


def softmax():
    return layers.Dense(10, activation="softmax")


def mlp_16x16():
    return mlp(relu(16), relu(16), softmax())


def functional_mlp_16x16():
    inputs = keras.Input(shape=(28, 28, 1))
    hidden = relu(16)(layers.Flatten()(inputs))
    hidden = relu(16)(hidden)
    return keras.Model(inputs, softmax()(hidden))


def functional_model(body):
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, body(inputs))


def functional_with_operations():
    """Flatten as keras.ops.reshape, activations as operations on tensors, not layers."""
    inputs = keras.Input(shape=(28, 28, 1))
    hidden = keras.ops.reshape(inputs, (-1, 28 * 28))
    hidden = keras.activations.relu(layers.Dense(16)(hidden))
    hidden = keras.ops.relu(layers.Dense(16)(hidden))
    return keras.Model(inputs, keras.ops.softmax(layers.Dense(10)(hidden)))


def flatten_with_input_shape():
    # Keras 3 warns about input_shape= on a layer but still builds the Sequential model.
    with pytest.warns(UserWarning, match="input_shape"):
        return keras.Sequential(
            [
                layers.Flatten(input_shape=(28, 28, 1)),
                relu(16),
                relu(16),
                softmax(),
            ]
        )


def built_later():
    model = keras.Sequential(
        [layers.Flatten(), relu(16), relu(16), softmax()]
    )
    model.build((None, 28, 28, 1))
    return model


def lesson_cnn():
    return images_model(
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dropout(0.2),
        softmax(),
    )


class SubclassedMLP(keras.Model):
    def __init__(self):
        super().__init__()
        self.flatten = layers.Flatten()
        self.hidden = relu(16)
        self.output_layer = softmax()

    def call(self, x):
        return self.output_layer(self.hidden(self.flatten(x)))


@pytest.fixture(scope="module")
def fitted_mlp_classifier():
    rng = np.random.default_rng(0)
    classifier = MLPClassifier(hidden_layer_sizes=(16, 16), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(rng.random((40, 784)), np.arange(40) % 10)
    return classifier


@pytest.fixture(scope="module")
def always_three():
    """A classifier whose scores ignore the image and always favour class 3."""
    model = mlp(softmax())
    kernel, bias = model.layers[-1].get_weights()
    bias[3] = 1.0
    model.layers[-1].set_weights([np.zeros_like(kernel), bias])
    return model


@pytest.fixture(scope="module")
def scored_data():
    """2500 images (three batches), 2249 labelled 3: always_three's accuracy is 0.8996."""
    rng = np.random.default_rng(1)
    x = rng.random((2500, 28, 28, 1), dtype=np.float32)
    y = np.where(rng.permutation(2500) < 2249, 3, 7)
    return x, y


# --- Verdict and ParameterCount ---------------------------------------------------------


def test_verdict_is_truthy_when_passed_and_prints_its_message():
    assert bool(Verdict(True, "fine")) and not bool(Verdict(False, "no"))
    assert str(Verdict(False, "`x` is wrong")) == "`x` is wrong"


def test_parameter_count_total():
    assert MLP_16X16.total == 13002
    assert ParameterCount(3, 4) == (3, 4)


# --- check_dense_network ----------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(mlp_16x16, id="input-then-flatten"),
        pytest.param(flatten_with_input_shape, id="flatten-input_shape"),
        pytest.param(built_later, id="model.build"),
        pytest.param(functional_mlp_16x16, id="functional"),
        pytest.param(
            lambda: mlp(
                layers.Dense(16, activation=keras.activations.relu),
                layers.Dense(16, activation=keras.activations.relu),
                layers.Dense(10, activation=keras.activations.softmax),
            ),
            id="activation-functions",
        ),
        pytest.param(
            lambda: mlp(
                layers.Dense(16),
                layers.Activation("relu"),
                layers.Dense(16),
                layers.Activation(keras.activations.relu),
                layers.Dense(10),
                layers.Activation("softmax"),
            ),
            id="activation-layers",
        ),
        pytest.param(
            lambda: mlp(
                layers.Dense(16),
                layers.ReLU(),
                layers.Dense(16),
                layers.ReLU(),
                layers.Dense(10),
                layers.Softmax(),
            ),
            id="relu-softmax-layers",
        ),
        pytest.param(
            lambda: mlp(
                relu(16),
                layers.Dropout(0.2),
                relu(16),
                layers.Dropout(0.2),
                softmax(),
            ),
            id="dropout",
        ),
        pytest.param(
            lambda: images_model(layers.Reshape((784,)), relu(16), relu(16), softmax()),
            id="reshape-784-is-flatten",
        ),
        pytest.param(
            lambda: images_model(layers.Reshape((-1,)), relu(16), relu(16), softmax()),
            id="reshape-minus-1-is-flatten",
        ),
        pytest.param(
            lambda: images_model(
                layers.Reshape((28, 28)), layers.Flatten(), relu(16), relu(16), softmax()
            ),
            id="reshape-then-flatten",
        ),
        pytest.param(
            lambda: mlp(layers.Flatten(), relu(16), layers.Flatten(), relu(16), softmax()),
            id="flatten-of-a-vector",
        ),
        pytest.param(functional_with_operations, id="functional-ops"),
        pytest.param(
            lambda: mlp(
                layers.Dense(16, activation=tf.nn.relu),
                layers.Dense(16, activation=layers.ReLU()),
                layers.Dense(10, activation=tf.nn.softmax),
            ),
            id="tf.nn-and-layer-activations",
        ),
        pytest.param(
            lambda: mlp(
                relu(16),
                layers.Activation("linear"),
                layers.Activation(None),
                relu(16),
                layers.Identity(),
                layers.GaussianNoise(0.1),
                layers.ActivityRegularization(l1=0.01),
                layers.Dense(10, activation="linear"),
                layers.Softmax(),
            ),
            id="identity-layers",
        ),
        pytest.param(
            lambda: mlp(relu(16), layers.ReLU(), relu(16), layers.Activation("relu"), softmax()),
            id="relu-twice-is-relu",
        ),
        pytest.param(
            lambda: images_model(
                keras.Sequential([layers.Flatten(), relu(16)]),
                keras.Sequential([relu(16), softmax()]),
            ),
            id="nested-models",
        ),
    ],
)
def test_dense_network_accepts(build):
    verdict = check_dense_network(build(), (16, 16))
    assert verdict.passed, verdict.message
    assert verdict.message == (
        "your model matches Flatten → Dense(16, relu) → Dense(16, relu) → Dense(10, softmax)."
    )


def test_dense_network_follows_its_arguments():
    model = images_model(
        layers.Flatten(),
        layers.Dense(32, activation="tanh"),
        layers.Dense(5, activation="sigmoid"),
        input_shape=(8, 8),
    )
    verdict = check_dense_network(
        model,
        [32],
        hidden_activation="tanh",
        output_units=5,
        output_activation="sigmoid",
        input_shape=(8, 8),
    )
    assert verdict.passed, verdict.message
    assert not check_dense_network(model, (32,), input_shape=(8, 8)).passed


@pytest.mark.parametrize(
    "build, phrases",
    [
        pytest.param(
            lambda: mlp(layers.Dense(16, activation="sigmoid"), relu(16), softmax()),
            ["layer 1: expected Dense(16, activation='relu'), got Dense(16, activation='sigmoid')"],
            id="sigmoid",
        ),
        pytest.param(
            lambda: mlp(relu(16), layers.Dense(32, activation="relu"), softmax()),
            ["layer 2: expected Dense(16, activation='relu'), got Dense(32, activation='relu')"],
            id="32-units",
        ),
        pytest.param(
            lambda: mlp(relu(16), relu(16), layers.Dense(10)),
            ["layer 3: expected Dense(10, activation='softmax'), got Dense(10, activation='linear')"],
            id="no-softmax",
        ),
        pytest.param(
            lambda: mlp(layers.Dense(16), layers.LeakyReLU(), relu(16), softmax()),
            ["layer 1", "leaky_relu"],
            id="leaky-relu-layer",
        ),
        pytest.param(
            lambda: mlp(
                relu(16),
                relu(16),
                relu(16),
                softmax(),
            ),
            [
                "your model has 4 Dense layers, expected 3 after a Flatten "
                "(2 hidden layers of 16 and an output layer of 10)"
            ],
            id="third-hidden-layer",
        ),
        pytest.param(
            lambda: mlp(relu(16), softmax()),
            ["your model has 2 Dense layers, expected 3"],
            id="missing-hidden-layer",
        ),
        pytest.param(
            lambda: images_model(relu(16), relu(16), softmax()),
            ["no Flatten", "last axis only", "(28, 28, 10)", "layers.Flatten()"],
            id="missing-flatten",
        ),
        pytest.param(
            lambda: images_model(relu(16), layers.Flatten(), relu(16), softmax()),
            ["Flatten comes after a Dense layer", "layers.Flatten() first"],
            id="late-flatten",
        ),
        pytest.param(
            lambda: keras.Sequential([layers.Flatten(), relu(16), relu(16), softmax()]),
            ["not built", "keras.Input(shape=(28, 28, 1))", "model.build((None, 28, 28, 1))", "fit"],
            id="unbuilt",
        ),
        pytest.param(lesson_cnn, ["'conv2d", "(Conv2D) does not belong"], id="conv2d"),
        pytest.param(
            lambda: images_model(
                layers.Flatten(), relu(16), relu(16), softmax(), input_shape=(28, 28)
            ),
            ["inputs of shape (28, 28)", "keras.Input(shape=(28, 28, 1))"],
            id="input-28x28",
        ),
        pytest.param(
            lambda: mlp(relu(16), layers.BatchNormalization(), relu(16), softmax()),
            ["(BatchNormalization) does not belong"],
            id="batch-normalization",
        ),
        pytest.param(
            lambda: mlp(relu(16), relu(16), softmax(), layers.Softmax()),
            ["layer 3", "activation='softmax, then softmax'"],
            id="softmax-twice",
        ),
        pytest.param(
            lambda: mlp(relu(16), layers.Activation("sigmoid"), relu(16), softmax()),
            ["layer 1", "activation='relu, then sigmoid'"],
            id="relu-then-sigmoid",
        ),
        pytest.param(
            lambda: mlp(layers.Dense(16, activation="relu", use_bias=False), relu(16), softmax()),
            ["layer 1: expected Dense(16, activation='relu'), got Dense(16, activation='relu', use_bias=False)"],
            id="no-bias",
        ),
        pytest.param(
            lambda: images_model(layers.Reshape((1, 784)), relu(16), relu(16), softmax()),
            ["layer 'reshape", "(Reshape to (1, 784)) does not belong"],
            id="reshape-not-to-a-vector",
        ),
        pytest.param(
            lambda: mlp(layers.ReLU(), relu(16), relu(16), softmax()),
            ["(ReLU) does not belong"],
            id="activation-before-any-dense",
        ),
        pytest.param(
            lambda: images_model(
                layers.Flatten(data_format="channels_first"), relu(16), relu(16), softmax()
            ),
            ["(Flatten(data_format='channels_first'), which reorders the pixels) does not belong"],
            id="flatten-channels-first-reorders",
        ),
        pytest.param(
            lambda: functional_model(
                lambda inputs: softmax()(relu(16)(relu(16)(keras.ops.reshape(inputs, (-1, 392)))))
            ),
            ["(Reshape) does not belong"],
            id="reshape-that-splits-images",
        ),
        pytest.param(
            lambda: mlp(layers.Lambda(lambda x: x * 2), relu(16), relu(16), softmax()),
            ["(Lambda) does not belong"],
            id="lambda",
        ),
    ],
)
def test_dense_network_refuses(build, phrases):
    verdict = check_dense_network(build(), (16, 16))
    assert not verdict.passed
    for phrase in phrases:
        assert phrase in verdict.message


def test_dense_network_reports_every_wrong_layer():
    model = mlp(layers.Dense(8, activation="relu"), layers.Dense(16, activation="tanh"), softmax())
    message = check_dense_network(model, (16, 16)).message
    assert "layer 1: expected Dense(16, activation='relu'), got Dense(8, " in message
    assert "layer 2: expected Dense(16, activation='relu'), got Dense(16, activation='tanh')" in (
        message
    )
    assert "layer 3" not in message


def test_dense_network_refuses_a_subclassed_model():
    model = SubclassedMLP()
    model(np.zeros((1, 28, 28, 1), dtype=np.float32))
    verdict = check_dense_network(model, (16,))
    assert not verdict.passed
    assert "keras.Sequential" in verdict.message


@pytest.mark.parametrize(
    "value, phrases",
    [
        (..., ["expected a Keras model", "`...`"]),
        (None, ["expected a Keras model", "got None"]),
        ([layers.Dense(10)], ["got list", "keras.Sequential(...)"]),
        ("model", ["got str 'model'"]),
    ],
)
def test_dense_network_refuses_non_models(value, phrases):
    verdict = check_dense_network(value, (16, 16))
    assert not verdict.passed
    for phrase in phrases:
        assert phrase in verdict.message


def test_dense_network_refuses_an_sklearn_model(fitted_mlp_classifier):
    verdict = check_dense_network(fitted_mlp_classifier, (16, 16))
    assert not verdict.passed
    assert "expected a Keras model" in verdict.message and "MLPClassifier" in verdict.message


# --- count_parameters and check_parameter_counts ----------------------------------------


def test_count_parameters_of_keras_mlp():
    model = mlp_16x16()
    assert count_parameters(model) == MLP_16X16
    assert count_parameters(model).total == model.count_params() == 13002


def test_count_parameters_of_lesson_cnn():
    assert count_parameters(lesson_cnn()) == CNN


def test_count_parameters_counts_non_trainable_variables_as_weights():
    model = images_model(layers.Dense(3), layers.BatchNormalization(), input_shape=(4,))
    # Dense: 4×3 kernel and 3 biases; BatchNormalization: gamma, beta, mean and variance of 3.
    assert count_parameters(model) == ParameterCount(12 + 12, 3)
    assert count_parameters(model).total == model.count_params()


def test_count_parameters_of_fitted_mlp_classifier(fitted_mlp_classifier):
    assert count_parameters(fitted_mlp_classifier) == MLP_16X16


def test_count_parameters_refuses_unfitted_or_unbuilt_models():
    with pytest.raises(ValueError, match=r"not fitted.*\.fit\("):
        count_parameters(MLPClassifier(hidden_layer_sizes=(16, 16)))
    with pytest.raises(ValueError, match=r"not built.*model\.build"):
        count_parameters(keras.Sequential([layers.Dense(10)]))
    with pytest.raises(TypeError, match="got `...`"):
        count_parameters(...)


def test_parameter_counts_right():
    verdict = check_parameter_counts(12960, np.int64(42), expected=MLP_16X16)
    assert verdict.passed
    assert verdict.message.startswith("both counts are right")


def test_parameter_counts_wrong():
    verdict = check_parameter_counts(12970, 42, expected=MLP_16X16)
    assert not verdict.passed
    assert verdict.message == "weights: expected 12960, got 12970; biases: correct (42)"
    assert not check_parameter_counts(12960, 52, expected=MLP_16X16).passed


WHOLE_12960 = [
    pytest.param(12960, id="int"),
    pytest.param(np.int64(12960), id="int64"),
    pytest.param(np.uint32(12960), id="uint32"),
    pytest.param(12960.0, id="float"),
    pytest.param(129600 / 10, id="float-from-division"),
    pytest.param(np.float64(12960), id="float64"),
    pytest.param(np.float32(12960), id="float32"),
    pytest.param(np.array(12960), id="0-d-int-array"),
    pytest.param(np.array(12960.0, dtype=np.float32), id="0-d-float32-array"),
    pytest.param(np.sum([784 * 16, 16 * 16, 16 * 10]), id="numpy-sum"),
    pytest.param(Fraction(25920, 2), id="Fraction"),
    pytest.param(Decimal("12960.000"), id="Decimal"),
]


@pytest.mark.parametrize("weights", WHOLE_12960)
def test_parameter_counts_accept_any_number_holding_the_whole_value(weights):
    verdict = check_parameter_counts(weights, 42.0, expected=MLP_16X16)
    assert verdict.passed, verdict.message
    assert verdict.message == "both counts are right (12960 weights, 42 biases)."


def test_parameter_counts_judge_a_whole_float_by_its_value():
    verdict = check_parameter_counts(12970.0, np.float32(42), expected=MLP_16X16)
    assert not verdict.passed
    assert verdict.message == "weights: expected 12960, got 12970; biases: correct (42)"


NOT_WHOLE = [
    pytest.param(12960.5, ["got float 12960.5, which is not whole"], id="half"),
    pytest.param(0.1 * 3 * 43200, ["got float 12960.000000000002, which is not whole"], id="rounding"),
    pytest.param(np.float32(12960.5), ["got float32 12960.5, which is not whole"], id="float32-half"),
    pytest.param(Fraction(25921, 2), ["got Fraction 25921/2, which is not whole"], id="Fraction"),
    pytest.param(Decimal("12960.5"), ["got Decimal 12960.5, which is not whole"], id="Decimal"),
    pytest.param(float("nan"), ["got float nan: NaN (not a number)"], id="nan"),
    pytest.param(np.float32("nan"), ["got float32 nan: NaN"], id="float32-nan"),
    pytest.param(float("inf"), ["got float inf: an infinity"], id="inf"),
    pytest.param(Decimal("-Infinity"), ["got Decimal -Infinity: an infinity"], id="Decimal-inf"),
    pytest.param(True, ["got bool True: True and False are not counts"], id="bool"),
    pytest.param(np.bool_(True), ["got bool True: True and False are not counts"], id="numpy-bool"),
    pytest.param("12960", ["got str '12960': write the number without quotes"], id="str"),
    pytest.param(12960 + 0j, ["got complex (12960+0j): a complex number"], id="complex"),
    pytest.param(np.array([12960]), ["got NumPy array([12960]): a count is one number"], id="array"),
    pytest.param([12960], ["got list [12960]: a count is one number"], id="list"),
    pytest.param(None, ["got None"], id="None"),
    pytest.param(..., ["is still `...`: replace it with your answer"], id="ellipsis"),
]


@pytest.mark.parametrize("weights, phrases", NOT_WHOLE)
def test_parameter_counts_refuse_what_is_not_a_whole_number(weights, phrases):
    verdict = check_parameter_counts(weights, 42, expected=MLP_16X16)
    assert not verdict.passed
    assert verdict.message.startswith("weights ")
    if weights is not ...:
        assert "weights should be a whole number, such as 3, got " in verdict.message
    for phrase in phrases:
        assert phrase in verdict.message
    assert "biases" not in verdict.message  # the right one is not reported as a problem


@pytest.mark.parametrize("value", WHOLE_12960)
def test_nonnegative_integers_accept_any_number_holding_a_whole_value(value):
    verdict = check_nonnegative_integers(count=value)
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("value, phrases", NOT_WHOLE)
def test_nonnegative_integers_refuse_what_is_not_a_whole_number(value, phrases):
    verdict = check_nonnegative_integers(weights=value)
    assert not verdict.passed
    for phrase in phrases:
        assert phrase in verdict.message


def test_nonnegative_integers_pass_without_judging_values():
    verdict = check_nonnegative_integers(mlp_16x16_weights=1, mlp_16x16_biases=np.int32(0))
    assert verdict.passed
    assert verdict.message == (
        "`mlp_16x16_weights` and `mlp_16x16_biases` are whole numbers; "
        "the autograder checks their values after the deadline."
    )


@pytest.mark.parametrize(
    "value, message",
    [
        (42.5, "`mlp_16x16_biases` should be a whole number, such as 3, got float 42.5, which is not whole"),
        (
            False,
            "`mlp_16x16_biases` should be a whole number, such as 3, got bool False: "
            "True and False are not counts",
        ),
        (..., "`mlp_16x16_biases` is still `...`: replace it with your answer"),
        (-42, "`mlp_16x16_biases` should be 0 or more, got -42"),
        (-42.0, "`mlp_16x16_biases` should be 0 or more, got -42"),
    ],
)
def test_nonnegative_integers_refuse(value, message):
    verdict = check_nonnegative_integers(mlp_16x16_weights=12960, mlp_16x16_biases=value)
    assert not verdict.passed
    assert verdict.message == message


# --- evaluate_accuracy and check_accuracy ------------------------------------------------


def test_accuracy_is_counted_over_all_batches(always_three, scored_data):
    x, y = scored_data
    assert evaluate_accuracy(always_three, x, y) == 2249 / 2500
    assert evaluate_accuracy(always_three, x.astype(np.float64), list(y)) == 2249 / 2500


def test_one_hot_and_integer_labels_agree():
    rng = np.random.default_rng(2)
    x = rng.random((64, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, size=64)
    model = mlp_16x16()
    accuracy = evaluate_accuracy(model, x, y)
    assert 0.0 <= accuracy <= 1.0
    assert evaluate_accuracy(model, x, np.eye(10)[y]) == accuracy


def test_uint8_pixels_are_scaled_like_the_lesson_scales_them():
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(2500, 28, 28, 1), dtype=np.uint8)
    y = rng.integers(0, 10, size=2500)
    model = mlp_16x16()
    assert evaluate_accuracy(model, pixels, y) == evaluate_accuracy(model, pixels.astype("float32") / 255, y)


@pytest.mark.parametrize(
    "transform, pattern",
    [
        (lambda x, y: ((x * 255).astype(np.int64), y), r"int64.*float32.*or uint8"),
        (
            lambda x, y: (x[..., 0], y),
            r"shape \(20, 28, 28\).*\(N, 28, 28, 1\) float32 scaled to \[0, 1\]",
        ),
        (lambda x, y: (x * 255, y), r"range from .* to .*scale them to \[0, 1\]"),
        (lambda x, y: (x, y[:10]), r"20 images but 10 labels"),
        (lambda x, y: (x, np.eye(5)[y % 5]), r"labels have shape \(20, 5\)"),
        (lambda x, y: (x[:0], y[:0]), r"no images"),
    ],
)
def test_accuracy_refuses_bad_data(always_three, scored_data, transform, pattern):
    x, y = transform(*(array[:20] for array in scored_data))
    with pytest.raises(ValueError, match=pattern):
        evaluate_accuracy(always_three, x, y)


def test_accuracy_refuses_models_without_class_scores(scored_data):
    x, y = (array[:20] for array in scored_data)
    with pytest.raises(ValueError, match=r"\('N', 28, 28, 10\).*one score per class"):
        evaluate_accuracy(images_model(softmax()), x, y)


def test_check_accuracy_passes_and_fails_on_threshold(always_three, scored_data):
    x, y = scored_data
    passed = check_accuracy(always_three, x, y, threshold=0.85)
    assert passed.passed and passed.message == "test accuracy 0.900 ≥ 0.850"
    near_miss = check_accuracy(always_three, x, y, threshold=0.9)
    assert not near_miss.passed
    assert near_miss.message == (
        "test accuracy 0.8996 on 2,500 test images is below 0.9000; "
        "the model predicts class 3 for 100% of them."
    )


def test_check_accuracy_states_measurements_not_guesses(always_three, scored_data):
    x, y = scored_data
    y = np.arange(len(y)) % 10  # always_three is now right for 1 image in 10
    verdict = check_accuracy(always_three, x, y, threshold=0.9)
    assert not verdict.passed
    assert verdict.message == (
        "test accuracy 0.100 on 2,500 test images is below 0.900, about chance (0.100 for 10 "
        "classes); the model predicts class 3 for 100% of them."
    )
    assert "trained" not in verdict.message and "?" not in verdict.message


def test_check_accuracy_counts_images_whose_scores_are_not_numbers(scored_data):
    x, y = (array[:20] for array in scored_data)
    model = mlp(softmax())
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([np.full_like(kernel, np.nan), bias])
    verdict = check_accuracy(model, x, y, threshold=0.9)
    assert not verdict.passed
    assert "its scores are NaN or infinite for 20 of the 20 images" in verdict.message
    assert "predicts class" not in verdict.message  # argmax of NaN scores predicts nothing


def test_check_accuracy_of_a_model_that_spreads_its_predictions(scored_data):
    x, y = (array[:200] for array in scored_data)
    model = mlp(softmax())
    verdict = check_accuracy(model, x, y, threshold=0.99)
    assert not verdict.passed
    predictions = np.asarray(model(x, training=False)).argmax(axis=1)
    top_share = np.bincount(predictions).max() / len(x)
    assert ("predicts class" in verdict.message) == (top_share >= 0.5)


@pytest.mark.parametrize(
    "model, phrase",
    [
        (..., "expected a Keras model"),
        (keras.Sequential([layers.Flatten(), layers.Dense(10)]), "keras.Input(shape=(28, 28, 1))"),
    ],
    ids=["ellipsis", "unbuilt"],
)
def test_check_accuracy_refuses_without_raising(scored_data, model, phrase):
    x, y = (array[:20] for array in scored_data)
    verdict = check_accuracy(model, x, y, threshold=0.9)
    assert not verdict.passed
    assert phrase in verdict.message


# --- check_choice_set -------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", [{"relu", "tanh"}, frozenset({"relu"}), ["relu", "relu", "tanh"], ("softmax",), set()]
)
def test_choice_set_accepts_valid_forms(answer):
    verdict = check_choice_set(answer, choices=CHOICES)
    assert verdict.passed, verdict.message


@pytest.mark.parametrize(
    "answer, phrases",
    [
        ({"relu", "Tanh", "elu"}, ["'Tanh' and 'elu' are not in the list of choices", "'sigmoid'"]),
        ("relu", ["got the string 'relu'", "{'relu'}"]),
        (..., ["still `...`"]),
        ({"relu": 1}, ["should be a set of strings", "dict"]),
        (["relu", 1], ["should be a string", "int 1"]),
    ],
)
def test_choice_set_refuses(answer, phrases):
    verdict = check_choice_set(answer, choices=CHOICES)
    assert not verdict.passed
    for phrase in phrases:
        assert phrase in verdict.message


def test_choice_set_compares_with_expected_without_revealing_it():
    expected = {"relu", "softmax"}
    assert check_choice_set(["softmax", "relu", "relu"], choices=CHOICES, expected=expected).passed
    verdict = check_choice_set({"relu", "sigmoid", "tanh"}, choices=CHOICES, expected=expected)
    assert not verdict.passed
    assert verdict.message == "1 correct choice is missing and 2 of your choices do not belong."
    assert "softmax" not in verdict.message
    one_extra = check_choice_set({"relu", "softmax", "tanh"}, choices=CHOICES, expected=expected)
    assert one_extra.message == "1 of your choices does not belong."


def test_choice_set_rejects_expected_outside_choices():
    with pytest.raises(ValueError, match="gelu"):
        check_choice_set({"relu"}, choices=CHOICES, expected={"gelu"})


# --- check_defined ----------------------------------------------------------------------


def test_defined_passes():
    verdict = check_defined({"mlp_keras": object(), "answer": None}, "mlp_keras", "answer")
    assert verdict.passed
    assert verdict.message == "`mlp_keras` and `answer` are defined."


def test_undefined_name_explains_the_skipped_cells():
    verdict = check_defined({}, "mlp_keras")
    assert not verdict.passed
    assert verdict.message == (
        "`mlp_keras` is not defined. Assign it in the answer cell for this question; the autograder "
        "skips the lesson's demonstration cells (marked 'skipped when grading'), so answers placed "
        "there are lost."
    )


def test_several_undefined_names_share_one_explanation():
    verdict = check_defined({"b": 1}, "a", "b", "c")
    assert not verdict.passed
    assert verdict.message.startswith("`a` and `c` are not defined. Assign them in the answer cell")
    assert verdict.message.count("skipped when grading") == 1


def test_placeholder_counts_as_unanswered():
    verdict = check_defined({"cnn_weights": ..., "cnn_biases": 106}, "cnn_biases", "cnn_weights")
    assert not verdict.passed
    assert verdict.message == "`cnn_weights` is still `...`: replace it with your answer."


# --- the module itself ------------------------------------------------------------------


def test_import_does_not_load_keras_or_sklearn():
    code = (
        "import sys, student.checks; "
        "print(sorted({'keras', 'tensorflow', 'sklearn'} & set(sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
