"""Prove the autograder right: grade known submissions with the built bundle, compare scores.

``<assignment>/submissions/expected.yml`` maps each fixture notebook to its expected
points per question; the key ``student-notebook`` stands for the built student notebook
(the blank one). Every submission goes through the real pipeline (``instructor grade``).
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .build import find_master
from .grade import grade_submission

EXPECTED_FILENAME = "expected.yml"
BLANK_KEY = "student-notebook"


@dataclass(frozen=True)
class Outcome:
    """Expected and actual points of one submission, per question."""

    submission: str
    expected: dict
    got: dict
    results: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def matches(self) -> bool:
        return all(self.got.get(question) == points for question, points in self.expected.items())


def validate(assignment_dir: Path, dist_root: Path = Path("dist"), jobs: int = 2, sandbox: str = "require") -> list[Outcome]:
    """Grade every submission listed in ``expected.yml`` with the built bundle.

    Example:
    >>> outcomes = validate(Path("assignments/neural-networks"))  # doctest: +SKIP
    >>> all(o.matches for o in outcomes)                            # doctest: +SKIP
    True
    """
    master = find_master(assignment_dir)
    expected_file = assignment_dir / "submissions" / EXPECTED_FILENAME
    if not expected_file.is_file():
        raise FileNotFoundError(f"{expected_file} not found: list each fixture submission's expected points there")
    expected = yaml.safe_load(expected_file.read_text())
    name = _assignment_name(master)
    built = dist_root / name
    bundle = built / "autograder" / f"{name}-autograder.zip"
    if not bundle.is_file():
        raise FileNotFoundError(f"{bundle} not found: build first with 'instructor build {assignment_dir}'")

    def path_of(key: str) -> Path:
        return built / "student" / master.name if key == BLANK_KEY else assignment_dir / "submissions" / key

    missing = [key for key in expected if not path_of(key).exists()]
    if missing:
        raise FileNotFoundError(f"submissions listed in {expected_file} but not found: {', '.join(missing)}")

    def run(key: str) -> Outcome:
        results = grade_submission(bundle, path_of(key), sandbox=sandbox)
        return Outcome(key, expected[key], {test["name"]: test["score"] for test in results["tests"]}, results)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run, expected))


def _assignment_name(master: Path) -> str:
    import nbformat

    from .build import CONFIG_MARKER

    config_cell = nbformat.read(master, as_version=4).cells[0]
    return yaml.safe_load(config_cell.source[len(CONFIG_MARKER):])["name"]


def outcome_table(outcomes: list[Outcome]) -> str:
    """One row per submission, one column per question: ``expected/got``, ``✗`` on a mismatch.

    Example:
    >>> print(outcome_table([Outcome("a.ipynb", {"q1": 2, "q2": 1}, {"q1": 0, "q2": 1})]))
    submission  q1       q2
    a.ipynb     2/0 ✗    1/1      MISMATCH
    """
    questions = list(dict.fromkeys(q for o in outcomes for q in o.expected))
    width = max(len(o.submission) for o in [*outcomes, Outcome("submission", {}, {})]) + 2
    columns = [max(len(q), 7) + 2 for q in questions]
    header = f"{'submission':<{width}}" + "".join(f"{q:<{w}}" for q, w in zip(questions, columns))
    rows = [header]
    for outcome in outcomes:
        cells = []
        for question, column in zip(questions, columns):
            expected, got = outcome.expected.get(question), outcome.got.get(question)
            text = "" if expected is None else f"{expected:g}/{'-' if got is None else format(got, 'g')}"
            text += "" if expected is None or got == expected else " ✗"
            cells.append(f"{text:<{column}}")
        rows.append(f"{outcome.submission:<{width}}" + "".join(cells) + ("ok" if outcome.matches else "MISMATCH"))
    return "\n".join(row.rstrip() for row in rows)
