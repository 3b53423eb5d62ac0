"""Prove the autograder right: grade known submissions with the built bundle, compare scores.

``<assignment>/submissions/expected.yml`` declares the fixtures and each one's expected points
per question (format: ``instructor.fixtures``). Every validation makes the fixture notebooks
afresh from the current build, into ``dist/<name>/fixtures/``, so none can lag behind the
master; each goes through the real pipeline (``instructor grade``).
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harness.results import question_scores

from .build import assignment_name, find_master
from .fixtures import fixtures_dir, read_fixtures, write_fixtures
from .grade import grade_submission

EXPECTED_FILENAME = "expected.yml"


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


@dataclass(frozen=True)
class Built:
    """The files ``instructor build`` made for one assignment, under ``dist/<name>``."""

    root: Path
    master_name: str

    @property
    def bundle(self) -> Path:
        return self.root / "autograder" / f"{self.root.name}-autograder.zip"

    @property
    def notebooks(self) -> dict[str, Path]:
        """The built notebooks fixtures start from, by the name a fixture's ``from:`` gives."""
        return {"student": self.root / "student" / self.master_name, "solution": self.root / "autograder" / self.master_name}


def built_assignment(assignment_dir: Path, dist_root: Path) -> Built:
    """The assignment's build in ``dist_root``; FileNotFoundError if it was not built."""
    master = find_master(assignment_dir)
    built = Built(dist_root / assignment_name(master), master.name)
    if not built.bundle.is_file():
        raise FileNotFoundError(f"{built.bundle} not found: build first with 'instructor build {assignment_dir}'")
    return built


def make_fixtures(assignment_dir: Path, dist_root: Path = Path("dist")) -> dict[str, tuple]:
    """Write the fixture notebooks from the current build: ``{name: (path, expected points)}``.

    Example:
    >>> made = make_fixtures(Path("assignments/neural-networks"))   # doctest: +SKIP
    >>> made["reference"][0]                                          # doctest: +SKIP
    PosixPath('dist/neural-networks/fixtures/reference.ipynb')
    """
    find_master(assignment_dir)
    expected_file = assignment_dir / "submissions" / EXPECTED_FILENAME
    if not expected_file.is_file():
        raise FileNotFoundError(f"{expected_file} not found: declare each fixture submission and its expected points there")
    built = built_assignment(assignment_dir, dist_root)
    fixtures = read_fixtures(expected_file)
    paths = write_fixtures(fixtures, built.notebooks, expected_file.parent, fixtures_dir(built.root))
    return {fixture.name: (paths[fixture.name], fixture.expect) for fixture in fixtures}


def validate(assignment_dir: Path, dist_root: Path = Path("dist"), jobs: int = 2, sandbox: str = "require") -> list[Outcome]:
    """Make every fixture in ``expected.yml`` from the current build and grade it with the built bundle.

    Example:
    >>> outcomes = validate(Path("assignments/neural-networks"))  # doctest: +SKIP
    >>> all(o.matches for o in outcomes)                            # doctest: +SKIP
    True
    """
    fixtures = make_fixtures(assignment_dir, dist_root)
    bundle = built_assignment(assignment_dir, dist_root).bundle

    def run(name: str) -> Outcome:
        path, expected = fixtures[name]
        results = grade_submission(bundle, path, sandbox=sandbox)
        return Outcome(name, expected, question_scores(results), results)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run, fixtures))


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
