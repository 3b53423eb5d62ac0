"""The student side of grading: run the notebook, then export its answers as data.

Runs as the unprivileged student user, inside the sandbox, with the student's kernel as
its child; nothing it writes is trusted. It is given a ``Request`` (read-only to it) and
writes two things into its own folder: the answers (``harness.answers.export``) and a
``RunReport``, which the trusted side reads only as a few validated numbers.

otter's own ``GradingPreprocessor`` prepares the notebook as otter would (drops the
cells tagged ``otter_ignore``, seeds, ``grader.check`` against the public tests); the
cell otter appends to run the tests in the kernel is replaced by the answers' export.
"""

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

CELL_NUMBER_KEY = "grading_cell_number"
# jax is installed for the checker (Keras's NumPy backend needs it). TensorFlow imports it
# whenever it can, which would cost the student's kernel about 100 MiB and 2 CPU seconds.
WITHOUT_JAX = 'import sys as _sys\n_sys.modules.setdefault("jax", None)\n'


@dataclass(frozen=True)
class Request:
    """What the trusted side asks the student side to run (``RunFolders.request``)."""

    notebook: str
    public_tests: str
    answers_folder: str
    answer_names: list[str]
    limits: dict
    seed: int | None = None
    seed_variable: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Request":
        return cls(**json.loads(text))


@dataclass
class RunReport:
    """How the run went, by the submitted notebook's cell numbers (from 1).

    Example:
    >>> RunReport.parse('{"finished": true, "exported": true, "timed_out": [3], "skipped": [], "kernel_died_in": null}')
    RunReport(finished=True, exported=True, timed_out=[3], skipped=[], kernel_died_in=None)
    >>> RunReport.parse('{"finished": "yes"}') is None
    True
    """

    finished: bool = False
    exported: bool = False
    timed_out: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    kernel_died_in: int | None = None

    @classmethod
    def parse(cls, text: str) -> "RunReport | None":
        """A report from the student side's text, or None if it is not exactly a report."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or set(data) != {"finished", "exported", "timed_out", "skipped", "kernel_died_in"}:
            return None
        numbers = [*data["timed_out"], *data["skipped"]] if all(
            isinstance(data[k], list) for k in ("timed_out", "skipped")) else None
        if (
            type(data["finished"]) is not bool
            or type(data["exported"]) is not bool
            or numbers is None
            or not all(type(n) is int and 0 < n < 100_000 for n in numbers)
            or len(numbers) > 100_000
            or not (data["kernel_died_in"] is None or (type(data["kernel_died_in"]) is int and data["kernel_died_in"] > 0))
        ):
            return None
        return cls(**data)


def run(request: Request, report_path: Path) -> None:
    """Execute the request's notebook with its limits, export the answers, write the report."""
    import nbformat
    from .execution import KernelDied, LimitedExecutePreprocessor
    from .limits import GradingLimits
    from .otter_modules import otter_module

    GradingPreprocessor = otter_module("otter.execute.preprocessor").GradingPreprocessor

    report = RunReport()
    report_path.write_text(json.dumps(asdict(report)))
    notebook_path = Path(request.notebook)
    notebook = nbformat.read(notebook_path, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        cell.metadata[CELL_NUMBER_KEY] = number
    otter_prepared, _ = GradingPreprocessor(
        test_dir=request.public_tests,
        tests_glob=[],
        results_path="",
        seed=request.seed,
        seed_variable=request.seed_variable,
        logging_server_host="127.0.0.1",
        logging_server_port=9,  # discard: otter's kernel log goes nowhere while grading
        force_python3_kernel=True,
    ).preprocess(notebook, {})
    otter_prepared.cells[-1] = nbformat.v4.new_code_cell(_export_cell(request))
    otter_prepared.cells.insert(0, nbformat.v4.new_code_cell(WITHOUT_JAX))

    executor = LimitedExecutePreprocessor(GradingLimits().updated(request.limits, origin="request"), kernel_name="python3")
    try:
        executor.preprocess(otter_prepared, {"metadata": {"path": str(notebook_path.parent)}})
        report.finished = True
        export = otter_prepared.cells[-1]
        report.exported = len(otter_prepared.cells) - 1 not in executor.timed_out and not any(
            output.get("output_type") == "error" for output in export.outputs
        )
    except KernelDied as death:
        report.kernel_died_in = _cell_number(otter_prepared, death.index)
    report.timed_out = [n for n in (_cell_number(otter_prepared, i) for i in executor.timed_out) if n]
    report.skipped = [n for n in (_cell_number(otter_prepared, i) for i in executor.skipped) if n]
    report_path.write_text(json.dumps(asdict(report)))


def _export_cell(request: Request) -> str:
    return (
        "from pathlib import Path as _Path\n"
        "from harness.answers.export import export_answers as _export_answers\n"
        f"_export_answers(globals(), {request.answer_names!r}, _Path({request.answers_folder!r}))\n"
    )


def _cell_number(notebook, index: int) -> int | None:
    """The submitted notebook's number for a cell of the prepared one (None for added cells)."""
    if 0 <= index < len(notebook.cells):
        return notebook.cells[index].metadata.get(CELL_NUMBER_KEY)
    return None


if __name__ == "__main__":
    run(Request.from_json(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
