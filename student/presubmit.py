"""The pre-submit check: run the saved notebook the way the grader will, before the zip is made.

The grader does not run the notebook as the student did. It skips the demonstration cells
(tagged ``otter_ignore``), runs every other cell once, top to bottom, in a fresh kernel, under
a time limit per cell. An answer that leans on a skipped cell, on a cell run out of order, or
on a value typed in a cell since deleted, passes every check in the student's session and
scores 0 once submitted. Here the saved file runs the grader's way, with otter's own
preparation (``GradingPreprocessor``), in a kernel of its own; the student is told, before
any upload, of every cell that fails there, every public check that fails, and every answer
whose value differs from the one in their session.

This runs on the student's machine, on their own code: it is advice, never a grade.

``python -m student.presubmit NOTEBOOK REPORT`` runs one notebook and writes REPORT (JSON).
"""

import ast
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKIP_TAG = "otter_ignore"
METADATA_KEY = "grading"
"""Notebook metadata the build writes: ``{"answers": {question: [names]}, "limits": {...}}``."""
CELL_NUMBER_KEY = "presubmit_cell_number"
VALUE_CHARS = 200


def plain_value(value) -> str | None:
    """A comparable text for an answer that is plain data, or None for anything else (models, functions).

    Example:
    >>> plain_value({"b", "a"}), plain_value(784), plain_value([1.5, "x"])
    ("{'a', 'b'}", '784', "[1.5, 'x']")
    >>> plain_value(len) is None
    True
    """
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()  # a NumPy scalar or 0-d array
    if value is None or isinstance(value, (bool, int, float, complex, str)):
        text = repr(value)
    elif isinstance(value, (set, frozenset)):
        items = [plain_value(item) for item in value]
        text = None if None in items else "{" + ", ".join(sorted(items)) + "}"
    elif isinstance(value, (list, tuple)):
        items = [plain_value(item) for item in value]
        text = None if None in items else repr(type(value)(_Raw(item) for item in items))
    elif isinstance(value, dict):
        pairs = [(plain_value(k), plain_value(v)) for k, v in value.items()]
        text = None if any(None in pair for pair in pairs) else "{" + ", ".join(f"{k}: {v}" for k, v in sorted(pairs)) + "}"
    else:
        return None
    return text if text is None or len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


class _Raw(str):
    def __repr__(self):
        return str(self)


def session_values(namespace: dict, names) -> dict[str, str | None]:
    """Each answer name's plain value in ``namespace``; missing names are left out."""
    return {name: plain_value(namespace[name]) for name in names if name in namespace}


def answer_names(notebook) -> list[str]:
    """The answer names the build wrote into the notebook's metadata, sorted (none without them).

    Example:
    >>> import nbformat
    >>> answer_names(nbformat.v4.new_notebook(metadata={METADATA_KEY: {"answers": {"q1": ["b", "a"], "q2": ["a"]}}}))
    ['a', 'b']
    """
    declared = notebook.metadata.get(METADATA_KEY, {}).get("answers", {})
    return sorted({name for names in declared.values() for name in names})


def grading_limits(notebook) -> tuple[float, float]:
    """The grader's limit per cell and for the whole notebook, in seconds, from the notebook's metadata."""
    limits = notebook.metadata.get(METADATA_KEY, {}).get("limits", {})
    return limits.get("cell_timeout", 180), limits.get("total_timeout", 420)


def check_saved_notebook(notebook_path: Path, notebook) -> dict:
    """Run ``notebook_path`` (read as ``notebook``) as the grader will, in a process of its own; its report (see :func:`run`)."""
    notebook_path = Path(notebook_path)
    budget = grading_limits(notebook)[1] + 120
    with tempfile.TemporaryDirectory(prefix="presubmit-") as folder:
        report_path = Path(folder) / "report.json"
        try:
            subprocess.run(
                [sys.executable, "-m", "student.presubmit", str(notebook_path.resolve()), str(report_path)],
                cwd=notebook_path.resolve().parent, timeout=budget, capture_output=True, check=False,
            )
        except subprocess.TimeoutExpired:
            return {"failed": f"it was still running after {budget:g} s, longer than the grader allows"}
        if not report_path.exists():
            return {"failed": "the run stopped before it could report (did the kernel crash?)"}
        return json.loads(report_path.read_text())


def problems(report: dict, in_session: dict[str, str | None], skipped: dict[str, list[int]] | None = None) -> list[str]:
    """What the student must know before submitting, one sentence each, from a :func:`run` report.

    ``in_session`` holds the answers' plain values in the student's session, ``skipped`` the
    names each skipped cell assigns (by name: cell numbers).

    Example:
    >>> report = {"errors": [{"cell": 7, "line": "weights = w.size", "error": "NameError: name 'w' is not defined",
    ...     "name": "w", "assigns": ["weights"]}], "checks": {}, "values": {}, "missing": ["weights"],
    ...     "timed_out": [], "seconds": 3.0, "budget": 420}
    >>> for line in problems(report, {"weights": "784"}, {"w": [5]}): print(line)
    Cell 7 (`weights = w.size`), which assigns `weights`, raises NameError: name 'w' is not defined. `w` is made only in cell 5, a demonstration cell that grading skips.
    `weights` has a value in your session but none when your saved notebook runs: the grader will find no answer.
    """
    if report.get("failed"):
        return [f"Your saved notebook could not be run the way the grader runs it: {report['failed']}."]
    skipped = skipped or {}
    lines = []
    for error in report["errors"]:
        assigns = ", ".join(f"`{name}`" for name in error["assigns"])
        where = f"Cell {error['cell']} (`{error['line']}`)" + (f", which assigns {assigns}," if assigns else "")
        line = f"{where} raises {error['error']}."
        if error.get("name") in skipped:
            cells = " and ".join(map(str, skipped[error["name"]]))
            plural = "demonstration cells" if len(skipped[error["name"]]) > 1 else "a demonstration cell"
            line += f" `{error['name']}` is made only in cell {cells}, {plural} that grading skips."
        lines.append(line)
    for cell in report["timed_out"]:
        lines.append(f"Cell {cell} ran past the grader's limit of {report['cell_timeout']:g} s per cell and was stopped.")
    if report["seconds"] > report["budget"]:
        lines.append(
            f"Your notebook took {report['seconds']:.0f} s to run; the grader allows {report['budget']:g} s in all, "
            "so the last cells would not run."
        )
    for question, messages in report["checks"].items():
        lines += [f"Public check `{question}` fails: {message}" for message in messages]
    for name in report["missing"]:
        if name in in_session:
            lines.append(
                f"`{name}` has a value in your session but none when your saved notebook runs: the grader will find no answer."
            )
    for name, saved in report["values"].items():
        mine = in_session.get(name)
        if saved is not None and mine is not None and mine != saved:
            lines.append(
                f"`{name}` is {mine} in your session but {saved} when your saved notebook runs; the grader grades {saved}."
            )
    return lines


def skipped_assignments(notebook) -> dict[str, list[int]]:
    """Each name assigned in a cell that grading skips, with those cells' numbers (from 1).

    Example:
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("w = 3", metadata={"tags": [SKIP_TAG]})])
    >>> skipped_assignments(nb)
    {'w': [1]}
    """
    found: dict[str, list[int]] = {}
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code" and is_skipped(cell):
            for name in sorted(assigned_names(cell.source)):
                found.setdefault(name, []).append(number)
    return found


def is_skipped(cell) -> bool:
    """Whether grading skips ``cell`` (otter's ``otter_ignore`` tag)."""
    return SKIP_TAG in cell.get("metadata", {}).get("tags", [])


def run(notebook_path: Path, report_path: Path) -> None:
    """Execute the saved notebook as the grader does and write the report.

    The report: ``errors`` (cell, its first line, the error, the missing name of a NameError,
    the answers it assigns), ``timed_out`` cells, ``checks`` (failing public checks' messages by
    question), ``values`` (the answers' plain values), ``missing`` answers, ``seconds`` and the
    grader's ``budget`` and ``cell_timeout``.
    """
    import nbclient
    import nbformat
    from otter.execute.preprocessor import GradingPreprocessor

    notebook = nbformat.read(notebook_path, as_version=4)
    answers = answer_names(notebook)
    cell_timeout, budget = grading_limits(notebook)
    sources = [cell.source for cell in notebook.cells]  # otter's preparation edits the notebook in place
    for number, cell in enumerate(notebook.cells, start=1):
        cell.metadata[CELL_NUMBER_KEY] = number
    with tempfile.TemporaryDirectory(prefix="presubmit-tests-") as tests_dir:
        _write_public_tests(notebook, notebook_path.parent, Path(tests_dir))
        prepared, _ = GradingPreprocessor(
            test_dir=tests_dir, tests_glob=[], results_path="", seed=None, seed_variable=None,
            logging_server_host="127.0.0.1", logging_server_port=9, force_python3_kernel=True,
        ).preprocess(notebook, {})
        values_path = Path(tests_dir) / "values.json"
        prepared.cells[-1] = nbformat.v4.new_code_cell(
            "from student.presubmit import _report_from_kernel\n"
            f"_report_from_kernel(globals(), {answers!r}, {str(tests_dir)!r}, {str(values_path)!r})\n"
        )
        client = nbclient.NotebookClient(
            prepared, timeout=cell_timeout, allow_errors=True, interrupt_on_timeout=True, kernel_name="python3",
            resources={"metadata": {"path": str(notebook_path.parent)}},
        )
        started = time.monotonic()
        client.execute()
        seconds = time.monotonic() - started
        from_kernel = json.loads(values_path.read_text()) if values_path.exists() else {"values": {}, "missing": answers, "checks": {}}
    errors, timed_out = [], []
    for cell in prepared.cells:
        number = cell.metadata.get(CELL_NUMBER_KEY)
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if number is None or error is None:
            continue
        if error["ename"] == "KeyboardInterrupt":
            timed_out.append(number)
            continue
        errors.append({
            "cell": number,
            "line": _first_line(sources[number - 1]),
            "error": f"{error['ename']}: {error['evalue']}",
            "name": _missing_name(error),
            "assigns": sorted(assigned_names(sources[number - 1]) & set(answers)),
        })
    report_path.write_text(json.dumps({
        "errors": errors, "timed_out": timed_out, **from_kernel,
        "seconds": seconds, "budget": budget, "cell_timeout": cell_timeout,
    }, indent=1))


def _report_from_kernel(namespace: dict, answers: list[str], tests_dir: str, values_path: str) -> None:
    """In the pre-submit kernel, after the notebook: the answers' values and the public checks' failures."""
    from otter.execute import Checker

    for test in sorted(Path(tests_dir).glob("*.py")):
        Checker.check_if_not_already_checked(str(test))
    checks = {}
    for result in Checker.get_results():
        failed = [r.message or "" for r in result.test_case_results if not r.passed and not r.test_case.hidden]
        if failed:
            checks[result.name] = [_last_line(message) for message in failed]
    Path(values_path).write_text(json.dumps({
        "values": {name: plain_value(namespace[name]) for name in answers if name in namespace},
        "missing": [name for name in answers if name not in namespace],
        "checks": checks,
    }))


def _write_public_tests(notebook, folder: Path, tests_dir: Path) -> None:
    """The public tests, as otter test files: from the notebook's metadata, else its ``tests/`` folder."""
    in_metadata = notebook.metadata.get("otter", {}).get("tests")
    if in_metadata:
        for name, spec in in_metadata.items():
            (tests_dir / f"{name}.py").write_text(f"OK_FORMAT = True\n\ntest = {spec!r}\n")
    elif (folder / "tests").is_dir():
        for path in (folder / "tests").glob("*.py"):
            (tests_dir / path.name).write_bytes(path.read_bytes())


def assigned_names(source: str) -> set[str]:
    """Names a cell assigns real values to; ``name = ...`` is the unanswered placeholder.

    Example:
    >>> sorted(assigned_names("weights = w.size\\nbiases = ...\\n%matplotlib inline"))
    ['weights']
    """
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set()
    names, placeholders = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis:
            placeholders |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names - placeholders


def _missing_name(error: dict) -> str | None:
    if error["ename"] != "NameError":
        return None
    parts = error["evalue"].split("'")
    return parts[1] if len(parts) >= 3 else None


def _first_line(source: str) -> str:
    lines = [line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    return (lines[0][:60] + ("…" if len(lines[0]) > 60 else "")) if lines else "…"


def _last_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "it fails"


if __name__ == "__main__":
    run(Path(sys.argv[1]), Path(sys.argv[2]))
