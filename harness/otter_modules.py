"""otter's own modules, imported without running otter's package ``__init__`` first.

``import otter.test_files`` first runs ``otter/__init__.py``, which loads otter's whole
command line (its exporters through nbconvert, its runner through pandas): about 1.2 CPU
seconds in each grading process, three per submission, for modules the harness never uses.
Registering ``otter`` as a package whose ``__init__`` has not run yet skips that work; every
module the harness then imports is otter's own, unchanged. The first use of anything from
the package itself (``otter.Notebook``, ``otter.__version__``) runs the real ``__init__``, so
other code in the same process sees otter exactly as usual.
"""

import importlib
import importlib.util
import sys
import types


def otter_module(name: str) -> types.ModuleType:
    """The otter module ``name``, e.g. ``otter.test_files``, without otter's package ``__init__``.

    Example:
    >>> otter_module("otter.nbmeta_config").NBMetadataConfig().assignment_name is None
    True
    >>> import otter
    >>> otter.Notebook.__name__  # the rest of otter, loaded on first use
    'Notebook'
    """
    if not name.startswith("otter."):
        raise ValueError(f"not an otter module: {name}")
    if "otter" not in sys.modules:
        sys.modules["otter"] = _package_with_deferred_init("otter")
    return importlib.import_module(name)


def _package_with_deferred_init(name: str) -> types.ModuleType:
    spec = importlib.util.find_spec(name)
    package = importlib.util.module_from_spec(spec)  # __path__, __file__, __spec__: not executed yet

    def finish_init(attribute: str):
        # PEP 562: called only for names the package does not have yet.
        del package.__getattr__
        spec.loader.exec_module(package)
        try:
            return package.__dict__[attribute]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None

    package.__getattr__ = finish_init
    return package
