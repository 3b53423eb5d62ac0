"""The one MNIST loader, for students' notebooks and for the autograder's tests.

Every source is verified by content: the sha256 of each array's raw bytes must match
the published MNIST, whatever container (compressed or not) holds the arrays. So Keras's
own download and any re-saved copy are accepted, and a wrong, truncated or tampered
file is refused with an error that names it; it is never silently replaced.
"""

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

ENV_VARIABLE = "MNIST_NPZ"
# Keras's own source for mnist.npz (keras.datasets.mnist.load_data): where to get the file
# on a connected machine for working offline.
DOWNLOAD_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"

EXPECTED_ARRAYS = {
    "x_train": ((60000, 28, 28), "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
    "y_train": ((60000,), "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
    "x_test": ((10000, 28, 28), "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
    "y_test": ((10000,), "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
}

_HOW_TO_FIX = (
    f"Point {ENV_VARIABLE} at a good copy of mnist.npz (Keras layout), or delete the bad file "
    "so that Keras can download MNIST again."
)


class MNISTError(RuntimeError):
    """MNIST could not be found, or a file claiming to be MNIST is not the real data set."""

    def _render_traceback_(self):
        # IPython calls this instead of printing the traceback: in a notebook the student sees
        # the one message that says what to do, not the loader's frames above it.
        return [f"{type(self).__name__}: {self}"]


def keras_cache_path() -> Path:
    """Where Keras caches its download: ``$KERAS_HOME/datasets/mnist.npz`` or ``~/.keras/...``.

    Example:
    >>> keras_cache_path().name
    'mnist.npz'
    """
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "datasets" / "mnist.npz"


def load_mnist(path=None):
    """Load MNIST as uint8 arrays in Keras layout: ``(x_train, y_train), (x_test, y_test)``.

    Looks in this order: ``path`` (or the ``MNIST_NPZ`` environment variable), Keras's
    cache, Keras's own download. The caller scales the pixels.

    Example:
    >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
    >>> x_train.shape, x_train.dtype                           # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    arrays = _read_verified(mnist_file(path), EXPECTED_ARRAYS)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist_test(path=None):
    """Load only MNIST's 10,000 test images and labels, ``(x_test, y_test)``, as uint8.

    Found and verified as :func:`load_mnist` does, without reading the training images:
    the autograder evaluates students' models with it, while their training data is still
    in memory.

    Example:
    >>> x_test, y_test = load_mnist_test()  # doctest: +SKIP
    >>> x_test.shape, y_test.shape          # doctest: +SKIP
    ((10000, 28, 28), (10000,))
    """
    arrays = _read_verified(mnist_file(path), ("x_test", "y_test"))
    return arrays["x_test"], arrays["y_test"]


def verified_mnist_file(path=None) -> Path:
    """:func:`mnist_file`, after checking every array of it: what a build may ship.

    Example:
    >>> verified_mnist_file("/data/mnist.npz")  # doctest: +SKIP
    PosixPath('/data/mnist.npz')
    """
    found = mnist_file(path)
    _read_verified(found, EXPECTED_ARRAYS)
    return found


def mnist_file(path=None) -> Path:
    """The MNIST file :func:`load_mnist` reads, as an absolute path, downloading it into
    Keras's cache if needed. A relative path (``MNIST_NPZ=../data/mnist.npz``) is taken from
    the current folder, so the result stays valid for code that runs elsewhere.

    The file is not verified here; :func:`load_mnist` verifies what it reads.

    Example:
    >>> mnist_file("/data/mnist.npz")  # doctest: +SKIP
    PosixPath('/data/mnist.npz')
    """
    explicit = path or os.environ.get(ENV_VARIABLE)
    if explicit:
        source = Path(explicit)
        if not source.is_file():
            origin = "the path given" if path else ENV_VARIABLE
            raise MNISTError(
                f"MNIST file not found: {source} (from {origin}). "
                "Check the path, or unset it to use Keras's cache or download."
            )
        return source.resolve()
    cached = keras_cache_path()
    if not cached.is_file():
        _download_into_keras_cache()
    return cached


def _read_verified(source: Path, names) -> dict:
    if not zipfile.is_zipfile(source):
        raise MNISTError(
            f"{source} is not an .npz file (it is not a zip archive; "
            f"{source.stat().st_size:,} bytes). {_HOW_TO_FIX}"
        )
    try:
        with np.load(source, allow_pickle=False) as archive:
            missing = sorted(set(names) - set(archive.files))
            if missing:
                raise MNISTError(
                    f"{source} is missing the array(s) {', '.join(missing)} "
                    f"(it has {', '.join(sorted(archive.files)) or 'none'}). {_HOW_TO_FIX}"
                )
            arrays = {name: archive[name] for name in names}
    except MNISTError:
        raise
    except Exception as error:
        # A truncated or corrupt archive fails inside zipfile/zlib with messages like
        # "Bad CRC-32" or "Error -3 while decompressing data".
        raise MNISTError(f"{source} cannot be read ({error}); it may be truncated. {_HOW_TO_FIX}") from None
    _verify(arrays, source)
    return arrays


def _verify(arrays, source):
    for name, array in arrays.items():
        shape, expected_sha256 = EXPECTED_ARRAYS[name]
        if array.dtype != np.uint8 or array.shape != shape:
            raise MNISTError(
                f"{source}: {name} is {array.dtype} {array.shape}, expected uint8 {shape}. {_HOW_TO_FIX}"
            )
        # Hashing the array's own buffer verifies content without copying the pixels.
        digest = hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()
        if digest != expected_sha256:
            raise MNISTError(
                f"{source}: {name} does not match MNIST (sha256 {digest[:12]}…, expected "
                f"{expected_sha256[:12]}…); the file was modified or is another data set. {_HOW_TO_FIX}"
            )


def root_cause(error: BaseException) -> str:
    """The innermost exception behind ``error``, as one line: what actually went wrong.

    Example:
    >>> try:
    ...     try:
    ...         raise ConnectionRefusedError(111, "Connection refused")
    ...     except OSError as refused:
    ...         raise Exception("URL fetch failure on https://example.org/mnist.npz") from refused
    ... except Exception as error:
    ...     print(root_cause(error))
    ConnectionRefusedError: [Errno 111] Connection refused
    """
    while error.__cause__ or error.__context__:
        error = error.__cause__ or error.__context__
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _download_into_keras_cache():
    # Imported here: Keras (and TensorFlow behind it) takes seconds to import, and only
    # this last resort needs it.
    import keras

    try:
        keras.datasets.mnist.load_data()
    except Exception as error:
        # Keras's download error wraps urllib's, which wraps the socket's: tracebacks that each
        # say "no network" again. The innermost one says why, in a line.
        raise MNISTError(
            f"MNIST is not available: Keras could not download it ({root_cause(error)}), {ENV_VARIABLE} is not "
            f"set, and Keras's cache {keras_cache_path()} does not exist. Connect to the internet and "
            f"run this again, or work offline: save {DOWNLOAD_URL} as {keras_cache_path()}, or set "
            f"{ENV_VARIABLE} to a copy (in the notebook: %env {ENV_VARIABLE}=/path/to/mnist.npz)."
        ) from None
    if not keras_cache_path().is_file():
        raise MNISTError(
            f"Keras downloaded MNIST but not to {keras_cache_path()} (is that folder writable?). "
            f"Set {ENV_VARIABLE} to the downloaded file."
        )
