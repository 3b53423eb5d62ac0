"""Plain otter for the side-by-side tests (test_otter_tutorial.py, test_otter_masters.py):
``otter assign`` and ``otter run`` as an instructor runs them, and notebooks derived from a
built one as a student could write them."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat

from harness.results import question_scores

OTTER = Path(sys.executable).parent / "otter"


def run_otter(*arguments, cwd: Path) -> None:
    """The ``otter`` command; a failure shows otter's own output."""
    completed = subprocess.run([str(OTTER), *map(str, arguments)], capture_output=True, text=True, cwd=cwd)
    if completed.returncode != 0:
        raise AssertionError(f"otter {arguments[0]} failed ({completed.returncode}):\n{completed.stderr[-3000:]}")


def otter_assign(master: Path, output: Path) -> Path:
    """Plain ``otter assign`` without PDFs or its self-test; the autograder zip it made."""
    output.parent.mkdir(parents=True, exist_ok=True)
    run_otter("assign", "--no-pdfs", "--no-run-tests", master, output, cwd=output.parent)
    (bundle,) = (output / "autograder").glob("*.zip")
    return bundle


def otter_run_scores(bundle: Path, submission: Path, output: Path) -> dict:
    """Per question, the score plain ``otter run`` gives ``submission`` (its results.json in ``output``)."""
    output.mkdir(parents=True)
    run_otter("run", "-a", bundle, "-o", output, submission, cwd=output)
    return question_scores(json.loads((output / "results.json").read_text()))


def edited_notebook(notebook: Path, replacements: dict, destination: Path) -> Path:
    """``notebook`` with each ``old: new`` of ``replacements`` made in the one code cell holding
    ``old``, written to ``destination`` (a valid notebook: checked)."""
    edited = nbformat.read(notebook, as_version=nbformat.NO_CONVERT)
    for old, new in replacements.items():
        cells = [cell for cell in edited.cells if cell.cell_type == "code" and old in cell.source]
        assert len(cells) == 1, f"{notebook.name}: {len(cells)} code cells hold {old!r}"
        cells[0].source = cells[0].source.replace(old, new)
    destination.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(edited, destination)
    nbformat.validate(nbformat.read(destination, as_version=nbformat.NO_CONVERT))
    return destination
