"""Mutation testing of the autograder: wrong variants of the reference solution must lose points.

From the built solution notebook, each answer the bundle exports (``answer_names.json``,
from the questions' ``answers:``) is found as its ``name = ...`` statement and changed
in one way at a time:

- a number (an arithmetic expression of numbers): one more, one less;
- a set of constants: each item removed; each wrong choice the question's prompt quotes
  (```"name"``` in its Markdown) added, or one made-up item when it quotes none;
- a ``keras.Sequential([...])`` model: each layer dropped, each ``Dense`` layer's units one
  more and its activation changed (to ``linear``, or ``relu`` if it had none).

Mutants that give the same notebook are graded once. Each is graded with the bundle like any
submission; one that keeps full marks *survives*: no test notices that answer being wrong.
Answers of other kinds (functions, models built otherwise) get no mutants and are listed.
"""

import ast
import copy
import json
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from harness.layout import ANSWER_NAMES_FILENAME, QUESTION_ORDER_FILENAME
from harness.results import question_scores, scored_tests

from .fixtures import TargetMissed, answer_statement, cells_matching, with_answer
from .grade import grade_submission
from .validate import Built

NUMERIC_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd)


@dataclass(frozen=True)
class Mutant:
    """One wrong variant of the solution: what was changed, and the changed cell."""

    label: str
    cell: int
    source: str


@dataclass(frozen=True)
class MutantOutcome:
    """A mutant's points per question against the reference's; killed if any question lost points."""

    label: str
    got: dict
    full: dict
    results: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def lost(self) -> list[str]:
        return [question for question, points in self.full.items() if self.got.get(question, 0) < points]

    @property
    def killed(self) -> bool:
        return bool(self.lost)


def value_mutations(name: str, value: ast.expr, prompt: str = "") -> list[tuple[str, str]]:
    """``(label, new value source)`` for each wrong variant of an answer's value.

    Example:
    >>> value_mutations("w", ast.parse("784 * 16 + 16", mode="eval").body)
    [('w + 1', '784 * 16 + 16 + 1'), ('w - 1', '784 * 16 + 16 - 1')]
    >>> value_mutations("h", ast.parse("{'a', 'b'}", mode="eval").body, 'Choose from `"a"`, `"b"` or `"c"`.')
    [("h without 'a'", "{'b'}"), ("h without 'b'", "{'a'}"), ("h with 'c'", "{'a', 'b', 'c'}")]
    >>> value_mutations("f", ast.parse("lambda x: x", mode="eval").body)
    []
    """
    if _is_number(value):
        return [(f"{name} {sign} 1", ast.unparse(ast.BinOp(value, op(), ast.Constant(1))))
                for sign, op in (("+", ast.Add), ("-", ast.Sub))]
    if isinstance(value, ast.Set) and all(isinstance(item, ast.Constant) for item in value.elts):
        items = [item.value for item in value.elts]
        removed = [(f"{name} without {item!r}", _set_source([other for other in items if other != item])) for item in items]
        extra = [choice for choice in dict.fromkeys(quoted_choices(prompt)) if choice not in items] or [_made_up(items)]
        return removed + [(f"{name} with {choice!r}", _set_source([*items, choice])) for choice in extra]
    return []


def _is_number(value: ast.expr) -> bool:
    return all(isinstance(node, (ast.BinOp, ast.UnaryOp, *NUMERIC_OPERATORS)) or
               (isinstance(node, ast.Constant) and type(node.value) in (int, float))
               for node in ast.walk(value))


def _set_source(items: list) -> str:
    return "{" + ", ".join(map(repr, items)) + "}" if items else "set()"


def _made_up(items: list):
    strings = [item for item in items if isinstance(item, str)]
    return "not-" + strings[0] if strings else max(items, default=0) + 1


def quoted_choices(markdown: str) -> list[str]:
    """The strings a question's prompt quotes as code: ```"name"``` or ```'name'```.

    Example:
    >>> quoted_choices('- `"epochs"`: the fit argument; `x`, `\\'coefs_\\'`')
    ['epochs', 'coefs_']
    """
    return [double or single for double, single in re.findall(r"""`"([^"`]+)"`|`'([^'`]+)'`""", markdown)]


def layer_mutations(name: str, value: ast.expr) -> list[tuple[str, str]]:
    """``(label, new value source)`` for each wrong variant of a ``Sequential([...])`` model.

    Example:
    >>> model = ast.parse("keras.Sequential([layers.Flatten(), layers.Dense(16, activation='relu')])", mode="eval")
    >>> for label, source in layer_mutations("m", model.body):
    ...     print(label, "->", source.replace(chr(10), " "))
    m: layer 1 Flatten dropped -> keras.Sequential([     layers.Dense(16, activation='relu'), ])
    m: layer 2 Dense dropped -> keras.Sequential([     layers.Flatten(), ])
    m: layer 2 Dense units 17 -> keras.Sequential([     layers.Flatten(),     layers.Dense(17, activation='relu'), ])
    m: layer 2 Dense activation 'linear' -> keras.Sequential([     layers.Flatten(),     layers.Dense(16, activation='linear'), ])
    """
    if not (isinstance(value, ast.Call) and _called(value) == "Sequential" and value.args
            and isinstance(value.args[0], ast.List)):
        return []
    layers = value.args[0].elts
    variants = []
    for index, layer in enumerate(layers):
        kind = _called(layer) if isinstance(layer, ast.Call) else ast.unparse(layer)
        where = f"{name}: layer {index + 1} {kind}"
        variants.append((f"{where} dropped", _sequential(value, layers[:index] + layers[index + 1:])))
        if kind != "Dense":
            continue
        for change, changed in _dense_changes(layer):
            variants.append((f"{where} {change}", _sequential(value, [*layers[:index], changed, *layers[index + 1:]])))
    return variants


def _called(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ast.unparse(call.func)


def _dense_changes(layer: ast.Call) -> list[tuple[str, ast.Call]]:
    changes = []
    units_keyword = next((k for k in layer.keywords if k.arg == "units"), None)
    units = units_keyword.value if units_keyword else (layer.args[0] if layer.args else None)
    if units is not None:
        more = ast.Constant(units.value + 1) if isinstance(units, ast.Constant) else ast.BinOp(units, ast.Add(), ast.Constant(1))
        changed = _replace_in(layer, units, more)
        changes.append((f"units {ast.unparse(more)}", changed))
    activation = next((k for k in layer.keywords if k.arg == "activation"), None)
    new = "relu" if activation is None or (isinstance(activation.value, ast.Constant) and activation.value.value in ("linear", None)) else "linear"
    changed = _replace_in(layer, activation.value, ast.Constant(new)) if activation else ast.Call(
        layer.func, layer.args, [*layer.keywords, ast.keyword("activation", ast.Constant(new))])
    changes.append((f"activation {new!r}", changed))
    return changes


def _replace_in(call: ast.Call, old: ast.expr, new: ast.expr) -> ast.Call:
    return ast.Call(call.func, [new if a is old else a for a in call.args],
                    [ast.keyword(k.arg, new if k.value is old else k.value) for k in call.keywords])


def _sequential(model: ast.Call, layers: list[ast.expr]) -> str:
    rest = [ast.unparse(a) for a in model.args[1:]] + [ast.unparse(k) for k in model.keywords]
    listed = "".join(f"    {ast.unparse(layer)},\n" for layer in layers)
    return f"{ast.unparse(model.func)}([\n{listed}]" + "".join(f", {r}" for r in rest) + ")"


def mutants_of(solution: nbformat.NotebookNode, answer_names: list[str]) -> tuple[list[Mutant], list[str]]:
    """Every distinct mutant of the solution's answers, and the answers that got none."""
    mutants, unmutated, seen = [], [], set()
    for name in dict.fromkeys(answer_names):
        cells = cells_matching(solution, "assigns", name)
        try:
            if len(cells) != 1:
                raise TargetMissed(name)
            source = solution.cells[cells[0]].source
            value = answer_statement(source, name).value
        except TargetMissed:
            unmutated.append(name)
            continue
        variants = value_mutations(name, value, _prompt_before(solution, cells[0])) + layer_mutations(name, value)
        if not variants:
            unmutated.append(name)
        for label, new_value in variants:
            mutated = with_answer(source, name, new_value)
            if (cells[0], mutated) not in seen:
                seen.add((cells[0], mutated))
                mutants.append(Mutant(label, cells[0], mutated))
    return mutants, unmutated


def _prompt_before(notebook, index: int) -> str:
    """The Markdown cells just above a cell: the question's prompt."""
    prompt = []
    while index > 0 and notebook.cells[index - 1].cell_type == "markdown":
        index -= 1
        prompt.insert(0, notebook.cells[index].source)
    return "\n".join(prompt)


def bundle_answer_names(bundle: Path) -> list[str]:
    """The answer names the bundle exports, in the notebook's question order."""
    with zipfile.ZipFile(bundle) as archive:
        listed = set(archive.namelist())
        by_question = json.loads(archive.read(ANSWER_NAMES_FILENAME)) if ANSWER_NAMES_FILENAME in listed else {}
        order = json.loads(archive.read(QUESTION_ORDER_FILENAME)) if QUESTION_ORDER_FILENAME in listed else []
    questions = [q for q in order if q in by_question] + [q for q in by_question if q not in order]
    return [name for question in questions for name in by_question[question]]


class ReferenceNotFull(Exception):
    """The unmutated solution itself loses points, so mutants would prove nothing."""


def run_mutants(built: Built, jobs: int = 2, sandbox: str = "require") -> tuple[list[MutantOutcome], list[str]]:
    """Grade the solution and every mutant of it with the bundle; written to ``dist/<name>/mutants/``."""
    solution = nbformat.read(built.notebooks["solution"], as_version=4)
    mutants, unmutated = mutants_of(solution, bundle_answer_names(built.bundle))
    folder = built.root / "mutants"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.ipynb"):
        old.unlink()
    paths = {"reference": built.notebooks["solution"]}
    for number, mutant in enumerate(mutants, start=1):
        notebook = copy.deepcopy(solution)
        notebook.cells[mutant.cell].source = mutant.source
        paths[mutant.label] = folder / f"mutant-{number:02d}.ipynb"
        nbformat.write(notebook, paths[mutant.label])

    def grade(label: str) -> tuple[str, dict]:
        return label, grade_submission(built.bundle, paths[label], sandbox=sandbox)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        graded = dict(pool.map(grade, paths))
    reference = graded.pop("reference")
    full = {test["name"]: test["max_score"] for test in scored_tests(reference)}
    if question_scores(reference) != full:
        raise ReferenceNotFull(
            f"the solution notebook scores {reference['score']:g} of {sum(full.values()):g}: mutants would "
            f"prove nothing; fix the master first (instructor grade {built.notebooks['solution']} --bundle {built.bundle})")
    return [MutantOutcome(label, question_scores(results), full, results) for label, results in graded.items()], unmutated


def mutant_table(outcomes: list[MutantOutcome]) -> str:
    """One row per mutant: its score, killed or SURVIVED, and the questions that lost points.

    Example:
    >>> print(mutant_table([MutantOutcome("w + 1", {"q1": 0, "q2": 1}, {"q1": 2, "q2": 1}),
    ...                     MutantOutcome("w - 1", {"q1": 2, "q2": 1}, {"q1": 2, "q2": 1})]))
    mutant  score  result    lost points in
    w + 1   1/3    killed    q1
    w - 1   3/3    SURVIVED
    """
    width = max([len("mutant"), *(len(o.label) for o in outcomes)]) + 2
    rows = [f"{'mutant':<{width}}{'score':<7}{'result':<10}lost points in"]
    for outcome in outcomes:
        score = f"{sum(outcome.got.values()):g}/{sum(outcome.full.values()):g}"
        rows.append(f"{outcome.label:<{width}}{score:<7}{'killed' if outcome.killed else 'SURVIVED':<10}{', '.join(outcome.lost)}")
    return "\n".join(row.rstrip() for row in rows)
