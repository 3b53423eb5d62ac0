"""Gradescope's results.json, complete per its specification, from otter's grading results.

otter 7.0 writes a minimal file (no ``status``, no ``number``, no top-level ``score``
unless configured, plain-text doctest transcripts). This module writes one entry per
question with the checks' own messages in Markdown, and a visible summary of the public
checks; hidden-test details wait for the instructor to publish.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from student.wording import check_wording, points_text

SCHEMA_PATH = Path(__file__).with_name("results_schema.json")

HIDDEN_VISIBILITY = "after_published"
MANUAL_TAG = "graded by hand"
MAX_MESSAGE_CHARS = 1000
OTTER_SCORE_DECIMALS = 5  # otter's GradingResults.to_gradescope_dict: round(score, 5)

# The checks end failing tests with ``assert verdict, verdict.message``: that last line of
# the doctest transcript is the sentence meant for the student.
_ASSERTION_LINE = re.compile(r"^\s*AssertionError: (.+)$", re.MULTILINE)
_ERROR_LINE = re.compile(r"^\s*(?:\w+\.)*(\w+(?:Error|Exception|Interrupt)): (.+)$", re.MULTILINE)
# Raised by the proxies of the student's functions (``harness.calls``): its text is the sentence.
_STUDENT_CODE_ERROR = "StudentCodeError"
# A plain doctest's mismatch, as Python's doctest reports it (otter prefixes "❌ Test case failed").
_DOCTEST_MISMATCH = re.compile(
    r"^Failed example:\n((?: {4}.*\n)+)(?:Expected:\n((?: {4}.*\n)+)|Expected nothing\n)(?:Got:\n((?: {4}.*\n?)+)|Got nothing)",
    re.MULTILINE,
)


@dataclass
class CaseResult:
    """One test case: whether it passed, and what to tell the student."""

    passed: bool
    hidden: bool
    points: float
    feedback: str = ""
    verified: str = ""
    """What the case checked, in the master's words (its ``success_message``), when it passed."""


@dataclass
class QuestionResult:
    """One graded question and its test cases, in notebook order.

    Example:
    >>> q = QuestionResult("q1", [CaseResult(True, False, 0), CaseResult(False, True, 2, "wrong")])
    >>> q.score, q.max_score, q.has_hidden
    (0, 2, True)
    """

    name: str
    cases: list[CaseResult]
    notes: list[str] = field(default_factory=list)
    earned: float | None = None
    """The score when it is not the sum of the passed cases (otter's ``all_or_nothing``)."""

    @property
    def score(self) -> float:
        if self.earned is not None:
            return self.earned
        return sum(case.points for case in self.cases if case.passed)

    @property
    def max_score(self) -> float:
        return sum(case.points for case in self.cases)

    @property
    def has_hidden(self) -> bool:
        return any(case.hidden for case in self.cases)


def in_notebook_order(questions: list[QuestionResult], order: list[str]) -> list[QuestionResult]:
    """``questions`` sorted as in the notebook; otter reports them in the order they ran.

    Example:
    >>> [q.name for q in in_notebook_order([QuestionResult("b", []), QuestionResult("a", [])], ["b", "a"])]
    ['b', 'a']
    """
    position = {name: index for index, name in enumerate(order)}
    return sorted(questions, key=lambda q: (position.get(q.name, len(order)), q.name))


def question_from_test_file(test_file) -> QuestionResult:
    """One question's result from an otter ``TestFile`` that has run.

    Its score is otter's (which honours ``all_or_nothing``), clamped to the question's points.
    """
    cases = [
        CaseResult(
            passed=result.passed,
            hidden=result.test_case.hidden,
            points=result.test_case.points,
            feedback="" if result.passed else student_message(result.message or "", result.test_case.hidden),
            verified=(result.test_case.success_message or "") if result.passed else "",
        )
        for result in test_file.test_case_results
    ]
    question = QuestionResult(test_file.name, cases)
    question.earned = min(max(test_file.score, 0), test_file.possible)
    return question


def otter_test_files(tests_dir: Path) -> list:
    """otter's ``TestFile`` for each test file in ``tests_dir``, in file-name order (not yet run)."""
    from .otter_modules import otter_module

    create_test_file = otter_module("otter.test_files").create_test_file
    NBMetadataConfig = otter_module("otter.nbmeta_config").NBMetadataConfig
    return [create_test_file(str(path), NBMetadataConfig()) for path in sorted(tests_dir.glob("*.py"))]


def questions_not_graded(tests_dir: Path, reason: str) -> list[QuestionResult]:
    """Every question in ``tests_dir`` at zero, each failing with ``reason``.

    For submissions that never reached the tests (not a notebook, a dead kernel…), so that
    Gradescope still shows every question and its points.
    """
    questions = []
    for test_file in otter_test_files(tests_dir):
        cases = [CaseResult(False, case.hidden, case.points, reason) for case in test_file.test_cases]
        questions.append(QuestionResult(test_file.name, cases))
    return questions


def student_message(transcript: str, hidden: bool = False) -> str:
    """The sentence for the student from a failing doctest transcript.

    A plain doctest's first mismatch is quoted for a public test, whose code students have;
    a hidden test's code and expected values are never quoted.

    Example:
    >>> student_message("Failed example:\\n    assert v, v.message\\nAssertionError: layer 2: expected Dense(16)")
    'layer 2: expected Dense(16)'
    >>> student_message("Exception raised:\\n    harness.calls.StudentCodeError: `square` raised ValueError: no")
    '`square` raised ValueError: no'
    >>> mismatch = "❌ Test case failed\\nFailed example:\\n    square(2)\\nExpected:\\n    4\\nGot:\\n    5\\n"
    >>> student_message(mismatch)
    '`square(2)` gave `5`; the test expects `4`'
    >>> student_message(mismatch, hidden=True)
    'an expression in this hidden test gave a different value than the test expects'
    """
    assertion = _ASSERTION_LINE.findall(transcript)
    if assertion:
        return assertion[-1].strip()
    error = _ERROR_LINE.findall(transcript)
    if error:
        kind, text = error[-1]
        return text.strip() if kind == _STUDENT_CODE_ERROR else f"the test raised {kind}: {text.strip()}"
    mismatch = _DOCTEST_MISMATCH.search(transcript)
    if mismatch:
        if hidden:
            return "an expression in this hidden test gave a different value than the test expects"
        example, expected, got = (_code(block) for block in mismatch.groups())
        return f"{example} gave {got}; the test expects {expected}"
    return transcript.removeprefix("❌ Test case failed").strip() or "the test failed without a message"


def _code(block: str | None) -> str:
    """An indented doctest block as one inline code span ("nothing" when absent)."""
    if block is None:
        return "nothing"
    return "`" + " ".join(line.strip() for line in block.splitlines()).replace("`", "'") + "`"


def build_results(
    questions: list[QuestionResult], *, execution_time: float, notices: list[str] = (), manual: dict | None = None,
    hidden_messages: bool = False,
) -> dict:
    """The results.json dictionary: top-level score and summary, one test entry per question, then
    one per hand-graded question in ``manual`` (name to points).

    A question with hidden tests is shown once grades are published, with its score. Its hidden
    tests' messages are shown only with ``hidden_messages`` (otter's ``show_hidden``); their code
    and expected values never are (:func:`student_message`).

    The top-level score is the autograder's alone: Gradescope adds the hand-graded points from
    its manual grading. A hand-graded entry has no score (Gradescope would show a score of 0 as
    a failed test): its name gives its points, its tag says "graded by hand", and its message
    says the points are still to come.

    Example:
    >>> results = build_results([QuestionResult("q1", [CaseResult(True, False, 1)])], execution_time=3.2,
    ...                         manual={"essay": 2})
    >>> results["score"], results["tests"][0]["status"]
    (1, 'passed')
    >>> essay = results["tests"][1]
    >>> essay["name"], essay["number"], essay["tags"], "score" in essay
    ('essay: 2 points, graded by hand', '2', ['graded by hand'], False)

    Scores are rounded to 5 decimals, as otter writes them:
    >>> thirds = QuestionResult("q2", [CaseResult(True, False, 1 / 3), *[CaseResult(False, False, 1 / 3)] * 2])
    >>> build_results([thirds], execution_time=1)["tests"][0]["score"]
    0.33333
    """
    manual = manual or {}
    total = sum(q.score for q in questions)
    possible = sum(q.max_score for q in questions)
    return {
        "score": round(total, OTTER_SCORE_DECIMALS),
        "execution_time": round(execution_time, 1),
        "output": _summary(questions, notices, possible) + _manual_summary(manual),
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": question.name,
                "number": str(number),
                "score": round(question.score, OTTER_SCORE_DECIMALS),
                "max_score": round(question.max_score, OTTER_SCORE_DECIMALS),
                "status": "passed" if question.score == question.max_score else "failed",
                "visibility": HIDDEN_VISIBILITY if question.has_hidden else "visible",
                "output": _question_output(question, hidden_messages),
                "output_format": "md",
            }
            for number, question in enumerate(questions, start=1)
        ]
        + [
            {
                "name": f"{name}: {points_text(points)}, {MANUAL_TAG}",
                "number": str(number),
                "visibility": "visible",
                "output": _manual_output(points),
                "output_format": "md",
                "tags": [MANUAL_TAG],
            }
            for number, (name, points) in enumerate(manual.items(), start=len(questions) + 1)
        ],
    }


def scored_tests(results: dict) -> list[dict]:
    """The entries of a results.json that carry points: every one but the hand-graded questions'.

    Example:
    >>> scored_tests({"tests": [{"name": "q1", "score": 1}, {"name": "essay: 2 points, graded by hand"}]})
    [{'name': 'q1', 'score': 1}]
    """
    return [test for test in results.get("tests", []) if "score" in test]


def question_scores(results: dict) -> dict:
    """Points per auto-graded question in a results.json dictionary (ours or otter's).

    Example:
    >>> question_scores({"tests": [{"name": "q1", "score": 2, "max_score": 2}, {"name": "Public Tests"}]})
    {'q1': 2}
    """
    return {test["name"]: test["score"] for test in scored_tests(results)}


def _manual_output(points: float) -> str:
    """What a hand-graded entry tells the student.

    Example:
    >>> _manual_output(2)
    'Graded by hand: a grader reads your answer in the PDF of your submission zip. Its 2 points are not in the autograder score; they come when your instructor publishes grades.'
    """
    return (
        f"Graded by hand: a grader reads your answer in the PDF of your submission zip. Its {points:g} points are "
        "not in the autograder score; they come when your instructor publishes grades."
    )


def _summary(questions, notices, possible) -> str:
    lines = []
    if notices:
        lines += [f"**{notice}**" for notice in notices] + [""]
    lines.append("Public checks (what you could also run in your notebook with `grader.check`):")
    lines.append("")
    for question in questions:
        public = [case for case in question.cases if not case.hidden]
        failed = [case for case in public if not case.passed]
        if not public:
            lines.append(f"- `{question.name}`: no public checks")
        elif failed:
            lines.append(f"- ❌ `{question.name}`: {_one_line(failed[0].feedback)}")
        else:
            wording = check_wording([case.verified for case in public if case.verified],
                                    sum(case.points for case in public), question.max_score, graded="by hidden tests")
            lines.append(f"- ✅ `{question.name}`: {wording or 'public checks pass'}")
        lines += [f"  - {_one_line(note)}" for note in question.notes]
    hidden_points = sum(case.points for q in questions for case in q.cases if case.hidden)
    if hidden_points:
        share = "the" if hidden_points == possible else f"{hidden_points:g} of the"
        lines += ["", f"Hidden tests decide {share} {possible:g} points; their results appear when your instructor "
                  "publishes grades."]
    return "\n".join(lines)


def _manual_summary(manual: dict) -> str:
    """The summary's line about hand-graded questions (none without them).

    Example:
    >>> _manual_summary({"patterns": 2, "essay": 1})
    '\\n\\nGraded by hand, not in this score: `patterns` (2 points), `essay` (1 point).'
    """
    if not manual:
        return ""
    listed = ", ".join(f"`{name}` ({points_text(points)})" for name, points in manual.items())
    return f"\n\nGraded by hand, not in this score: {listed}."




def _question_output(question: QuestionResult, hidden_messages: bool) -> str:
    """One question's entry: its score, then each case with what it checked or why it failed.

    Example:
    >>> q = QuestionResult("q1", [CaseResult(True, False, 0, verified="format OK: a number"),
    ...                           CaseResult(False, True, 2, "expected 49, got 48")])
    >>> print(_question_output(q, hidden_messages=False))
    **q1**: 0 / 2 points
    <BLANKLINE>
    - ✅ public check 1 (0 pt): format OK: a number
    - ❌ hidden test 2 (2 pt): failed (this course does not show hidden tests' messages)
    """
    lines = [f"**{question.name}**: {question.score:g} / {question.max_score:g} points", ""]
    for number, case in enumerate(question.cases, start=1):
        kind = "hidden test" if case.hidden else "public check"
        points = f"{case.points:g} pt" if case.points else "0 pt"
        mark = "✅" if case.passed else "❌"
        if case.passed and case.verified:
            text = _one_line(case.verified)
        elif case.passed:
            text = "passed" if case.points else "passes (it carries no points)"
        elif case.hidden and not hidden_messages:
            text = "failed (this course does not show hidden tests' messages)"
        else:
            text = _one_line(case.feedback)
        lines.append(f"- {mark} {kind} {number} ({points}): {text}")
    lines += [f"- ⚠️ {_one_line(note)}" for note in question.notes]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    r"""``text`` on one line, capped, with Markdown and HTML outside code spans escaped.

    Messages can quote the student's values; escaped, they cannot format the page, link
    elsewhere or pose as the autograder's own text.

    Example:
    >>> print(_one_line("`mlp_keras`: got <b>[x](y)</b>\n  *fine*"))
    `mlp_keras`: got &lt;b&gt;\[x\](y)&lt;/b&gt; \*fine\*
    """
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unclosed code span: escape its backtick too
        parts[-2:] = [parts[-2] + "\\`" + parts[-1]]
    parts[::2] = [_escape(part) for part in parts[::2]]
    return "`".join(parts)


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\*_\[\]#|!~])", r"\\\1", text)
