"""The one place that names the bundle's files and the folders of one grading run.

Gradescope unpacks the bundle into ``/autograder/source``; otter puts the assignment's
``files`` and ``autograder_files`` under ``source/files``. One grading run then works in
a private folder with two sides:

- the **student side** (``RunFolders.student``), the only place the student's code may
  write: the notebook being run, the answers it exports and the runner's report;
- the **trusted side**: the bundle, the request the student side is given (written before
  it starts, read-only to it) and ``results/``, written only by the checker.

Example:
>>> bundle = Bundle(Path("/autograder/source"))
>>> bundle.tests
PosixPath('/autograder/source/tests')
>>> folders = RunFolders(Path("/tmp/run"))
>>> folders.answers
PosixPath('/tmp/run/student/answers')
"""

import json
from dataclasses import dataclass
from pathlib import Path

STUDENT_USER = "otter-student"
"""The unprivileged user that runs the student's notebook (setup.sh and the local runner create it)."""

LIMITS_FILENAME = "grading_limits.json"
QUESTION_ORDER_FILENAME = "questions.json"
ANSWER_NAMES_FILENAME = "answer_names.json"
MANUAL_QUESTIONS_FILENAME = "manual_questions.json"
FILE_VARIABLES_FILENAME = "file_variables.json"
PUBLIC_TESTS_DIRNAME = "public_tests"


@dataclass(frozen=True)
class Bundle:
    """The unpacked autograder bundle (``/autograder/source`` on Gradescope); trusted, read-only."""

    root: Path

    @property
    def files(self) -> Path:
        """otter's ``files``/``autograder_files``: the ``student`` and ``harness`` packages, data."""
        return self.root / "files"

    @property
    def tests(self) -> Path:
        """The full tests, hidden ones included: only the trusted checker reads them."""
        return self.root / "tests"

    @property
    def public_tests(self) -> Path:
        """The tests students have (their ``tests/`` folder), for ``grader.check`` while grading."""
        return self.root / PUBLIC_TESTS_DIRNAME

    @property
    def limits(self) -> Path:
        return self.root / LIMITS_FILENAME

    @property
    def question_order(self) -> Path:
        return self.root / QUESTION_ORDER_FILENAME

    @property
    def answer_names(self) -> Path:
        """Per question, the notebook variables its tests read (declared or derived at build)."""
        return self.root / ANSWER_NAMES_FILENAME

    def read_answer_names(self) -> dict[str, list[str]]:
        """Per question, the names its tests read (empty for a bundle built without them)."""
        return json.loads(self.answer_names.read_text()) if self.answer_names.is_file() else {}

    @property
    def manual_questions(self) -> Path:
        """The hand-graded questions (``manual: true`` in the master) and their points, in notebook order."""
        return self.root / MANUAL_QUESTIONS_FILENAME

    def read_manual_questions(self) -> dict[str, float]:
        """Per hand-graded question, its points (empty for a bundle built without them)."""
        return json.loads(self.manual_questions.read_text()) if self.manual_questions.is_file() else {}

    def read_question_order(self) -> list[str]:
        """The questions in notebook order."""
        return json.loads(self.question_order.read_text()) if self.question_order.is_file() else []

    @property
    def file_variables(self) -> Path:
        """Environment variables naming the bundle's data files (``env`` in assignment.yml)."""
        return self.root / FILE_VARIABLES_FILENAME

    def file_environment(self) -> dict[str, str]:
        """Each declared variable, set to its file's path in the bundle (empty without any)."""
        declared = json.loads(self.file_variables.read_text()) if self.file_variables.is_file() else {}
        return {variable: str(self.files / name) for variable, name in declared.items()}

    @property
    def otter_config(self) -> Path:
        return self.root / "otter_config.json"

    def shows_hidden_messages(self) -> bool:
        """Whether results show hidden tests' messages once published: otter's ``show_hidden`` (default false)."""
        config = json.loads(self.otter_config.read_text()) if self.otter_config.is_file() else {}
        return config.get("show_hidden", False) is True

    def kernel_readable(self) -> list[Path]:
        """What the student's kernel may read from the bundle: code and data students have anyway."""
        return [self.files, self.public_tests]


@dataclass(frozen=True)
class RunFolders:
    """The folders of one grading run, under a private root only the grader can list."""

    root: Path

    @property
    def request(self) -> Path:
        """Trusted → student side: what to run and what to export (JSON, written before the run)."""
        return self.root / "request.json"

    @property
    def student(self) -> Path:
        """The student side's only writable folder (its home and working directory)."""
        return self.root / "student"

    @property
    def notebook_dir(self) -> Path:
        return self.student / "notebook"

    @property
    def answers(self) -> Path:
        """Student → trusted side: the exported answers (``harness.answers``), read as data."""
        return self.student / "answers"

    @property
    def report(self) -> Path:
        """Student → trusted side: how the run went (``harness.run_notebook.RunReport``)."""
        return self.student / "run-report.json"

    @property
    def context(self) -> Path:
        """Supervisor → checker: what happened before the tests (``harness.checker.Context``)."""
        return self.root / "context.json"
