"""Grade one submission with a built bundle, the way Gradescope does, without Docker.

Gradescope unpacks the bundle into ``/autograder/source``, puts the upload in
``/autograder/submission``, runs ``run_autograder`` and reads
``/autograder/results/results.json``. This lays out the same tree in a temporary folder
and runs the bundle's own ``run_otter.py`` with this environment's Python (in place of
``run_autograder``'s conda activation, and of the installs ``setup.sh`` would make).
The bundle and the submission are only read.

The student's code runs sandboxed (``harness.sandbox``): bubblewrap is required unless the
caller passes ``sandbox="none"`` (the CLI's ``--no-sandbox``).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from harness.layout import LIMITS_FILENAME
from harness.results import scored_tests
from harness.limits import GradingLimits
from harness.sandbox import SANDBOX_ENV


class GradingError(Exception):
    """The bundle or the submission path cannot be used, or the grader wrote no results; the message says why."""


class GradingRefused(GradingError):
    """The bundle's grader refused to run student code here (no sandbox); nothing was graded."""


def grade_submission(bundle: Path, submission: Path, output: Path | None = None, limit_overrides=None,
                     sandbox: str = "require") -> dict:
    """Grade ``submission`` (a notebook, zip or any file a student uploaded) with ``bundle``.

    Returns the results.json dictionary, and also writes it to ``output`` if given.

    Example:
    >>> results = grade_submission(Path("dist/neural-networks/autograder/neural-networks-autograder.zip"),
    ...                            Path("my-notebook.ipynb"))  # doctest: +SKIP
    >>> results["score"]                                      # doctest: +SKIP
    10.0
    """
    if not zipfile.is_zipfile(bundle):
        raise GradingError(f"{bundle} is not an autograder zip; build one with: instructor build assignments/<name>")
    if not submission.exists():
        raise GradingError(f"submission not found: {submission}")
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        root = Path(tmp) / "autograder"
        source, uploaded, results = root / "source", root / "submission", root / "results"
        for folder in (source, uploaded, results):
            folder.mkdir(parents=True)
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(source)
        if limit_overrides:
            limits = GradingLimits.read(source / LIMITS_FILENAME).updated(limit_overrides, origin="command line")
            (source / LIMITS_FILENAME).write_text(limits.to_json())
        if submission.is_dir():
            shutil.copytree(submission, uploaded, dirs_exist_ok=True)
        else:
            shutil.copyfile(submission, uploaded / submission.name)
        completed = subprocess.run(
            [sys.executable, str(source / "run_otter.py")], cwd=root, capture_output=True, text=True,
            env={**os.environ, SANDBOX_ENV: sandbox},
        )
        results_file = results / "results.json"
        refusal = completed.stderr.strip().splitlines()[-1:] if completed.returncode else []
        if refusal and refusal[0].startswith("grading refused: "):
            raise GradingRefused(refusal[0].removeprefix("grading refused: "))
        if completed.returncode != 0 or not results_file.is_file():
            raise GradingError(
                f"the bundle's grader wrote no results.json for {submission} (exit status "
                f"{completed.returncode}); its output ends with:\n{completed.stderr[-3000:] or completed.stdout[-3000:]}"
            )
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(results_file, output)
        return json.loads(results_file.read_text())


def score_table(results: dict) -> str:
    """A plain-text table of a results.json: one row per question, then the total.

    Example:
    >>> print(score_table({"score": 1, "tests": [{"name": "q1", "score": 1, "max_score": 2, "status": "failed"}]}))
    question    score
    q1          1 / 2
    total       1 / 2
    """
    scored = scored_tests(results)
    width = max([len(t["name"]) for t in scored] + [8]) + 4
    rows = [f"{'question':<{width}}score"]
    rows += [f"{t['name']:<{width}}{t['score']:g} / {t['max_score']:g}" for t in scored]
    possible = sum(t["max_score"] for t in scored)
    rows.append(f"{'total':<{width}}{results['score']:g} / {possible:g}")
    rows += [f"(not in the total) {t['name']}" for t in results["tests"] if t not in scored]
    return "\n".join(rows)
