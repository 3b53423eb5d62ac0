"""``grader`` in the student notebook: otter's ``Notebook``, with checks that say what they verified.

Fixes one otter 7.0 behaviour: ``grader.check`` prints "q1 passed! 🚀" whenever the public
tests pass, even when they only check the answer's form and hidden tests decide all of its
points. Students read "passed" as "right". Here a question whose points come, in whole or in
part, from hidden tests says what its public tests verified (their ``success_message``, set
in the master's test config) and that the rest is graded after submission. Failures, and
questions fully decided by their public tests, show otter's own output.
"""

import html
import inspect
import runpy
from pathlib import Path

import otter
from otter.check.utils import list_available_tests

from .wording import check_wording


class CheckReport:
    """How one ``grader.check`` shows in the notebook: honest wording when it passed, otter's otherwise."""

    def __init__(self, result, wording: str | None):
        self.result, self.wording = result, wording

    def __getattr__(self, name):
        return getattr(self.result, name)  # otter's TestFile API (grade, passed_all, ...) stays usable

    def __repr__(self):
        return self.wording or repr(self.result)

    def _repr_html_(self):
        if self.wording is None:
            return self.result._repr_html_()
        question, _, rest = self.wording.partition(": ")
        return f"<p><strong><code>{html.escape(question)}</code></strong>: {html.escape(rest)}</p>"


class CheckAllReport(list):
    """``grader.check_all``: every question's report, in order."""

    def __repr__(self):
        return "\n".join(map(repr, self))

    def _repr_html_(self):
        return "".join(report._repr_html_() for report in self)


class Notebook(otter.Notebook):
    """otter's ``Notebook``, whose ``check`` and ``check_all`` return :class:`CheckReport` objects."""

    def check(self, question: str, global_env: dict | None = None):
        if global_env is None:
            global_env = inspect.currentframe().f_back.f_globals  # otter reads its caller's frame; we are it
        result = super().check(question, global_env)
        if type(self)._grading_mode:
            return result
        if not result.passed_all:
            return CheckReport(result, None)
        public = [r.test_case for r in result.test_case_results if not r.test_case.hidden]
        verified = [case.success_message for case in public if case.success_message]
        sentence = check_wording(verified, sum(case.points or 0 for case in public), self._question_points(question))
        return CheckReport(result, sentence and f"{question}: {sentence}")

    def check_all(self):
        if type(self)._grading_mode:
            return None  # as otter's check_all: the grader runs the tests itself
        global_env = inspect.currentframe().f_back.f_globals
        return CheckAllReport(self.check(name, global_env) for name in sorted(list_available_tests(self._tests_dir, self._nbmeta_config)))

    def _question_points(self, question: str) -> float | None:
        """The question's points, public and hidden, as the student's copy of its test declares them."""
        tests = self._nbmeta_config.tests or {}
        if question in tests:
            spec = tests[question]
        else:
            path = Path(self._tests_dir or "tests") / f"{question}.py"
            found = runpy.run_path(str(path)) if path.is_file() else {}
            spec = found.get("test", found)  # OK format: a ``test`` dict; otter's exception format: module names
        points = spec.get("points")
        return float(points) if isinstance(points, (int, float)) else None

