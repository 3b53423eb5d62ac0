"""The trusted side of grading: run the bundle's tests on the exported answers, write results.json.

A fresh process, started after every student process is dead, in Python's isolated mode
(``-I``: no current folder or user site on the path) with the bundle's own packages
first. It rebuilds the notebook's namespace from the exported answers (data only: values,
Keras models loaded in safe mode, proxies for the student's functions), runs each of the
bundle's otter test files with otter's own test machinery on it, and is the only writer
of ``results.json``.
"""

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from time import monotonic

from .layout import Bundle, RunFolders
from .results import (
    QuestionResult, build_results, in_notebook_order, otter_test_files, question_from_test_file, questions_not_graded,
)


@dataclass
class Context:
    """What happened before the tests, from the supervisor (``RunFolders.context``)."""

    started: float
    notices: list[str] = field(default_factory=list)
    graded: bool = True
    """False when the notebook never ran (the submission could not be read)."""
    notebook: str | None = None
    """The submitted notebook (the supervisor's checked copy), for notes about skipped cells."""
    sandbox: dict = field(default_factory=dict)
    """How to start the student side again, for the call server: level, uid, gid, env, readable, writable."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> "Context":
        return cls(**json.loads(path.read_text()))


def main(bundle_root: Path, run_root: Path, results_path: Path, failure: str | None = None) -> None:
    """Grade, or with ``failure`` only report every question at zero with that message."""
    bundle, folders = Bundle(bundle_root), RunFolders(run_root)
    context = Context.read(folders.context)
    order = bundle.read_question_order()
    manual = bundle.read_manual_questions()

    def write(questions: list[QuestionResult], notices: list[str]) -> None:
        results = build_results(questions, execution_time=_elapsed(context), notices=notices, manual=manual,
                                hidden_messages=bundle.shows_hidden_messages())
        write_results(results_path, results)

    if failure is not None or not context.graded:
        reason = "not graded (see the message above)"
        write(in_notebook_order(questions_not_graded(bundle.tests, reason), order),
              [*context.notices, *([failure] if failure else [])])
        return
    answer_names = bundle.read_answer_names()
    questions = in_notebook_order(grade(bundle, folders, context, answer_names), order)
    write(questions, context.notices)
    # Notes come after the scores are safe on disk: analysing the student's notebook must
    # never cost points already earned.
    try:
        _add_skipped_cell_notes(questions, answer_names, context)
    except Exception:  # noqa: BLE001 - any failure here only loses a hint
        return
    write(questions, context.notices)


def grade(bundle: Bundle, folders: RunFolders, context: Context, answer_names: dict) -> list[QuestionResult]:
    """Each bundle question graded on the exported answers."""
    from .answers.load import Answers, AnswersError, load_answers
    from .calls import StudentFunction

    try:
        answers = load_answers(folders.answers)
    except AnswersError as error:
        answers = Answers()
        if not context.notices:  # otherwise they already say why the notebook stopped
            context.notices.append(str(error))
    namespace = dict(answers.namespace)
    server = None
    if answers.callables:
        server = _call_server(context, folders)
        namespace.update({name: StudentFunction(name, server) for name in answers.callables})
    questions = []
    try:
        for test_file in otter_test_files(bundle.tests):
            test_file.run(dict(namespace))
            question = question_from_test_file(test_file)
            for name in answer_names.get(test_file.name, []):
                if name in answers.problems:
                    question.notes.append(answers.problems[name])
            questions.append(question)
    finally:
        if server is not None:
            server.close()
    return questions


def write_results(path: Path, results: dict) -> None:
    """Write ``results`` to ``path`` atomically: Gradescope never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    with os.fdopen(handle, "w") as stream:
        stream.write(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def _call_server(context: Context, folders: RunFolders):
    import subprocess

    from .calls import CallServer, start_command
    from .sandbox import Sandbox

    settings = context.sandbox
    sandbox = Sandbox(settings["level"], settings.get("uid"), settings.get("gid"))
    readable = [Path(p) for p in settings["readable"]]
    writable = Path(settings["writable"])

    def start():
        return sandbox.start(
            start_command(str(folders.answers)), env=settings["env"], readable=readable, writable=writable,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
        )

    return CallServer(start, sandbox.stop)


def _add_skipped_cell_notes(questions: list[QuestionResult], answer_names: dict, context: Context) -> None:
    import nbformat

    from .skipped_cells import misplaced_answers

    if context.notebook is None:
        return
    # The supervisor wrote this copy after validating it: nbformat's v4 reader skips validating
    # again (0.3 CPU seconds) and still joins each cell's source lines.
    notebook = nbformat.v4.reads(Path(context.notebook).read_text(encoding="utf-8"))
    for question in questions:
        misplaced = misplaced_answers(notebook, answer_names.get(question.name, []))
        for name, cells in misplaced.items():
            where = ", ".join(str(n) for n in cells)
            question.notes.append(
                f"`{name}` is assigned only in cell {where}, which the autograder skips (marked "
                "'Skipped when grading'); move that line into the question's answer cell."
            )


def _elapsed(context: Context) -> float:
    return monotonic() - context.started


if __name__ == "__main__":
    bundle_root, run_root, results_path, *rest = sys.argv[1:]
    main(Path(bundle_root), Path(run_root), Path(results_path), rest[0] if rest else None)
