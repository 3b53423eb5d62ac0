"""Gradescope's results.json, complete per its specification, from otter's grading results.

otter 7.0 writes a minimal file (no ``status``, no ``number``, no top-level ``score``
unless configured, plain-text doctest transcripts). This module writes one entry per
question with the checks' own messages in Markdown, and a visible summary of the public
checks; hidden-test details wait for the instructor to publish.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("results_schema.json")

HIDDEN_VISIBILITY = "after_published"
MAX_MESSAGE_CHARS = 1000

# The checks end failing tests with ``assert verdict, verdict.message``: that last line of
# the doctest transcript is the sentence meant for the student.
_ASSERTION_LINE = re.compile(r"^\s*AssertionError: (.+)$", re.MULTILINE)
_ERROR_LINE = re.compile(r"^\s*(?:\w+\.)*(\w+(?:Error|Exception|Interrupt)): (.+)$", re.MULTILINE)
# Raised by the proxies of the student's functions (``harness.calls``): its text is the sentence.
_STUDENT_CODE_ERROR = "StudentCodeError"


@dataclass
class CaseResult:
    """One test case: whether it passed, and what to tell the student."""

    passed: bool
    hidden: bool
    points: float
    feedback: str = ""


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
            feedback="" if result.passed else student_message(result.message or ""),
        )
        for result in test_file.test_case_results
    ]
    question = QuestionResult(test_file.name, cases)
    question.earned = min(max(test_file.score, 0), test_file.possible)
    return question


def questions_not_graded(tests_dir: Path, reason: str) -> list[QuestionResult]:
    """Every question in ``tests_dir`` at zero, each failing with ``reason``.

    For submissions that never reached the tests (not a notebook, a dead kernel…), so that
    Gradescope still shows every question and its points.
    """
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    questions = []
    for path in sorted(tests_dir.glob("*.py")):
        test_file = create_test_file(str(path), NBMetadataConfig())
        cases = [CaseResult(False, case.hidden, case.points, reason) for case in test_file.test_cases]
        questions.append(QuestionResult(test_file.name, cases))
    return questions


def student_message(transcript: str) -> str:
    """The sentence for the student from a failing doctest transcript.

    Example:
    >>> student_message("Failed example:\\n    assert v, v.message\\nAssertionError: layer 2: expected Dense(16)")
    'layer 2: expected Dense(16)'
    >>> student_message("Exception raised:\\n    harness.calls.StudentCodeError: `square` raised ValueError: no")
    '`square` raised ValueError: no'
    """
    assertion = _ASSERTION_LINE.findall(transcript)
    if assertion:
        return assertion[-1].strip()
    error = _ERROR_LINE.findall(transcript)
    if error:
        kind, text = error[-1]
        return text.strip() if kind == _STUDENT_CODE_ERROR else f"the test raised {kind}: {text.strip()}"
    return transcript.strip() or "the test failed without a message"


def build_results(questions: list[QuestionResult], *, execution_time: float, notices: list[str] = ()) -> dict:
    """The results.json dictionary: top-level score and summary, one test entry per question.

    Example:
    >>> results = build_results([QuestionResult("q1", [CaseResult(True, False, 1)])], execution_time=3.2)
    >>> results["score"], results["tests"][0]["status"]
    (1, 'passed')
    """
    total = sum(q.score for q in questions)
    possible = sum(q.max_score for q in questions)
    return {
        "score": total,
        "execution_time": round(execution_time, 1),
        "output": _summary(questions, notices, possible),
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": question.name,
                "number": str(number),
                "score": question.score,
                "max_score": question.max_score,
                "status": "passed" if question.score == question.max_score else "failed",
                "visibility": HIDDEN_VISIBILITY if question.has_hidden else "visible",
                "output": _question_output(question),
                "output_format": "md",
            }
            for number, question in enumerate(questions, start=1)
        ],
    }


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
            lines.append(f"- ✅ `{question.name}`: public checks pass")
        lines += [f"  - {_one_line(note)}" for note in question.notes]
    if any(q.has_hidden for q in questions):
        lines += ["", f"Hidden tests decide the {possible:g} points; their results appear when your instructor publishes grades."]
    return "\n".join(lines)


def _question_output(question: QuestionResult) -> str:
    lines = [f"**{question.name}**: {question.score:g} / {question.max_score:g} points", ""]
    for number, case in enumerate(question.cases, start=1):
        kind = "hidden test" if case.hidden else "public check"
        points = f"{case.points:g} pt" if case.points else "0 pt"
        mark = "✅" if case.passed else "❌"
        text = "passed" if case.passed else _one_line(case.feedback)
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
