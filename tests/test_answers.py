"""Answers cross from the student's kernel to the trusted side as data: codec, export, load, serve."""

import json
import math
import os
import pickle
import subprocess
import sys
import textwrap
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.answers import codec
from harness.answers.codec import BadData, Limits, NotData, decode, encode, from_json, to_json
from harness.answers.export import ANSWERS_FILE, CALLABLES_FILE, export_answers, model_file
from harness.answers.load import AnswersError, load_answers

REPO = Path(__file__).resolve().parents[1]


def same(a, b) -> bool:
    """Equal with exactly the same types all the way down (so 1 is not True, (1,) is not [1])."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# Codec: round trips


@pytest.mark.parametrize(
    "value",
    [
        None, True, False, 0, -5, 2**63 - 1, 2**63, -(2**80) - 3, 1.5, -0.0, math.nan, math.inf, -math.inf,
        1 + 2j, complex(math.inf, math.nan), "", "héllo ✓\n", ..., [], [1, [2, [3, ...]]], (), (1, "a"),
        {1, 2.5, "x"}, set(), frozenset({(1, 2), "t"}), {"a": [1, {"b": (..., None)}], "": {}},
        [True, 1, 1.0, "1"], Fraction(12, 1), Fraction(-7, 2**70), Decimal("12960"), Decimal("-0.250"),
        Decimal("-Infinity"),
    ],
    ids=repr,
)
def test_values_round_trip_with_their_exact_types(value):
    assert same(from_json(to_json(value)), value)


def test_bool_stays_bool_and_int_stays_int():
    decoded = from_json(to_json((True, 1, [False, 0], {"b": True})))
    assert [type(x) for x in (decoded[0], decoded[1], *decoded[2], decoded[3]["b"])] == [bool, int, bool, int, bool]


@pytest.mark.parametrize(
    "array",
    [
        np.array([True, False]),
        np.arange(-3, 3, dtype=np.int8),
        np.arange(6, dtype=np.uint16).reshape(2, 3),
        np.arange(12, dtype=">i4").reshape(3, 4),
        np.array([[0.5, np.nan], [np.inf, -0.0]], dtype=np.float32),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.array([1 + 2j, 3j], dtype=np.complex128),
        np.array(["a", "héllo", ""]),
        np.array(7.0),
        np.zeros((0, 3)),
    ],
    ids=lambda a: f"{a.dtype.str}{a.shape}",
)
def test_arrays_round_trip(array):
    decoded = from_json(to_json(array))
    assert type(decoded) is np.ndarray and decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)
    assert decoded.flags.writeable


def test_numpy_scalars_become_python_values():
    decoded = decode(encode([np.int64(3), np.uint8(250), np.float32(1.5), np.bool_(True), np.str_("s"), np.complex64(1j)]))
    assert same(decoded, [3, 250, 1.5, True, "s", 1j])


# Codec: hostile subclasses and refusals


class EvilInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__

    def __int__(self):
        return 999

    def __index__(self):
        return 999


class EvilFloat(float):
    def __eq__(self, other):
        return True

    def __float__(self):
        return 999.0


class EvilStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__

    def __str__(self):
        return "forged"

    def __iter__(self):
        return iter("forged")


class EvilList(list):
    def __eq__(self, other):
        return True

    def __iter__(self):
        return iter(["forged"])

    def __len__(self):
        return 1


class EvilDict(dict):
    def __eq__(self, other):
        return True

    def items(self):
        return [("forged", 1)]

    def __iter__(self):
        return iter(["forged"])


def test_hostile_subclasses_become_plain_values_that_compare_honestly():
    decoded = from_json(to_json([EvilInt(7), EvilFloat(2.5), EvilStr("real"), EvilList([1, 2]), EvilDict(k=EvilInt(3))]))
    assert same(decoded, [7, 2.5, "real", [1, 2], {"k": 3}])
    assert decoded[0] != 8 and decoded[1] != 0 and decoded[2] != "forged" and decoded[3] != ["forged"]
    assert type(decode(encode(np.float64(2.0)))) is float


def test_an_object_pretending_to_be_an_int_is_refused():
    class Pretender:
        __class__ = property(lambda self: int)  # fools isinstance(), not type()

    assert isinstance(Pretender(), int)
    with pytest.raises(NotData, match=r"^`answer` is a Pretender object; the autograder can only grade numbers"):
        encode(Pretender())


class Foo:
    pass


@pytest.mark.parametrize(
    "value, message",
    [
        (Foo(), "`m` is a Foo object; the autograder can only grade numbers, strings, booleans, lists, tuples, sets, dicts, NumPy arrays, pandas Series and DataFrames and Keras models."),
        ({"w": [1, Foo()]}, "`m['w'][1]` is a Foo object;"),
        ((b"bytes",), "`m[0]` is a bytes object;"),
        (np.array([object()]), "`m` is an object array object;"),
        (np.ma.masked_array([1, 2], mask=[0, 1]), "`m` is a masked array object;"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "`m` is a datetime64[D] array object;"),
        ({1: "a"}, "`m` has a dict key that is an int;"),
        (Foo, "`m` is a class object;"),
        (Decimal("1e999999999"), "`m` is too big to grade: a Decimal with more than 400 digits"),
    ],
    ids=["object", "nested", "bytes", "object-array", "masked", "datetime", "int-key", "class", "huge-decimal"],
)
def test_what_is_not_data_is_refused_with_a_message_naming_it(value, message):
    with pytest.raises(NotData) as refusal:
        encode(value, "m")
    assert str(refusal.value).startswith(message)


def test_caps_on_depth_size_and_cycles():
    deep = []
    for _ in range(101):
        deep = [deep]
    with pytest.raises(NotData, match="nested more than 100 levels"):
        encode(deep)
    cycle = []
    cycle.append(cycle)
    with pytest.raises(NotData, match="contains itself"):
        encode(cycle)
    small = Limits(max_elements=10, max_string=5, max_bytes=100)
    with pytest.raises(NotData, match="more than 10 elements"):
        encode(list(range(10)), limits=small)
    with pytest.raises(NotData, match="longer than 5 characters"):
        encode("abcdef", limits=small)
    with pytest.raises(NotData, match="MiB of data"):
        encode(np.zeros(100), limits=small)
    with pytest.raises(BadData, match="nested more than 100"):
        decode(json.loads("[" * 102 + "]" * 102))
    with pytest.raises(BadData, match="more than 10 elements"):
        decode(list(range(10)), limits=small)
    with pytest.raises(BadData, match="MiB"):
        decode(encode(np.zeros(100)), limits=small)


@pytest.mark.parametrize(
    "text",
    [
        '{"$": "pickle", "data": "gASV"}',
        '{"$": "tuple", "items": [], "extra": 1}',
        '{"items": []}',
        '{"$": "set", "items": [[1]]}',
        '{"$": "float", "v": "1e400"}',
        '{"$": "int", "hex": "0x1f"}',
        '{"$": "ndarray", "dtype": "|O8", "shape": [1], "data": "AAAAAAAAAAA="}',
        '{"$": "ndarray", "dtype": "<f8", "shape": [2], "data": "AAAAAAAAAAA="}',
        '{"$": "ndarray", "dtype": "|b1", "shape": [1], "data": "Ag=="}',
        '{"$": "Series", "name": null, "index": {"name": null, "values": [0, 1]}, "values": [1]}',
        '{"$": "Series", "name": [1], "index": {"name": null, "values": [0]}, "values": [1]}',
        '{"$": "Series", "name": null, "index": {"name": null, "values": [0]}, "values": [[1]]}',
        '{"$": "Series", "name": null, "index": {"name": null, "values": [0]}, "values": {"$": "set", "items": [1]}}',
        '{"$": "Series", "name": null, "index": [0], "values": [1]}',
        '{"$": "DataFrame", "columns": ["a", "b"], "index": {"name": null, "values": [0]}, "data": [[1]]}',
        '{"$": "DataFrame", "columns": ["a"], "index": {"name": null, "values": [0]}, "data": [[1, 2]]}',
        '{"a": 1, "a": 2}',
        "[NaN]",
        '{"$": "Fraction", "n": 1, "d": 0}',
        '{"$": "Fraction", "n": 1.5, "d": 2}',
        '{"$": "Decimal", "text": "1e999999999"}',
        '{"$": "Decimal", "text": 12960}',
        "[" * 100_000 + "]" * 100_000,
        "[18446744073709551616]",
        "not json",
    ],
)
def test_malformed_data_is_refused(text):
    with pytest.raises(BadData):
        from_json(text)


@pytest.mark.parametrize(
    "value",
    [
        pd.DataFrame({"flavor": ["chocolate", "vanilla", None], "scoops": [1, 1, 2], "price": [2, 1.5, np.nan]}),
        pd.DataFrame({"a": [1, 2], "b": [True, False]}, index=pd.Index(["x", "y"], name="key")),
        pd.DataFrame([[1, "x"]], columns=["a", "a"]),
        pd.DataFrame(),
        pd.Series([2.5, 1.75], index=pd.Index(["chocolate", "vanilla"], name="flavor"), name="price"),
        pd.Series(["a", "b"], name=3),
        pd.Series([], dtype=float),
    ],
    ids=lambda v: f"{type(v).__name__}{v.shape}",
)
def test_pandas_values_round_trip_as_plain_pandas(value):
    decoded = from_json(to_json(value))
    assert type(decoded) is type(value)
    if isinstance(value, pd.Series):
        pd.testing.assert_series_equal(decoded, value, check_index_type=False)
    else:
        pd.testing.assert_frame_equal(decoded, value, check_index_type=False, check_column_type=False)


def test_a_pandas_subclass_arrives_as_plain_pandas_and_odd_columns_are_refused():
    class Always(pd.Series):
        def __eq__(self, other):
            return True

    assert type(from_json(to_json(Always([1, 2])))) is pd.Series
    with pytest.raises(NotData, match=r"`when` is a datetime64\[\w+\] column"):
        encode(pd.Series(pd.to_datetime(["2020-01-01"])), "when")
    with pytest.raises(NotData, match=r"`rows.index` is a MultiIndex"):
        encode(pd.DataFrame({"a": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)])), "rows")
    with pytest.raises(NotData, match=r"`cells\[0\]` is a list"):
        encode(pd.Series([[1]]), "cells")


# Export and load through real files


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


@pytest.fixture(scope="module")
def dense_model(keras):
    from keras import layers

    return keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(16, "relu"), layers.Dense(10, "softmax")])


def notebook_functions(source: str) -> dict:
    """Functions defined as in a notebook (module __main__), so dill pickles them by value."""
    namespace = {"__name__": "__main__"}
    exec(textwrap.dedent(source), namespace)
    return namespace


def test_a_keras_model_round_trips_with_identical_predictions(tmp_path, keras, dense_model):
    export_answers({"mlp_keras": dense_model}, ["mlp_keras"], tmp_path)
    answers = load_answers(tmp_path)
    assert answers.problems == {}
    loaded = answers.namespace["mlp_keras"]
    images = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), dense_model.predict(images, verbose=0))
    assert [type(layer).__name__ for layer in loaded.layers] == ["Flatten", "Dense", "Dense"]


def test_equivalent_forms_the_checks_accept_are_graded_too(tmp_path, keras):
    """What ``check_dense_network`` accepts in the notebook must survive the trip to the grader."""
    from keras import layers

    from student.checks import check_dense_network

    image = keras.Input((28, 28, 1))
    hidden = keras.activations.relu(layers.Dense(16)(keras.ops.reshape(image, (-1, 784))))
    functional = keras.Model(image, keras.ops.softmax(layers.Dense(10)(keras.ops.relu(layers.Dense(16)(hidden)))))
    sequential = keras.Sequential([keras.Input((28, 28, 1)), layers.Reshape((-1,)), layers.Identity(),
                                   layers.Dense(16, "relu"), layers.Dense(16), layers.ReLU(), layers.Dense(10, "softmax")])
    export_answers({"functional": functional, "sequential": sequential}, ["functional", "sequential"], tmp_path)
    answers = load_answers(tmp_path)
    assert answers.problems == {}
    for name, model in answers.namespace.items():
        assert check_dense_network(model, (16, 16)).passed, (name, check_dense_network(model, (16, 16)).message)


def test_lambda_layers_and_custom_layers_are_refused(tmp_path, keras):
    from keras import layers

    class Doubling(layers.Layer):
        def call(self, x):
            return 2 * x

    with_lambda = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Lambda(lambda t: t * 2)])
    with_custom = keras.Sequential([keras.Input((4,)), Doubling()])
    export_answers({"a": with_lambda, "b": with_custom}, ["a", "b"], tmp_path)
    answers = load_answers(tmp_path)
    assert answers.namespace == {}
    assert answers.problems == {
        "a": "`a` uses a Lambda layer; build `a` from Keras's built-in layers (custom layers and Lambda cannot be graded).",
        "b": "`b` uses a Doubling layer; build `b` from Keras's built-in layers (custom layers and Lambda cannot be graded).",
    }


@pytest.mark.parametrize("how", ["external_link", "external_storage"])
def test_weights_that_point_to_other_files_are_refused(tmp_path, keras, dense_model, how):
    import zipfile

    import h5py

    export_answers({"m": dense_model}, ["m"], tmp_path)
    archive = tmp_path / model_file("m")
    with zipfile.ZipFile(archive) as zipped:
        members = {name: zipped.read(name) for name in zipped.namelist()}
    weights = tmp_path / "weights.h5"
    weights.write_bytes(members["model.weights.h5"])
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as store:
        store["data"] = np.ones((784, 16), "f4")
    with h5py.File(weights, "r+") as store:
        datasets = []
        store.visititems(lambda path, item: datasets.append((path, item.shape)) if isinstance(item, h5py.Dataset) else None)
        path, shape = datasets[0]
        del store[path]
        if how == "external_link":
            store[path] = h5py.ExternalLink(str(secret), "data")
        else:
            store.create_dataset(path, shape, "f4", external=[(str(secret), 0, h5py.h5f.UNLIMITED)])
    members["model.weights.h5"] = weights.read_bytes()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
    answers = load_answers(tmp_path)
    assert answers.problems == {"m": "`m` is a Keras model, but its saved weights cannot be graded (save it with `m.save`)."}


def test_every_kind_of_answer_in_one_export_each_on_its_own(tmp_path):
    module = type(json)  # a module object named like one, so that nothing is imported here
    namespace = {"x": (1, ...), "bad": {"k": Foo()}, "arr": np.eye(2), "mod": json, "sub": json.decoder,
                 "fun": module("antigravity"), "mine": module("my_helpers"),
                 "f": notebook_functions("def f(x):\n    return x")["f"]}
    names = ["x", "bad", "arr", "mod", "sub", "fun", "mine", "f", "unset"]
    export_answers(namespace, names, tmp_path)
    answers = load_answers(tmp_path, names + ["never_exported"])
    assert same(answers.namespace["x"], (1, ...))
    np.testing.assert_array_equal(answers.namespace["arr"], np.eye(2))
    assert answers.namespace["mod"] is json and answers.namespace["sub"] is json.decoder
    assert answers.callables == ["f"]
    assert set(answers.namespace) == {"x", "arr", "mod", "sub"}
    assert answers.problems["bad"].startswith("`bad['k']` is a Foo object;")
    assert answers.problems["fun"] == "`fun` is the module `antigravity`, which the autograder does not import."
    assert answers.problems["mine"] == "`mine` is the module `my_helpers`, which is not installed where your notebook is graded."
    assert answers.missing == ["unset"] and "unset" not in answers.problems
    assert "not among the answers" in answers.problems["never_exported"]


def test_a_student_file_shadowing_a_library_module_is_not_imported(tmp_path, monkeypatch):
    assert "tabnanny" not in sys.modules
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    marker = tmp_path / "ran"
    (shadow / "tabnanny.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(shadow))
    export_answers({"t": type(json)("tabnanny")}, ["t"], tmp_path / "answers")
    answers = load_answers(tmp_path / "answers")
    assert "does not import from your folder" in answers.problems["t"]
    assert not marker.exists() and "tabnanny" not in sys.modules


SECRET = "TOP-SECRET-4c1f"


@pytest.mark.parametrize("how", ["symlink", "hardlink"])
def test_a_linked_answers_file_is_refused_without_revealing_it(tmp_path, how):
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"format": "harness.answers/1", "answers": {"x": {"kind": "value", "value": SECRET}}}))
    folder = tmp_path / "answers"
    folder.mkdir()
    (os.symlink if how == "symlink" else os.link)(secret, folder / ANSWERS_FILE)
    with pytest.raises(AnswersError) as refusal:
        load_answers(folder)
    assert "answers.json is not a regular file" in str(refusal.value) and SECRET not in str(refusal.value)


def test_a_symlinked_folder_fifo_or_oversized_file_is_refused(tmp_path, monkeypatch):
    real = tmp_path / "real"
    export_answers({"x": 1}, ["x"], real)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(AnswersError, match="found no answers"):
        load_answers(tmp_path / "link")
    monkeypatch.setattr("harness.answers.load.MAX_ANSWERS_BYTES", 10)
    with pytest.raises(AnswersError, match=r"answers.json is \d+ bytes, over the limit of 10 bytes"):
        load_answers(real)
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / ANSWERS_FILE)
    with pytest.raises(AnswersError, match="not a regular file"):
        load_answers(fifo)


def test_a_symlinked_model_file_is_refused_without_revealing_it(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / ANSWERS_FILE).write_text(json.dumps({"format": "harness.answers/1", "answers": {"m": {"kind": "keras_model", "file": "x"}}}))
    (folder / model_file("m")).symlink_to(secret)
    answers = load_answers(folder)
    assert answers.problems["m"] == "`m` is a Keras model, but its saved file cannot be graded (model-m.keras is not a regular file)."


def test_tampered_entries_become_problems_that_quote_nothing(tmp_path):
    entries = {
        "a": {"kind": "value", "value": {"$": "exec", "code": SECRET}},
        "b": {"kind": "refused", "type": SECRET, "path": f"[{SECRET}]", "reason": "type"},
        "c": {"kind": "module", "module": "os; " + SECRET},
        "d": {"kind": "error", "what": "value", "error": SECRET + " !"},
        "e": {"kind": "keras_model", "file": "model-e.keras"},
        "f": {"kind": "value"},
        "g": {"kind": "refused", "type": [SECRET], "path": {}, "reason": [SECRET]},
        "h": {"kind": ["value"], "value": 1},
        "i": {"kind": "value", "value": list(range(20))},
    }
    (tmp_path / ANSWERS_FILE).write_text(json.dumps({"format": "harness.answers/1", "answers": entries}))
    (tmp_path / model_file("e")).write_text(SECRET)
    answers = load_answers(tmp_path, limits=Limits(max_elements=10))
    assert set(answers.problems) == set(entries) and answers.namespace == {}
    assert not any(SECRET in message for message in answers.problems.values())
    assert answers.problems["i"] == "`i` could not be read back from your notebook (too big: more than 10 elements in all)."


def test_load_never_opens_callables_dill(tmp_path):
    class Trap:
        def __init__(self, marker):
            self.marker = marker

        def __reduce__(self):
            return (Path.touch, (self.marker,))

    pickle.loads(pickle.dumps(Trap(tmp_path / "trap-works")))
    assert (tmp_path / "trap-works").exists()  # unpickling this file does run code
    folder = tmp_path / "answers"
    export_answers(notebook_functions("def f():\n    return 1"), ["f"], folder)
    (folder / CALLABLES_FILE).write_bytes(pickle.dumps({"f": Trap(tmp_path / "unpickled")}))
    answers = load_answers(folder)
    assert answers.callables == ["f"] and "f" not in answers.namespace and answers.problems == {}
    assert not (tmp_path / "unpickled").exists()


def test_the_trusted_side_imports_neither_dill_nor_keras_for_plain_answers(tmp_path):
    export_answers({"x": [1, 2], **notebook_functions("def f():\n    return 1")}, ["x", "f"], tmp_path)
    check = (
        "import sys; from pathlib import Path; from harness.answers.load import load_answers; "
        f"answers = load_answers(Path({str(tmp_path)!r})); assert answers.callables == ['f'], answers; "
        "print(sorted(m for m in ('dill', 'keras', 'tensorflow', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"



def test_the_trusted_side_loads_a_model_without_tensorflow_or_what_keras_only_might_use(tmp_path, dense_model):
    """The checker's cost: Keras on NumPy, none of its optional libraries, none of otter's command line."""
    export_answers({"mlp_keras": dense_model}, ["mlp_keras"], tmp_path)
    check = (
        "import sys; from pathlib import Path; from harness.answers.load import load_answers; "
        "from harness.otter_modules import otter_module; otter_module('otter.test_files'); "
        f"answers = load_answers(Path({str(tmp_path)!r})); "
        "assert answers.problems == {} and answers.namespace['mlp_keras'].count_params() == 12730, answers; "
        "import sklearn, matplotlib.pyplot, pandas; "  # hidden from Keras only, still importable afterwards
        "print(sorted(m for m in ('tensorflow', 'nbconvert', 'keras.src.wrappers.fixes') if m in sys.modules), "
        "sys.modules['keras.src.wrappers.fixes'].sklearn)"
    )
    result = subprocess.run([sys.executable, "-I", "-c", check], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "KERAS_BACKEND": "numpy"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['keras.src.wrappers.fixes'] None"


# The student-side call server, through a real subprocess


def call_server(folder: Path, requests: list[dict]) -> list[dict]:
    lines = "".join(json.dumps(request) + "\n" for request in requests)
    result = subprocess.run([sys.executable, "-m", "harness.answers.serve", str(folder)], input=lines,
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def request(name: str, *args, max_items: int = 10, **kwargs) -> dict:
    return {"name": name, "args": encode(list(args)), "kwargs": encode(kwargs), "max_items": max_items}


def test_serve_calls_functions_and_generators(tmp_path):
    functions = notebook_functions("""
        import numpy as np
        SCALE = 10

        def add(a, b=1):
            print("noise on stdout")
            return (a + b) * SCALE, np.arange(a)

        def naturals(start):
            while True:
                yield start
                start += 1

        def few():
            yield from (1, "two")

        def boom():
            raise ValueError("x" * 1000)

        def opaque():
            return object()
    """)
    names = ["add", "naturals", "few", "boom", "opaque"]
    export_answers(functions, names, tmp_path)
    assert load_answers(tmp_path).callables == names
    replies = call_server(tmp_path, [
        request("add", 2, b=3), request("naturals", 5, max_items=4), request("few"), request("boom"),
        request("opaque"), request("missing"),
    ])
    value = decode(replies[0]["value"])
    assert value[0] == 50 and value[1].tolist() == [0, 1]
    assert replies[1] == {"generator": [5, 6, 7, 8], "truncated": True}
    assert replies[2] == {"generator": [1, "two"], "truncated": False}
    assert replies[3]["error"].startswith("ValueError: xxx") and len(replies[3]["error"]) == 500
    assert replies[4] == {"not_data": codec.not_data_message("result", "object")}
    assert replies[5]["error"].startswith("LookupError: no exported function named 'missing'")
