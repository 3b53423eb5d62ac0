"""A strict codec between answer values and JSON-compatible data.

Answers cross from the student's kernel to the trusted side as data, never as code: this
module turns a value into plain JSON types (``encode``) and back (``decode``), knowing only
a fixed set of types. Nothing here imports or calls anything the data names.

- ``None``, ``bool``, ``str``, JSON-sized ``int`` and finite ``float`` are themselves, and a
  JSON array is a list;
- everything else is an object with a ``"$"`` tag: ``int`` (beyond 64 bits), ``float``
  (nan/inf), ``complex``, ``Fraction``, ``Decimal`` (plain decimal digits, no exponent),
  ``ellipsis`` (the notebook's unanswered ``...``), ``tuple``,
  ``set``, ``frozenset``, ``dict`` (string keys), ``ndarray`` (base64 of the raw bytes), and
  pandas ``Series`` and ``DataFrame`` (labels, an index, and one column each of numbers as an
  ``ndarray`` or of plain values, such as strings, as a list).

Subclasses become their base type, read with the base type's own methods (a hostile
``__eq__``, ``__iter__`` or ``__str__`` is never called); NumPy scalars become the matching
Python type. Anything else raises :class:`NotData`, whose message is for the student.
Decoding refuses unknown tags, extra keys and anything over :class:`Limits`.

Example:
>>> encode([1, 2.5, "x", None, True])
[1, 2.5, 'x', None, True]
>>> encode((1, ...))
{'$': 'tuple', 'items': [1, {'$': 'ellipsis'}]}
>>> decode(encode({"a": {1, 2}, "b": float("inf")}))
{'a': {1, 2}, 'b': inf}
>>> from_json(to_json((1, ...)))
(1, Ellipsis)
"""

import base64
import binascii
import decimal
import fractions
import functools
import json
import math
import re
import sys
from dataclasses import dataclass

GRADABLE = "numbers, strings, booleans, lists, tuples, sets, dicts, NumPy arrays, pandas Series and DataFrames and Keras models"

# dtype kinds that are plain bytes: bool, signed/unsigned int, float, complex, unicode.
_ARRAY_KINDS = "biufcU"
_DTYPE = re.compile(r"[<>|=][biufcU][0-9]{1,3}")
_HEX_INT = re.compile(r"-?[0-9a-f]+")
_INT64 = 2**63
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# A Decimal crosses as its digits. An exponent is refused: Decimal("1e999999999") is small to
# send but would fill the memory of whatever checks it with int() or arithmetic.
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,400}(\.[0-9]{1,400})?|-?Infinity|NaN")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_ .-]{0,40}")


class NotData(Exception):
    """A value the autograder cannot receive as data; the message is written for the student.

    ``where`` (e.g. ``"answer[2]['w']"``), ``type_name`` and ``reason`` (one of
    :data:`REASONS`) let the trusted side rebuild the same message with
    :func:`not_data_message` without showing free text that the student's side wrote.
    """

    def __init__(self, where: str, type_name: str, reason: str = "type", limits: "Limits | None" = None):
        super().__init__(not_data_message(where, type_name, reason, limits or DEFAULT_LIMITS))
        self.where, self.type_name, self.reason = where, type_name, reason


class BadData(ValueError):
    """Encoded data that breaks the format or a limit. Messages never quote the data."""


@dataclass(frozen=True)
class Limits:
    """Caps on one encoded value; strings count one byte per character toward ``max_bytes``."""

    max_depth: int = 100
    max_elements: int = 1_000_000
    max_string: int = 10_000_000
    max_bytes: int = 64 * 2**20


DEFAULT_LIMITS = Limits()

_TOO_BIG = {
    "depth": lambda limits: f"nested more than {limits.max_depth} levels deep (or it contains itself)",
    "elements": lambda limits: f"more than {limits.max_elements:,} elements in all",
    "string": lambda limits: f"a string longer than {limits.max_string:,} characters",
    "bytes": lambda limits: f"more than {limits.max_bytes / 2**20:.0f} MiB of data",
    "digits": lambda limits: "a Decimal with more than 400 digits before or after its point",
}
REASONS = frozenset({"type", "dict_key", "unhashable", "duplicate_key", *_TOO_BIG})


def not_data_message(where: str, type_name: str, reason: str = "type", limits: Limits = DEFAULT_LIMITS) -> str:
    """The student's message for a value that is not data (``reason`` is one of :data:`REASONS`).

    >>> not_data_message("answer", "Foo")
    '`answer` is a Foo object; the autograder can only grade numbers, strings, booleans, lists, tuples, sets, dicts, NumPy arrays, pandas Series and DataFrames and Keras models.'
    >>> not_data_message("d", "int", "dict_key")
    '`d` has a dict key that is an int; the autograder can only grade dicts whose keys are strings.'
    >>> not_data_message("x", "list", "depth")
    '`x` is too big to grade: nested more than 100 levels deep (or it contains itself).'
    """
    article = "an" if type_name[:1].lower() in tuple("aeiou") else "a"
    if reason == "dict_key":
        return f"`{where}` has a dict key that is {article} {type_name}; the autograder can only grade dicts whose keys are strings."
    if reason == "unhashable":
        return f"`{where}` is {article} {type_name} holding a list, dict, set or array; its elements must be hashable."
    if reason == "duplicate_key":
        return f"`{where}` is a dict with two keys of the same text (keys of a str subclass); use plain str keys."
    if reason in _TOO_BIG:
        return f"`{where}` is too big to grade: {_TOO_BIG[reason](limits)}."
    return f"`{where}` is {article} {type_name} object; the autograder can only grade {GRADABLE}."


def encode(value: object, name: str = "answer", limits: Limits = DEFAULT_LIMITS) -> object:
    """``value`` as JSON-compatible data; :class:`NotData` (naming ``name``) if it is not data.

    >>> encode(float("nan"))
    {'$': 'float', 'v': 'nan'}
    >>> encode(2**70)
    {'$': 'int', 'hex': '400000000000000000'}
    >>> encode(object(), "f")
    Traceback (most recent call last):
    harness.answers.codec.NotData: `f` is an object object; the autograder can only grade ...
    """
    return Encoder(name, limits).encode(value)


def decode(data: object, limits: Limits = DEFAULT_LIMITS) -> object:
    """The value that :func:`encode` made ``data`` from; :class:`BadData` if ``data`` is not such.

    >>> decode({"$": "set", "items": [1, 2]})
    {1, 2}
    >>> decode({"$": "pickle", "data": "..."})
    Traceback (most recent call last):
    harness.answers.codec.BadData: unknown tag
    """
    return _Decoder(limits).decode(data, 0)


def to_json(value: object, name: str = "answer", limits: Limits = DEFAULT_LIMITS) -> str:
    """``encode(value)`` as strict JSON text (ASCII, no NaN literals).

    >>> to_json({"k": (1, 2)})
    '{"$":"dict","items":{"k":{"$":"tuple","items":[1,2]}}}'
    """
    return dump_json(encode(value, name, limits))


def from_json(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> object:
    """The value in JSON ``text`` made by :func:`to_json`.

    >>> from_json('[1, {"$": "ellipsis"}]')
    [1, Ellipsis]
    """
    return decode(parse_json(text, limits), limits)


def dump_json(data: object) -> str:
    """Strict, compact JSON text of plain JSON data."""
    return json.dumps(data, allow_nan=False, separators=(",", ":"))


def parse_json(text: str | bytes, limits: Limits | None = None) -> object:
    """Parse strict JSON: no NaN/Infinity literals, no duplicate keys, bounded nesting.

    With ``limits``, text with far more elements than ``limits`` allows is refused before
    parsing: parsing "[[],[],...]" would build every list before :func:`decode` counts.

    >>> parse_json('{"a": 1, "a": 2}')
    Traceback (most recent call last):
    harness.answers.codec.BadData: not valid JSON (duplicate key)
    >>> parse_json("[" + ",".join(["[]"] * 1000) + "]", Limits(max_elements=5))
    Traceback (most recent call last):
    harness.answers.codec.BadData: too big: more than 5 elements in all
    """
    if limits is not None:
        separators = (b"[", b"{", b",") if isinstance(text, bytes) else ("[", "{", ",")
        # Each encoded element has at most 3 of these (a tagged tuple: "{", "[", ","); strings rarely any.
        if sum(text.count(mark) for mark in separators) > 3 * limits.max_elements + 1000:
            raise BadData(f"too big: {_TOO_BIG['elements'](limits)}")
    try:
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise BadData("not valid JSON (nested too deeply)") from None
    except BadData:
        raise
    except (ValueError, TypeError):
        raise BadData("not valid JSON") from None


def _refuse_constant(_: str) -> object:
    raise BadData("not valid JSON (NaN or Infinity literal)")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise BadData("not valid JSON (duplicate key)")
    return result


class _Budget:
    """Counts elements and bytes against the limits; ``fail(reason)`` raises the right error."""

    def __init__(self, limits: Limits, fail):
        self.limits, self.fail = limits, fail
        self.elements = self.bytes = 0

    def element(self, depth: int) -> None:
        if depth > self.limits.max_depth:
            self.fail("depth")
        self.elements += 1
        if self.elements > self.limits.max_elements:
            self.fail("elements")

    def string(self, length: int) -> None:
        if length > self.limits.max_string:
            self.fail("string")
        self.take(length)

    def take(self, size: int) -> None:
        self.bytes += size
        if self.bytes > self.limits.max_bytes:
            self.fail("bytes")


class Encoder:
    """Encodes several values against one budget (e.g. the items of one generator).

    >>> encoder = Encoder("squares")
    >>> [encoder.encode(n * n, f"[{n}]") for n in range(3)]
    [0, 1, 4]
    """

    def __init__(self, name: str = "answer", limits: Limits = DEFAULT_LIMITS):
        self.name = name
        self.budget = _Budget(limits, self._too_big)

    def encode(self, value: object, where: str = "") -> object:
        """``value`` as JSON-compatible data; ``where`` follows the name in messages."""
        return self._encode(value, where, 0)

    def _too_big(self, reason: str) -> None:
        raise NotData(self.name, "", reason, self.budget.limits)

    def _refuse(self, value: object, where: str, reason: str = "type", type_name: str = "") -> None:
        type_name = type_name or ("class" if isinstance(value, type) else type(value).__name__)
        raise NotData(self.name + where, type_name, reason)

    def _encode(self, value: object, where: str, depth: int) -> object:
        self.budget.element(depth)
        kind = type(value)  # type(), unlike isinstance, cannot be fooled by a __class__ property
        if value is None or kind is bool:
            return value
        if value is Ellipsis:
            return {"$": "ellipsis"}
        numpy = sys.modules.get("numpy")  # a NumPy value implies NumPy is imported
        if numpy is not None:
            if issubclass(kind, numpy.ndarray):
                return self._array(numpy, value, where)
            if kind in _numpy_scalar_types(numpy):
                return self._encode(self._numpy_scalar(numpy, value, where), where, depth)
        pandas = sys.modules.get("pandas")  # likewise for pandas
        if pandas is not None and issubclass(kind, (pandas.Series, pandas.DataFrame)):
            return self._pandas(numpy, pandas, value, where, depth)
        for base, encode_base in self._BASES:
            if issubclass(kind, base):
                return encode_base(self, value, where, depth)
        self._refuse(value, where)

    def _int(self, value, where, depth):
        number = int.__int__(value)
        if -_INT64 <= number < _INT64:
            return number
        digits = format(number, "x")
        self.budget.take(len(digits))
        return {"$": "int", "hex": digits}

    def _float(self, value, where, depth):
        return _encode_float(float.__float__(value))

    def _complex(self, value, where, depth):
        number = complex.__complex__(value)
        return {"$": "complex", "re": _encode_float(number.real), "im": _encode_float(number.imag)}

    def _fraction(self, value, where, depth):
        numerator, denominator = fractions.Fraction.as_integer_ratio(value)
        return {"$": "Fraction", "n": self._int(numerator, where, depth), "d": self._int(denominator, where, depth)}

    def _decimal(self, value, where, depth):
        if not decimal.Decimal.is_finite(value):
            signed = "-" if decimal.Decimal.is_signed(value) else ""
            return {"$": "Decimal", "text": "NaN" if decimal.Decimal.is_nan(value) else f"{signed}Infinity"}
        if not -400 < decimal.Decimal.as_tuple(value).exponent <= 400 or len(decimal.Decimal.as_tuple(value).digits) > 400:
            self._refuse(value, where, "digits")  # checked before formatting: 1e999999999 has a billion digits
        text = decimal.Decimal.__format__(value, "f")
        if not _DECIMAL_TEXT.fullmatch(text):
            self._refuse(value, where, "digits")
        return {"$": "Decimal", "text": text}

    def _str(self, value, where, depth):
        text = str.__str__(value)
        self.budget.string(len(text))
        return text

    def _list(self, value, where, depth):
        return [self._encode(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(list.__iter__(value))]

    def _tuple(self, value, where, depth):
        items = tuple.__iter__(value)
        return {"$": "tuple", "items": [self._encode(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(items)]}

    def _set(self, value, where, depth):
        tag, iterate = ("set", set.__iter__) if issubclass(type(value), set) else ("frozenset", frozenset.__iter__)
        items = [self._encode(item, f"{where}[...]", depth + 1) for item in iterate(value)]
        if not all(_hashable(item) for item in items):
            self._refuse(value, where, "unhashable", tag)
        return {"$": tag, "items": items}

    def _dict(self, value, where, depth):
        encoded = {}
        for key, item in dict.items(value):
            if not issubclass(type(key), str):
                self._refuse(key, where, "dict_key")
            key = str.__str__(key)
            self.budget.string(len(key))
            if key in encoded:  # only str subclasses with a hostile __eq__/__hash__ get here
                self._refuse(value, where, "duplicate_key")
            inner = f"{where}[{key!r}]" if _PLAIN_KEY.fullmatch(key) else f"{where}[...]"
            encoded[key] = self._encode(item, inner, depth + 1)
        return {"$": "dict", "items": encoded}

    def _array(self, numpy, value, where):
        if issubclass(type(value), numpy.ma.MaskedArray):  # its mask would be lost
            self._refuse(value, where, type_name="masked array")
        array = numpy.ndarray.view(value, numpy.ndarray)  # the plain array under any subclass
        dtype = array.dtype
        if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            self._refuse(value, where, type_name=f"{dtype.name} array")
        self.budget.take(array.nbytes)
        return {
            "$": "ndarray",
            "dtype": dtype.str,
            "shape": [int(n) for n in array.shape],
            "data": base64.b64encode(array.tobytes()).decode("ascii"),
        }

    def _pandas(self, numpy, pandas, value, where, depth):
        index = {"name": self._label(value.index.name, where),
                 "values": self._column(numpy, pandas, value.index, f"{where}.index", depth)}
        if issubclass(type(value), pandas.Series):
            values = self._column(numpy, pandas, value, where, depth)
            return {"$": "Series", "name": self._label(value.name, where), "index": index, "values": values}
        labels = [self._label(label, where) for label in value.columns]
        columns = [self._column(numpy, pandas, value.iloc[:, i], f"{where}[{label!r}]", depth)
                   for i, label in enumerate(labels)]
        return {"$": "DataFrame", "columns": labels, "index": index, "data": columns}

    def _column(self, numpy, pandas, column, where, depth) -> object:
        """A Series' or Index's values: numbers as an ndarray, other plain values as a list."""
        if issubclass(type(column), pandas.MultiIndex):
            self._refuse(column, where, type_name="MultiIndex")
        dtype = column.dtype
        if isinstance(dtype, numpy.dtype) and dtype.kind in "biufc":
            return self._array(numpy, column.to_numpy(), where)
        if dtype == object or isinstance(dtype, pandas.StringDtype):
            items = column.tolist()
            self.budget.element(depth + 1)
            return [self._label(item, f"{where}[{i}]") for i, item in enumerate(items)]
        self._refuse(column, where, type_name=f"{dtype} column")

    def _label(self, value, where) -> object:
        """A label or a value in a column of plain values: None, a bool, a number or a string."""
        numpy = sys.modules.get("numpy")
        if numpy is not None and type(value) in _numpy_scalar_types(numpy):
            value = self._numpy_scalar(numpy, value, where)
        if value is None or type(value) in (bool, int, float, str):
            self.budget.element(0)
            return self._encode(value, where, 0)
        self._refuse(value, where)

    def _numpy_scalar(self, numpy, value, where) -> object:
        """A NumPy scalar (exactly a NumPy type, so its methods are NumPy's) as a Python value."""
        kind = numpy.dtype(type(value)).kind
        convert = {"b": bool, "i": int, "u": int, "f": float, "c": complex, "U": lambda x: str(x.item())}.get(kind)
        if convert is None:
            self._refuse(value, where, type_name=f"NumPy {type(value).__name__}")
        return convert(value)

    # Order matters only for bool, handled before: every other base is disjoint.
    _BASES = (
        (int, _int),
        (float, _float),
        (complex, _complex),
        (fractions.Fraction, _fraction),
        (decimal.Decimal, _decimal),
        (str, _str),
        (list, _list),
        (tuple, _tuple),
        (set, _set),
        (frozenset, _set),
        (dict, _dict),
    )


@functools.lru_cache(maxsize=1)
def _numpy_scalar_types(numpy) -> frozenset:
    return frozenset(numpy.sctypeDict.values())


def _encode_float(number: float) -> object:
    if math.isfinite(number):
        return number
    return {"$": "float", "v": "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")}


def _hashable(item: object) -> bool:
    """Whether the decoded form of an encoded ``item`` can be a set element."""
    if isinstance(item, list):
        return False
    if isinstance(item, dict):
        tag = item["$"]
        if tag == "tuple":
            return all(_hashable(x) for x in item["items"])
        return tag not in ("set", "dict", "ndarray", "Series", "DataFrame")
    return True


class _Decoder:
    def __init__(self, limits: Limits):
        self.budget = _Budget(limits, self._too_big)

    def _too_big(self, reason: str) -> None:
        raise BadData(f"too big: {_TOO_BIG[reason](self.budget.limits)}")

    def decode(self, data: object, depth: int) -> object:
        self.budget.element(depth)
        kind = type(data)
        if data is None or kind is bool:
            return data
        if kind is int:
            if not -_INT64 <= data < _INT64:
                raise BadData("an integer out of range")
            return data
        if kind is float:
            if not math.isfinite(data):
                raise BadData("a bare non-finite float")
            return data
        if kind is str:
            self.budget.string(len(data))
            return data
        if kind is list:
            return [self.decode(item, depth + 1) for item in data]
        if kind is dict:
            tag = data.get("$")
            handler = self._TAGS.get(tag) if type(tag) is str else None
            if handler is None:
                raise BadData("unknown tag")
            keys, decode_tagged = handler
            if set(data) != keys:
                raise BadData(f"wrong fields for a {tag}")
            return decode_tagged(self, data, depth)
        raise BadData("not JSON data")

    def _items(self, data: dict, depth: int) -> list:
        items = data["items"]
        if type(items) is not list:
            raise BadData(f"{data['$']} items must be a list")
        return [self.decode(item, depth + 1) for item in items]

    def _int(self, data, depth):
        digits = data["hex"]
        if type(digits) is not str or not _HEX_INT.fullmatch(digits):
            raise BadData("a malformed big integer")
        self.budget.take(len(digits))
        return int(digits, 16)  # base 16: no digit limit, linear time

    def _float(self, data, depth):
        name = data["v"]
        if type(name) is not str or name not in _SPECIAL_FLOATS:
            raise BadData("a malformed special float")
        return _SPECIAL_FLOATS[name]

    def _complex(self, data, depth):
        parts = [data["re"], data["im"]]
        for part in parts:
            if type(part) not in (int, float) and not (type(part) is dict and part.get("$") == "float"):
                raise BadData("a malformed complex number")
        real, imag = (float(self.decode(part, depth + 1)) for part in parts)
        return complex(real, imag)

    def _fraction(self, data, depth):
        numerator, denominator = (self.decode(data[key], depth + 1) for key in ("n", "d"))
        if type(numerator) is not int or type(denominator) is not int or denominator <= 0:
            raise BadData("a malformed fraction")
        return fractions.Fraction(numerator, denominator)

    def _decimal(self, data, depth):
        text = data["text"]
        if type(text) is not str or not _DECIMAL_TEXT.fullmatch(text):
            raise BadData("a malformed decimal")
        self.budget.string(len(text))
        return decimal.Decimal(text)

    def _ellipsis(self, data, depth):
        return Ellipsis

    def _tuple(self, data, depth):
        return tuple(self._items(data, depth))

    def _set(self, data, depth):
        make = set if data["$"] == "set" else frozenset
        try:
            return make(self._items(data, depth))
        except TypeError:
            raise BadData("a set with an unhashable element") from None

    def _dict(self, data, depth):
        items = data["items"]
        if type(items) is not dict:
            raise BadData("dict items must be an object")
        result = {}
        for key, item in items.items():
            if type(key) is not str:
                raise BadData("a dict key that is not a string")
            self.budget.string(len(key))
            result[key] = self.decode(item, depth + 1)
        return result

    def _array(self, data, depth):
        import numpy

        dtype, shape, size = self._array_layout(numpy, data)
        text = data["data"]
        if type(text) is not str or len(text) != 4 * -(-size // 3):
            raise BadData("array data of the wrong length")
        self.budget.take(size)
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise BadData("array data that is not base64") from None
        if size == 0:
            return numpy.zeros(shape, dtype)
        array = numpy.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)  # bytearray: writable
        _check_array_values(numpy, array)
        return array

    def _series(self, data, depth):
        import pandas

        index = self._index(pandas, data["index"], depth)
        values = self._column(data["values"], depth)
        if len(values) != len(index):
            raise BadData("a Series whose index and values differ in length")
        return pandas.Series(values, index=index, name=self._label(data["name"], depth), copy=False)

    def _data_frame(self, data, depth):
        import pandas

        labels, columns = data["columns"], data["data"]
        if type(labels) is not list or type(columns) is not list or len(labels) != len(columns):
            raise BadData("a DataFrame whose columns and data differ")
        index = self._index(pandas, data["index"], depth)
        values = [self._column(column, depth) for column in columns]
        if any(len(column) != len(index) for column in values):
            raise BadData("a DataFrame whose columns differ in length")
        frame = pandas.DataFrame(dict(enumerate(values)), index=index)
        frame.columns = pandas.Index([self._label(label, depth) for label in labels], dtype=object)
        return frame

    def _index(self, pandas, data, depth):
        if type(data) is not dict or set(data) != {"name", "values"}:
            raise BadData("a malformed pandas index")
        return pandas.Index(self._column(data["values"], depth), name=self._label(data["name"], depth))

    def _column(self, data, depth):
        if type(data) is dict and data.get("$") == "ndarray":
            column = self.decode(data, depth + 1)
            if column.ndim != 1:
                raise BadData("a pandas column that is not one-dimensional")
            return column
        if type(data) is not list:
            raise BadData("a malformed pandas column")
        return [self._label(item, depth + 1) for item in data]

    def _label(self, data, depth):
        value = self.decode(data, depth + 1)
        if value is not None and type(value) not in (bool, int, float, str):
            raise BadData("a pandas label or value that is not a plain value")
        return value

    @staticmethod
    def _array_layout(numpy, data) -> tuple:
        name, shape = data["dtype"], data["shape"]
        if type(name) is not str or not _DTYPE.fullmatch(name):
            raise BadData("an array dtype that is not allowed")
        dtype = numpy.dtype(name)
        if dtype.kind not in _ARRAY_KINDS or dtype.hasobject:
            raise BadData("an array dtype that is not allowed")
        if type(shape) is not list or len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
            raise BadData("a malformed array shape")
        return dtype, tuple(shape), math.prod(shape) * dtype.itemsize

    _TAGS = {
        "int": ({"$", "hex"}, _int),
        "float": ({"$", "v"}, _float),
        "complex": ({"$", "re", "im"}, _complex),
        "Fraction": ({"$", "n", "d"}, _fraction),
        "Decimal": ({"$", "text"}, _decimal),
        "ellipsis": ({"$"}, _ellipsis),
        "tuple": ({"$", "items"}, _tuple),
        "set": ({"$", "items"}, _set),
        "frozenset": ({"$", "items"}, _set),
        "dict": ({"$", "items"}, _dict),
        "ndarray": ({"$", "dtype", "shape", "data"}, _array),
        "Series": ({"$", "name", "index", "values"}, _series),
        "DataFrame": ({"$", "columns", "index", "data"}, _data_frame),
    }


def _check_array_values(numpy, array) -> None:
    """Refuse raw bytes that are no value of the dtype (bools other than 0/1, non-code-points)."""
    if array.dtype.kind == "b" and array.view(numpy.uint8).max() > 1:
        raise BadData("a bool array with values other than True and False")
    if array.dtype.kind == "U" and array.size:
        code_points = array.view(array.dtype.byteorder.replace("|", "=") + "u4")
        if code_points.max() > 0x10FFFF:
            raise BadData("a string array with invalid characters")
