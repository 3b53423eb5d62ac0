"""Export the notebook's answers from inside the student's kernel (the untrusted side).

:func:`export_answers` writes one folder that the trusted side reads as data:

- ``answers.json`` (written only here, last, atomically): per requested name, what it is;
- ``model-<name>.keras``: each Keras model, saved by Keras;
- ``callables.dill``: the student's functions, for :func:`serve_calls` only. It runs as the
  student in the sandbox; the trusted side never opens this file.

Only the standard library is imported here at module import: the kernel pays for NumPy,
dill or Keras only when an answer needs them.

Example:
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> export_answers({"x": (1, ...), "f": len}, ["x", "f", "y"], folder)
>>> print((folder / ANSWERS_FILE).read_text())
{"format":"harness.answers/1","answers":{"x":{"kind":"value","value":{"$":"tuple","items":[1,{"$":"ellipsis"}]}},"f":{"kind":"callable"},"y":{"kind":"missing"}}}
"""

import collections.abc
import itertools
import os
import sys
import tempfile
import types
from pathlib import Path

from . import codec

FORMAT = "harness.answers/1"
ANSWERS_FILE = "answers.json"
CALLABLES_FILE = "callables.dill"
ERROR_CHARS = 500


def model_file(name: str) -> str:
    """The file a Keras model answer is saved in (``name`` is a Python identifier).

    >>> model_file("mlp_keras")
    'model-mlp_keras.keras'
    """
    return f"model-{name}.keras"


def export_answers(namespace: dict, names: list[str], folder: Path) -> None:
    """Describe each of ``names`` in ``namespace`` in ``folder/answers.json``.

    Each name becomes one entry, ``{"kind": ...}`` with ``kind`` one of ``missing``,
    ``value`` (with ``value``, codec data), ``keras_model`` (with ``file``), ``callable``,
    ``module`` (with ``module``, its name), ``refused`` (with ``type``, ``path``, ``reason``,
    see :class:`codec.NotData`) or ``error`` (with ``what`` and ``error``, an exception
    type). Each name is handled on its own: one that fails never stops the others.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    functions: dict[str, object] = {}
    entries = {name: _entry(namespace, name, folder, functions) for name in names}
    entries.update(_save_callables(functions, folder))
    _write_atomically(folder, ANSWERS_FILE, codec.dump_json({"format": FORMAT, "answers": entries}).encode())


def _entry(namespace: dict, name: str, folder: Path, functions: dict) -> dict:
    if not (isinstance(name, str) and name.isidentifier()) or name not in namespace:
        return {"kind": "missing"}
    value = namespace[name]
    try:
        if isinstance(value, types.ModuleType):
            return {"kind": "module", "module": str.__str__(value.__name__)}
        if _is_keras_model(value):
            return _save_model(name, value, folder)
        if callable(value) and not isinstance(value, type):
            functions[name] = value
            return {"kind": "callable"}
        return {"kind": "value", "value": codec.encode(value, name)}
    except codec.NotData as refusal:
        return {"kind": "refused", "type": refusal.type_name, "path": refusal.where[len(name) :], "reason": refusal.reason}
    except Exception as error:  # the student's object misbehaved; the others still go
        return {"kind": "error", "what": "value", "error": type(error).__name__}


def _is_keras_model(value: object) -> bool:
    keras = sys.modules.get("keras")  # a Keras model implies Keras is imported: never import it here
    model_class = getattr(keras, "Model", None)
    return isinstance(model_class, type) and isinstance(value, model_class)


def _save_model(name: str, model, folder: Path) -> dict:
    try:
        model.save(folder / model_file(name))
    except Exception as error:
        return {"kind": "error", "what": "keras_model", "error": type(error).__name__}
    return {"kind": "keras_model", "file": model_file(name)}


def _save_callables(functions: dict, folder: Path) -> dict[str, dict]:
    """Pickle the functions into ``callables.dill``; the entries of those that cannot be."""
    if not functions:
        return {}
    import dill

    failed = {}
    for name, function in functions.items():
        try:
            dill.dumps(function, recurse=True)
        except Exception as error:
            failed[name] = {"kind": "error", "what": "callable", "error": type(error).__name__}
    picklable = {name: f for name, f in functions.items() if name not in failed}
    try:
        _write_atomically(folder, CALLABLES_FILE, dill.dumps(picklable, recurse=True), mode=0o600)
    except Exception as error:
        return {name: {"kind": "error", "what": "callable", "error": type(error).__name__} for name in functions}
    return failed


def _write_atomically(folder: Path, name: str, content: bytes, mode: int = 0o644) -> None:
    """Write ``folder/name`` whole or not at all; ``mode`` 0o644 lets the trusted side read it."""
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, folder / name)
    except BaseException:
        os.unlink(temporary)
        raise


def serve_calls(folder: Path, stdin, stdout) -> None:
    """Answer calls of the exported functions, one JSON line per request, until ``stdin`` ends.

    Runs as the student, in the sandbox (unpickling ``callables.dill`` runs student code).
    A request is ``{"name", "args", "kwargs", "max_items"}`` (args and kwargs codec data: a
    list or tuple, and a dict). The reply is one of ``{"value": data}``,
    ``{"generator": [data, ...], "truncated": bool}`` (a generator or other iterator, read
    for at most ``max_items`` items; ``truncated`` means it stopped there, not at its end),
    ``{"error": "Type: message"}`` or ``{"not_data": message}``.
    """
    import dill

    try:
        with open(Path(folder) / CALLABLES_FILE, "rb") as file:
            functions = dill.load(file)
    except FileNotFoundError:
        functions = {}
    for line in stdin:
        stdout.write(codec.dump_json(_reply(functions, line)) + "\n")
        stdout.flush()


def _reply(functions: dict, line: str) -> dict:
    try:
        function, args, kwargs, max_items = _parse_request(functions, line)
    except (codec.BadData, LookupError, TypeError) as error:
        return {"error": _describe(error)}
    try:
        result = function(*args, **kwargs)
        if isinstance(result, collections.abc.Iterator):
            return _read_items(result, max_items)
        return {"value": codec.encode(result, "result")}
    except codec.NotData as refusal:
        return {"not_data": str(refusal)}
    except Exception as error:
        return {"error": _describe(error)}


def _parse_request(functions: dict, line: str) -> tuple:
    request = codec.parse_json(line)
    if type(request) is not dict or set(request) != {"name", "args", "kwargs", "max_items"}:
        raise TypeError("a request has exactly name, args, kwargs and max_items")
    args, kwargs, max_items = codec.decode(request["args"]), codec.decode(request["kwargs"]), request["max_items"]
    if type(args) not in (list, tuple) or type(kwargs) is not dict or type(max_items) is not int:
        raise TypeError("args must be a list, kwargs a dict and max_items an int")
    name = request["name"]
    if type(name) is not str or name not in functions:
        raise LookupError(f"no exported function named {str(name)[:100]!r}")
    return functions[name], args, kwargs, max_items


def _read_items(iterator, max_items: int) -> dict:
    encoder = codec.Encoder("result")
    items = [encoder.encode(item, f"[{i}]") for i, item in enumerate(itertools.islice(iterator, max(max_items, 0)))]
    return {"generator": items, "truncated": len(items) >= max_items}


def _describe(error: BaseException) -> str:
    try:
        message = str(error)
    except Exception:  # a student's exception whose __str__ fails
        message = "(no message)"
    return f"{type(error).__name__}: {message}"[:ERROR_CHARS]
