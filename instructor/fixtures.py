"""Self-test fixtures declared as edits to the built notebooks, made afresh for every validation.

``<assignment>/submissions/expected.yml`` names each fixture and gives its expected points per
question (``expect``). A fixture is the built student notebook (``from: student``) or the built
solution notebook (``from: solution``) with ``edits`` applied in order, or a real uploaded
notebook or zip (``file:``, a path in ``submissions/``). For example::

    weights-without-biases:
      from: solution
      edits:
        - set: {mlp_16x16_biases: 0}                   # the statement assigning it, rewritten
      expect: {mlp-params: 1, mlp-keras: 3}
    never-trained:
      from: solution
      edits:
        - in: {line: "mlp_keras.fit("}                 # the cell with a line containing this text
          replace: {"%time mlp_keras.fit(": "# mlp_keras.fit("}   # every occurrence
        - in: {assigns: mlp_keras}                     # the cell assigning mlp_keras (or defining it)
          source: "mlp_keras = keras.Sequential([])"   # its whole source
        - in: {tag: my-tag}                            # the cell with this tag
          append: "print(mlp_keras)"                   # lines added at its end
        - insert_after: {line: "import keras"}         # a new cell (or insert_before)
          source: "plt.imshow(X_train[0])"
          type: code                                   # or markdown; code by default
      expect: {mlp-accuracy: 0}
    alice:
      file: alice.ipynb
      expect: {mlp-params: 2}

Values of ``set`` are Python source (quote them when YAML would read them otherwise, e.g.
``"..."``). Every edit must find exactly one target: one ``name = ...`` statement for ``set``,
one cell otherwise, and each text it replaces; anything else is a FixtureError naming the
fixture and the edit, so a fixture the master has moved away from never passes silently.
"""

import ast
import copy
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

BASES = ("student", "solution")
TARGET_KINDS = ("assigns", "tag", "line")
CELL_ACTIONS = ("source", "replace", "append")
INSERTS = ("insert_before", "insert_after")


class FixtureError(Exception):
    """A fixture's declaration is malformed or one of its edits misses its target; the message says which."""


@dataclass(frozen=True)
class Fixture:
    """One self-test submission: a built notebook and edits, or a file, with its expected points."""

    name: str
    expect: dict
    base: str | None = None
    edits: tuple = ()
    file: str | None = None


def read_fixtures(expected_file: Path) -> list[Fixture]:
    """The fixtures ``expected_file`` declares, in its order."""
    declared = yaml.safe_load(expected_file.read_text()) or {}
    if not isinstance(declared, dict):
        raise FixtureError(f"{expected_file}: expected a mapping of fixture names to their declarations")
    return [parse_fixture(str(name), entry) for name, entry in declared.items()]


def parse_fixture(name: str, entry) -> Fixture:
    """One fixture from its YAML entry, checked for shape (not yet against a notebook).

    Example:
    >>> parse_fixture("blank", {"from": "student", "expect": {"q1": 0}})
    Fixture(name='blank', expect={'q1': 0}, base='student', edits=(), file=None)
    >>> parse_fixture("x", {"from": "solution", "edits": [{"in": {"assigns": "a"}}], "expect": {}})
    Traceback (most recent call last):
    ...
    instructor.fixtures.FixtureError: fixture x, edit 1 (in: {assigns: a}): give one of source, replace, append
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("expect"), dict):
        raise FixtureError(f"fixture {name}: give its expected points per question as 'expect: {{question: points}}'")
    unknown = set(entry) - {"from", "edits", "file", "expect"}
    if unknown:
        raise FixtureError(f"fixture {name}: unknown key(s) {', '.join(sorted(unknown))} (from, edits, file, expect)")
    if ("file" in entry) == ("from" in entry):
        raise FixtureError(f"fixture {name}: give either 'from: student' or 'from: solution' (with edits), "
                           "or 'file: <a notebook in submissions/>'")
    if "file" in entry:
        if "edits" in entry:
            raise FixtureError(f"fixture {name}: a file fixture takes no edits; declare it 'from:' a built notebook")
        return Fixture(name, entry["expect"], file=str(entry["file"]))
    if entry["from"] not in BASES:
        raise FixtureError(f"fixture {name}: 'from: {entry['from']}' should be 'student' or 'solution'")
    edits = entry.get("edits") or []
    if not isinstance(edits, list):
        raise FixtureError(f"fixture {name}: 'edits' should be a list of edits")
    for number, edit in enumerate(edits, start=1):
        problem = _shape_problem(edit)
        if problem:
            raise FixtureError(f"fixture {name}, edit {number} ({describe(edit)}): {problem}")
    return Fixture(name, entry["expect"], base=entry["from"], edits=tuple(edits))


def _shape_problem(edit) -> str | None:
    if not isinstance(edit, dict):
        return "an edit is a mapping such as {set: {name: value}} or {in: {assigns: name}, source: ...}"
    if "set" in edit:
        if set(edit) != {"set"} or not isinstance(edit["set"], dict) or not edit["set"]:
            return "'set' takes a mapping of answer names to Python source, and nothing else"
        return None
    inserts = [key for key in INSERTS if key in edit]
    if inserts:
        if len(inserts) > 1 or not set(edit) <= {*inserts, "source", "type"} or "source" not in edit:
            return f"{inserts[0]} takes a target, 'source' and optionally 'type' (code or markdown)"
        if edit.get("type", "code") not in ("code", "markdown"):
            return "'type' should be code or markdown"
        return _target_problem(edit[inserts[0]])
    if "in" not in edit:
        return "an edit starts with set, in, insert_before or insert_after"
    actions = [key for key in CELL_ACTIONS if key in edit]
    if len(actions) != 1 or len(edit) != 2:
        return f"give one of {', '.join(CELL_ACTIONS)}"
    if actions == ["replace"] and not (isinstance(edit["replace"], dict) and edit["replace"]):
        return "'replace' takes a mapping of old text to new text"
    return _target_problem(edit["in"])


def _target_problem(target) -> str | None:
    if not (isinstance(target, dict) and len(target) == 1 and next(iter(target)) in TARGET_KINDS):
        return "a target is one of {assigns: name}, {tag: tag}, {line: text}"
    if "\n" in str(next(iter(target.values()))):
        return "a target's text is one line"
    return None


def describe(edit) -> str:
    """An edit as one short line of YAML, for messages.

    Example:
    >>> describe({"set": {"mlp_16x16_biases": 0}})
    'set: {mlp_16x16_biases: 0}'
    """
    text = yaml.safe_dump(edit, default_flow_style=True, width=10**6, sort_keys=False).strip()
    text = text.removeprefix("{").removesuffix("}") if isinstance(edit, dict) else text
    return text if len(text) <= 90 else text[:87] + "..."


def apply_edits(notebook: nbformat.NotebookNode, fixture: Fixture) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with the fixture's edits applied in order."""
    notebook = copy.deepcopy(notebook)
    for number, edit in enumerate(fixture.edits, start=1):
        try:
            _apply(notebook, edit, number)
        except TargetMissed as missed:
            raise FixtureError(f"fixture {fixture.name}, edit {number} ({describe(edit)}): {missed}") from None
    return notebook


class TargetMissed(Exception):
    """An edit found no target, or more than one."""


def _apply(notebook, edit: dict, number: int) -> None:
    if "set" in edit:
        for name, value in edit["set"].items():
            index = _one_cell(notebook, {"assigns": name})
            notebook.cells[index].source = with_answer(notebook.cells[index].source, name, str(value))
        return
    for key in INSERTS:
        if key in edit:
            index = _one_cell(notebook, edit[key]) + (key == "insert_after")
            maker = nbformat.v4.new_markdown_cell if edit.get("type") == "markdown" else nbformat.v4.new_code_cell
            cell = maker(_text(edit["source"]))
            if (notebook.nbformat, notebook.nbformat_minor) < (4, 5):
                cell.pop("id", None)  # cell ids are invalid before nbformat 4.5
            else:  # the same declaration makes the same file
                cell.id = hashlib.sha256(f"{number}:{cell.source}".encode()).hexdigest()[:8]
            notebook.cells.insert(index, cell)
            return
    cell = notebook.cells[_one_cell(notebook, edit["in"])]
    if "source" in edit:
        cell.source = _text(edit["source"])
    elif "append" in edit:
        cell.source = cell.source.rstrip("\n") + "\n" + _text(edit["append"])
    else:
        for old, new in edit["replace"].items():
            if str(old) not in cell.source:
                raise TargetMissed(f"the cell has no {str(old)!r}")
            cell.source = cell.source.replace(str(old), str(new))


def _text(value) -> str:
    return str(value).rstrip("\n")


def _one_cell(notebook, target: dict) -> int:
    (kind, value), = target.items()
    matches = cells_matching(notebook, kind, str(value))
    if len(matches) != 1:
        what = {"assigns": f"assigns {value}", "tag": f"is tagged {value}", "line": f"has a line containing {value!r}"}[kind]
        raise TargetMissed(f"expected exactly one cell that {what}, found {len(matches)}"
                           + (f" (cells {', '.join(map(str, matches))})" if matches else ""))
    return matches[0]


def cells_matching(notebook, kind: str, value: str) -> list[int]:
    """Indexes of the cells that assign ``value`` (code cells), carry the tag, or have a line containing it.

    Example:
    >>> notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1\\ny = 2"),
    ...                                            nbformat.v4.new_markdown_cell("x = 1")])
    >>> cells_matching(notebook, "assigns", "y"), cells_matching(notebook, "line", "x = 1")
    ([0], [0, 1])
    """
    if kind == "assigns":
        return [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and value in assigned_names(cell.source)]
    if kind == "tag":
        return [i for i, cell in enumerate(notebook.cells) if value in cell.metadata.get("tags", [])]
    return [i for i, cell in enumerate(notebook.cells) if any(value in line for line in cell.source.splitlines())]


def parse_cell(source: str) -> ast.Module | None:
    """A code cell's syntax tree, IPython's magics read as calls (each on its own line); None if not Python.

    Example:
    >>> ast.unparse(parse_cell("%time fit(x)\\ny = 2"))
    "get_ipython().run_line_magic('time', 'fit(x)')\\ny = 2"
    """
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None


def assigned_names(source: str) -> set[str]:
    """Names a cell's top-level statements assign, define or import.

    Example:
    >>> sorted(assigned_names("a = 1\\nb, (c, *d) = f()\\ndef g(): pass\\nif x:\\n    e = 5\\n%time h = 1"))
    ['a', 'b', 'c', 'd', 'g']
    """
    tree = parse_cell(source)
    names = set()
    for statement in tree.body if tree else []:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        targets = statement.targets if isinstance(statement, ast.Assign) else (
            [statement.target] if isinstance(statement, ast.AnnAssign) and statement.value else [])
        for target in targets:
            names |= {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}
    return names


def answer_statement(source: str, name: str) -> ast.Assign:
    """The one top-level statement ``name = ...`` in a cell.

    Example:
    >>> ast.unparse(answer_statement("w = 1\\nb = 2  # two", "b"))
    'b = 2'
    """
    tree = parse_cell(source)
    statements = [s for s in (tree.body if tree else [])
                  if isinstance(s, ast.Assign) and len(s.targets) == 1
                  and isinstance(s.targets[0], ast.Name) and s.targets[0].id == name]
    if len(statements) != 1:
        raise TargetMissed(f"{'no' if not statements else len(statements)} statements of the form '{name} = ...' "
                      "in the cell that assigns it; replace the cell with 'in: {assigns: ...}' and 'source'")
    return statements[0]


def with_answer(source: str, name: str, value: str) -> str:
    """The cell's source with the statement ``name = ...`` (all its lines) rewritten as ``name = value``.

    Example:
    >>> print(with_answer("w = ...  # SOLUTION\\nb = (1 +\\n     2)", "b", "16 + 16"))
    w = ...  # SOLUTION
    b = 16 + 16
    """
    try:
        ast.parse(f"{name} = {value}")
    except SyntaxError:
        raise TargetMissed(f"{value!r} is not a Python expression") from None
    statement = answer_statement(source, name)
    lines = source.splitlines()
    lines[statement.lineno - 1:statement.end_lineno] = [f"{name} = {value}"]
    return "\n".join(lines)


def fixtures_dir(built: Path) -> Path:
    """Where the fixture notebooks of a built assignment (``dist/<name>``) are written.

    Example:
    >>> fixtures_dir(Path("dist/neural-networks"))
    PosixPath('dist/neural-networks/fixtures')
    """
    return built / "fixtures"


def write_fixtures(fixtures: list[Fixture], notebooks: dict[str, Path], submissions: Path, outdir: Path) -> dict[str, Path]:
    """Make every fixture in ``outdir`` (emptied first): ``{fixture name: its file}``.

    ``notebooks`` are the built notebooks by base (``student``, ``solution``); file fixtures
    are copied from ``submissions``.
    """
    missing = [f"{f.name} ({submissions / f.file})" for f in fixtures if f.file and not (submissions / f.file).is_file()]
    if missing:
        raise FixtureError(f"fixture file(s) not found: {', '.join(missing)}")
    bases = {base: nbformat.read(path, as_version=4) for base, path in notebooks.items()}
    made = {}
    for fixture in fixtures:
        if fixture.file:
            made[fixture.name] = (submissions / fixture.file, None)
        else:
            notebook = apply_edits(bases[fixture.base], fixture)
            nbformat.validate(notebook)
            made[fixture.name] = (None, notebook)
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    paths = {}
    for name, (file, notebook) in made.items():
        if file:
            paths[name] = outdir / f"{name}{file.suffix}"
            shutil.copyfile(file, paths[name])
        else:
            paths[name] = outdir / f"{name}.ipynb"
            nbformat.write(notebook, paths[name])
    return paths
