"""Private helpers that put received values and counts into the checks' messages."""


def _describe(value):
    """A short phrase for a received value, e.g. "float 7.5", "str '7'" or "NumPy array([7])".

    Example:
    >>> import numpy as np
    >>> [_describe(v) for v in (7.5, "7", np.float32(7.5), np.array(True), None)]
    ['float 7.5', "str '7'", 'float32 7.5', 'NumPy array(True)', 'None']
    """
    if value is Ellipsis:
        return "`...` (the placeholder to replace with your answer)"
    if type(value).__name__ == "ndarray":  # repr shows NumPy's shape and dtype: array(7.0)
        text = " ".join(repr(value).split())
        return f"NumPy {text}" if len(text) <= 60 else f"NumPy {text[:59]}…"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:59] + "…"
    kind = type(value).__name__
    return text if value is None or text.startswith(kind) else f"{kind} {text}"


def _plural(count, noun):
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _join(items):
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
