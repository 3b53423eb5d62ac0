"""Which notebook variables each question's tests read: what the grader exports from the kernel.

A master notebook names them per question (``answers: [name, ...]`` in its ``BEGIN QUESTION``
cell; otter ignores the key). For a plain otter assignment, which names none, they are
derived from the tests' code: every name the tests read but do not assign, import or find
among Python's builtins, and the names given as strings to ``globals().get(...)``,
``globals()[...]`` or ``check_defined(globals(), ...)``. An exception-style test (otter's
``@test_case`` functions) reads the names of its function's parameters, which otter fills from
the notebook.
"""

import ast
import builtins
import doctest
import inspect


def names_read_by_case(body) -> set[str]:
    """Global names an otter test case's ``body`` reads from the notebook: a doctest or Python
    source (:func:`names_read_by`), or an exception-style test (:func:`names_passed_to`)."""
    if isinstance(body, str):
        return names_read_by(body)
    return names_passed_to(body.test_func)


def names_passed_to(test_function) -> set[str]:
    """The notebook names otter passes an exception-style test function: one per parameter
    (otter's ``test_case.call_func``). A parameter ``env`` gets the whole namespace: the names
    read through it are taken to be the identifier strings in the function's code.

    Example:
    >>> def test_values(np, z):
    ...     assert np.allclose(z, [1, 2])
    >>> sorted(names_passed_to(test_values))
    ['np', 'z']
    >>> def test_env(env):
    ...     assert env["square"](3) == env.get("nine")
    >>> sorted(names_passed_to(test_env))
    ['nine', 'square']
    """
    names = set(inspect.signature(test_function).parameters)
    if "env" in names:
        names.discard("env")
        names |= _identifier_constants(test_function.__code__)
    return names


def _identifier_constants(code) -> set[str]:
    found = set()
    for constant in code.co_consts:
        if isinstance(constant, str) and constant.isidentifier():
            found.add(constant)
        elif inspect.iscode(constant):
            found |= _identifier_constants(constant)
    return found


def names_read_by(test_code: str) -> set[str]:
    """Global names that ``test_code`` (Python, or an OK-format doctest) reads from the notebook.

    Example:
    >>> sorted(names_read_by(">>> import math\\n>>> x = 3\\n>>> assert area(x) == math.pi * x ** 2"))
    ['area']
    >>> sorted(names_read_by('from student.checks import check_defined\\n'
    ...                      'v = check_defined(globals(), "weights") and ok(globals().get("biases"))'))
    ['biases', 'ok', 'weights']
    """
    tree = ast.parse(_python_source(test_code))
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Call):
            read |= _names_given_as_strings(node)
        elif isinstance(node, ast.Subscript) and _is_globals_call(node.value):
            read |= _string_constants([node.slice])
    return read - bound - set(dir(builtins)) - {"__name__", "__file__"}


def _python_source(test_code: str) -> str:
    examples = doctest.DocTestParser().get_examples(test_code)
    return "".join(example.source for example in examples) if examples else test_code


def _names_given_as_strings(call: ast.Call) -> set[str]:
    function = call.func
    if isinstance(function, ast.Attribute) and function.attr == "get" and _is_globals_call(function.value):
        return _string_constants(call.args[:1])
    if call.args and _is_globals_call(call.args[0]):
        return _string_constants(call.args[1:])
    return set()


def _is_globals_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "globals"


def _string_constants(nodes) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier()}
