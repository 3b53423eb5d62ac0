"""Read the answers the student's kernel exported, on the trusted side, as data only.

Nothing the student's side wrote is run: values go through :mod:`harness.answers.codec`,
Keras models are loaded in safe mode only after their config proves they are made of
Keras's built-in layers, modules are imported only from the standard library or an
installed distribution, and functions are only listed (``callables.dill`` is never opened).

Files are opened without following symlinks, must be regular files with one link, and
are size-capped. Messages name answers, types and sizes, never what a file contains.

Example:
>>> import tempfile
>>> from harness.answers.export import export_answers
>>> folder = Path(tempfile.mkdtemp())
>>> export_answers({"x": [1, 2], "f": print}, ["x", "f", "y"], folder)
>>> answers = load_answers(folder)
>>> answers.namespace, answers.callables, answers.missing
({'x': [1, 2]}, ['f'], ['y'])
"""

import functools
import importlib
import importlib.metadata
import importlib.util
import io
import os
import re
import stat
import sys
import sysconfig
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import codec
from .export import ANSWERS_FILE, FORMAT, model_file

MAX_ANSWERS_BYTES = 64 * 2**20
MAX_MODEL_BYTES = 50 * 2**20
MAX_MODEL_UNPACKED_BYTES = 200 * 2**20
MAX_MODEL_CONFIG_BYTES = 4 * 2**20

DENIED_MODULES = frozenset(
    {"antigravity", "this", "__hello__", "__phello__", "__main__", "idlelib", "turtledemo", "tkinter", "turtle"}
)
MODEL_ARCHIVE_FILES = frozenset({"config.json", "metadata.json", "model.weights.h5"})
# Imported by Keras when installed, for features a checker never uses (see _import_keras).
KERAS_OPTIONAL_LIBRARIES = ("sklearn", "matplotlib", "pandas")

# Keras's own classes a gradable model may use, by the "module" its config names.
MODEL_CLASSES = {("keras", "Sequential"), ("keras", "Model"), ("keras.models", "Sequential"),
                 ("keras.models", "Model"), ("keras.src.models.functional", "Functional"), ("keras", "Functional")}
KERAS_LAYERS = frozenset({
    "InputLayer", "Dense", "Flatten", "Reshape", "Permute", "RepeatVector",
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "SeparableConv1D", "SeparableConv2D",
    "DepthwiseConv1D", "DepthwiseConv2D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "ActivityRegularization",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "BatchNormalization", "LayerNormalization", "UnitNormalization", "GroupNormalization",
    "Normalization", "Rescaling",  # Normalization only holds mean/variance numbers
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
    "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "Identity",
})
# Keras operations a functional model may apply to its tensors (``keras.ops.relu(x)``,
# ``keras.activations.softmax(x)``, ``keras.ops.reshape(x, ...)``): saved as these op classes.
KERAS_NN_OPS = frozenset({
    "Elu", "Gelu", "LeakyRelu", "LogSoftmax", "Relu", "Relu6", "Selu", "Sigmoid", "Silu", "Softmax", "Softplus",
    "Softsign",
})
KERAS_CLASSES = {
    "keras": frozenset({"Sequential", "Model", "Functional", "DTypePolicy", "FloatDTypePolicy"}),
    "keras.models": frozenset({"Sequential", "Model"}),
    "keras.src.models.functional": frozenset({"Functional"}),
    "keras.layers": KERAS_LAYERS,
    "keras.initializers": frozenset({
        "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "IdentityInitializer",
        "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "OrthogonalInitializer", "RandomNormal",
        "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros",
    }),
    "keras.regularizers": frozenset({"L1", "L1L2", "L2", "OrthogonalRegularizer"}),
    "keras.constraints": frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}),
    "keras.src.ops.nn": KERAS_NN_OPS,
    "keras.src.ops.numpy": frozenset({"Reshape", "Tanh"}),
    "keras.src.activations.activations": frozenset({"ReLU"}),  # keras.activations.relu on a tensor
}
KERAS_ACTIVATIONS = frozenset({
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu",
    "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
})
_ACTIVATION_KEYS = ("activation", "recurrent_activation")

_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,10}")
_TYPE_NAME = re.compile(r"[A-Za-z0-9_ .\[\]]{1,100}")
_PATH = re.compile(r"(\[([0-9]{1,9}|'[A-Za-z0-9_ .-]{0,40}'|\.\.\.)\]){0,100}")
_CLASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")


class AnswersError(Exception):
    """No answer at all can be read (folder or answers.json unusable); the message is for the student."""


@dataclass
class Answers:
    """What came over: values, models and modules by name; why the others did not; functions."""

    namespace: dict = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    callables: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Names the notebook never defined (the tests' own messages say so)."""


class _Problem(Exception):
    """One answer cannot be brought over; the message is for the student."""


def load_answers(folder: Path, names: list[str] | None = None, limits: codec.Limits = codec.DEFAULT_LIMITS) -> Answers:
    """The answers exported into ``folder`` (all of them, or only ``names``).

    A name in ``names`` that the export does not describe gets a problem too. Raises
    :class:`AnswersError` when the folder or its ``answers.json`` is unusable.
    """
    folder_fd = _open_folder(folder)
    try:
        entries = _read_entries(folder_fd, limits)
        answers = Answers()
        for name in entries if names is None else names:
            if not _is_answer_name(name):
                continue  # not nameable in a message: a name only the student's side made up
            try:
                _load_entry(answers, name, entries.get(name), folder_fd, limits)
            except _Problem as problem:
                answers.problems[name] = str(problem)
        return answers
    finally:
        os.close(folder_fd)


def _is_answer_name(name: object) -> bool:
    return type(name) is str and name.isidentifier() and len(name) <= 100


def _read_entries(folder_fd: int, limits: codec.Limits) -> dict:
    try:
        document = codec.parse_json(_read_file(folder_fd, ANSWERS_FILE, MAX_ANSWERS_BYTES), limits)
    except (_Problem, codec.BadData) as problem:
        raise AnswersError(f"The autograder could not read the answers your notebook exported ({problem}).") from None
    if type(document) is not dict or set(document) != {"format", "answers"} or document["format"] != FORMAT \
            or type(document["answers"]) is not dict:
        raise AnswersError("The autograder could not read the answers your notebook exported "
                           f"({ANSWERS_FILE} is not in the expected format).")
    return document["answers"]


# What each kind of entry holds besides "kind".
_ENTRY_FIELDS = {
    "missing": set(),
    "value": {"value"},
    "keras_model": {"file"},
    "callable": set(),
    "module": {"module"},
    "refused": {"type", "path", "reason"},
    "error": {"what", "error"},
}


def _load_entry(answers: Answers, name: str, entry: object, folder_fd: int, limits: codec.Limits) -> None:
    if entry is None:
        raise _Problem(f"`{name}` was not among the answers your notebook exported; did the notebook run to the end?")
    kind = entry.get("kind") if type(entry) is dict else None
    if type(kind) is not str or kind not in _ENTRY_FIELDS or set(entry) != {"kind", *_ENTRY_FIELDS[kind]}:
        raise _Problem(f"`{name}` could not be read back: its exported description is malformed.")
    if kind == "missing":
        answers.missing.append(name)
    elif kind == "value":
        answers.namespace[name] = _decode(name, entry["value"], limits)
    elif kind == "keras_model":
        answers.namespace[name] = _load_model(name, folder_fd)
    elif kind == "callable":
        answers.callables.append(name)
    elif kind == "module":
        answers.namespace[name] = _import_module(name, entry["module"])
    elif kind == "refused":
        raise _Problem(_refusal_message(name, entry))
    else:
        raise _Problem(_error_message(name, entry))


def _decode(name: str, data: object, limits: codec.Limits) -> object:
    try:
        return codec.decode(data, limits)
    except codec.BadData as error:
        raise _Problem(f"`{name}` could not be read back from your notebook ({error}).") from None


def _refusal_message(name: str, entry: dict) -> str:
    type_name, path, reason = entry["type"], entry["path"], entry["reason"]
    if type(reason) is not str or reason not in codec.REASONS or type(path) is not str or not _PATH.fullmatch(path):
        return f"`{name}` could not be exported as data."
    if type(type_name) is not str or not _TYPE_NAME.fullmatch(type_name):
        type_name = "unsupported"
    return codec.not_data_message(name + path, type_name, reason)


def _error_message(name: str, entry: dict) -> str:
    error = entry["error"] if type(entry["error"]) is str and _CLASS_NAME.fullmatch(entry["error"]) else "an error"
    if entry["what"] == "keras_model":
        return f"`{name}` is a Keras model that could not be saved ({error}); check that `{name}.save(\"{name}.keras\")` works in your notebook."
    if entry["what"] == "callable":
        return (f"`{name}` is a function that could not be exported ({error}); define it with `def` in the notebook, "
                "using only names the notebook defines or imports.")
    return f"`{name}` could not be exported ({error} while reading it)."


# Keras models


def _load_model(name: str, folder_fd: int):
    try:
        archive = _read_file(folder_fd, model_file(name), MAX_MODEL_BYTES)
    except _Problem as problem:
        raise _Problem(f"`{name}` is a Keras model, but its saved file cannot be graded ({problem}).") from None
    weights = _check_model_archive(name, archive)
    keras = _import_keras()
    if weights is not None:
        _check_weights(name, weights)
    # Keras reads a path: give it a private copy of exactly the bytes checked above.
    with tempfile.TemporaryDirectory(prefix="answers-model-") as private:
        path = Path(private) / "model.keras"
        path.write_bytes(archive)
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as error:  # Keras's messages quote the config: name only the type
            raise _Problem(f"`{name}` is a Keras model that Keras could not load back ({type(error).__name__}); "
                           f"check that `keras.saving.load_model` loads what `{name}.save` wrote.") from None


def _import_keras():
    # Keras imports scikit-learn, matplotlib and pandas, when installed, for its sklearn
    # wrappers, image-gallery plots and DataFrame inputs: 2.5 CPU seconds that loading and
    # scoring a model never needs. Hidden during the import, Keras treats them as absent.
    hidden = [name for name in KERAS_OPTIONAL_LIBRARIES if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))
    try:
        import keras
    finally:
        for name in hidden:
            del sys.modules[name]
    return keras


def _check_model_archive(name: str, archive: bytes) -> bytes | None:
    """The weights file of a .keras archive, refused unless a model of Keras's built-in layers."""
    unreadable = _Problem(f"`{name}` is a Keras model, but its saved file is not a readable .keras archive.")
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            members = zipped.infolist()
            files = [member.filename for member in members]
            if len(set(files)) != len(files) or not set(files) <= MODEL_ARCHIVE_FILES or "config.json" not in files:
                raise unreadable
            if sum(member.file_size for member in members) > MAX_MODEL_UNPACKED_BYTES:
                raise unreadable
            if zipped.getinfo("config.json").file_size > MAX_MODEL_CONFIG_BYTES:
                raise unreadable
            config = codec.parse_json(zipped.read("config.json"))
            weights = zipped.read("model.weights.h5") if "model.weights.h5" in files else None
    except (zipfile.BadZipFile, codec.BadData, OSError, EOFError, ValueError, NotImplementedError):
        raise unreadable from None
    custom = _custom_part(config)
    if custom is not None:
        raise _Problem(f"`{name}` uses {custom}; build `{name}` from Keras's built-in layers "
                       "(custom layers and Lambda cannot be graded).")
    return weights


def _check_weights(name: str, weights: bytes) -> None:
    """Refuse HDF5 weights that link or point to other files, or unpack to too much."""
    import h5py  # Keras's own dependency, imported with it

    refused = _Problem(f"`{name}` is a Keras model, but its saved weights cannot be graded (save it with `{name}.save`).")
    found, unpacked = [], 0
    try:
        with h5py.File(io.BytesIO(weights), "r") as store:

            def inspect(path: str, link) -> None:
                nonlocal unpacked
                if not isinstance(link, h5py.HardLink):  # soft or external: may lead out of this file
                    found.append(path)
                    return None
                item = store[path]
                if isinstance(item, h5py.Dataset):
                    if item.is_virtual or item.external or item.dtype.kind not in "biufc":
                        found.append(path)
                    unpacked += item.size * item.dtype.itemsize
                return None

            store.visititems_links(inspect)
    except Exception:  # not HDF5, or HDF5 that h5py cannot read: never load it
        raise refused from None
    if found or unpacked > MAX_MODEL_UNPACKED_BYTES:
        raise refused


def _custom_part(config: object) -> str | None:
    """What in a model's config is not Keras's built-in (e.g. ``"a Lambda layer"``), or None.

    >>> _custom_part({"module": "keras", "class_name": "Sequential", "config": {"layers": [
    ...     {"module": "keras.layers", "class_name": "Dense", "config": {"activation": "relu"}}]}})
    >>> _custom_part({"module": "keras", "class_name": "Sequential", "config": {"layers": [
    ...     {"module": "keras.layers", "class_name": "Lambda", "config": {}}]}})
    'a Lambda layer'
    """
    if type(config) is not dict or (config.get("module"), config.get("class_name")) not in MODEL_CLASSES:
        return "a model class of its own (not keras.Sequential or the functional API)"
    # compile=False: Keras never reads compile_config, so it may name anything.
    rest = {key: value for key, value in config.items() if key != "compile_config"}
    return _first_custom(rest, 0)


def _first_custom(node: object, depth: int) -> str | None:
    if depth > 200:
        return "layers nested too deeply"
    if type(node) is list:
        return next(filter(None, (_first_custom(item, depth + 1) for item in node)), None)
    if type(node) is not dict:
        return None
    if "class_name" in node and not _is_builtin_object(node):
        class_name = node["class_name"]
        if type(class_name) is str and _CLASS_NAME.fullmatch(class_name):
            return f"a {class_name} layer" if class_name != "function" else "a function of its own"
        return "a custom layer"
    for key, value in node.items():
        if key in _ACTIVATION_KEYS and type(value) is str and value not in KERAS_ACTIVATIONS:
            return "an activation that is not one of Keras's built-in ones"
        found = _first_custom(value, depth + 1)
        if found:
            return found
    return None


def _is_builtin_object(node: dict) -> bool:
    class_name, module = node.get("class_name"), node.get("module")
    if class_name == "__keras_tensor__":
        return set(node) <= {"class_name", "config"}
    if type(class_name) is not str or type(module) is not str:
        return False
    registered = node.get("registered_name")
    return class_name in KERAS_CLASSES.get(module, ()) and registered in (None, class_name)


# Modules


def _import_module(name: str, module_name: object):
    if type(module_name) is not str or not _MODULE_NAME.fullmatch(module_name):
        raise _Problem(f"`{name}` is a module the autograder cannot import.")
    top = module_name.partition(".")[0]
    # Importing a module runs it: only packages' public modules, never a `__main__` or `_private` one.
    if top in DENIED_MODULES or module_name in DENIED_MODULES or any(part.startswith("_") for part in module_name.split(".")):
        raise _Problem(f"`{name}` is the module `{module_name}`, which the autograder does not import.")
    if top not in sys.stdlib_module_names and top not in _installed_top_levels():
        raise _Problem(f"`{name}` is the module `{module_name}`, which is not installed where your notebook is graded.")
    if not _from_installed_location(top):
        raise _Problem(f"`{name}` is the module `{module_name}`, which the autograder does not import from "
                       "your folder (a file of yours may have the same name as a library).")
    try:
        return importlib.import_module(module_name)
    except Exception as error:
        raise _Problem(f"`{name}` is the module `{module_name}`, which failed to import ({type(error).__name__}).") from None


@functools.lru_cache(maxsize=1)
def _installed_top_levels() -> frozenset:
    return frozenset(importlib.metadata.packages_distributions())


def _from_installed_location(top: str) -> bool:
    """Whether ``top`` would be imported from Python's or the environment's library folders."""
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: finding it imports nothing
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if spec.origin in ("built-in", "frozen"):
        return True
    places = [spec.origin] if spec.has_location and spec.origin else list(spec.submodule_search_locations or ())
    roots = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return bool(places) and all(any(Path(place).resolve().is_relative_to(root) for root in roots) for place in places)


# Files


def _open_folder(folder: Path) -> int:
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        raise AnswersError("The autograder found no answers exported by your notebook; did it run to the end?") from None


def _read_file(folder_fd: int, file_name: str, limit: int) -> bytes:
    """A regular file's bytes, opened inside ``folder_fd`` without following symlinks."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(file_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
    except FileNotFoundError:
        raise _Problem(f"{file_name} is missing") from None
    except OSError:
        raise _Problem(f"{file_name} is not a regular file") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise _Problem(f"{file_name} is not a regular file")
        if info.st_size > limit:
            raise _Problem(f"{file_name} is {_size(info.st_size)}, over the limit of {_size(limit)}")
        content = _read_at_most(fd, limit + 1)
        if len(content) > limit:  # it grew after fstat
            raise _Problem(f"{file_name} is over the limit of {_size(limit)}")
        return content
    finally:
        os.close(fd)


def _read_at_most(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = os.read(fd, min(left, 2**20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _size(size: int) -> str:
    """
    >>> _size(64 * 2**20), _size(1500), _size(12)
    ('67 MB', '1.5 kB', '12 bytes')
    """
    if size >= 10**6:
        return f"{size / 1e6:.0f} MB"
    return f"{size / 1e3:.1f} kB" if size >= 10**3 else f"{size} bytes"
