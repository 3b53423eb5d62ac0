"""Notebook execution with time and output limits, for otter's grading.

otter 7.0 executes the submission with nbconvert's ExecutePreprocessor and no timeout
(its maintainers declined to add one), so a cell that never returns hangs grading until
Gradescope kills the container and the student gets no results at all. This module's
preprocessor, installed in place of nbconvert's for one grading process, bounds each
cell and the whole run, and caps what a cell may print.
"""

from time import monotonic

import nbconvert.preprocessors
import nbformat
from nbconvert.preprocessors import ExecutePreprocessor
from nbclient.exceptions import DeadKernelError
from traitlets import Bool, Dict

from .limits import GradingLimits

SKIPPED_NOTICE = "Not run: the autograder's time budget for this notebook ({budget:.0f} s) was used up before this cell."
TIMEOUT_NOTICE = "Stopped by the autograder: this cell ran longer than its limit of {timeout:.0f} s."
TRUNCATED_NOTICE = "\n[The autograder dropped the rest of this cell's output: over {cap:,} bytes.]\n"


class KernelDied(RuntimeError):
    """The notebook's kernel died in a cell; the message names the cell for the student."""

    def __init__(self, cell_source: str):
        first_line = next((line for line in cell_source.splitlines() if line.strip()), "")
        super().__init__(
            f"The notebook's Python process stopped while running the cell that starts with "
            f"`{first_line[:80]}`. Calls such as os._exit() or running out of memory end it, and "
            "nothing after that point can be graded. Remove such calls, check the notebook runs "
            "top to bottom (Kernel > Restart & Run All), and resubmit."
        )


class LimitedExecutePreprocessor(ExecutePreprocessor):
    """ExecutePreprocessor with a per-cell timeout, a total budget and an output cap.

    The last cell (otter's results cell, which runs the remaining tests and saves the
    scores) always runs, with its own reserved time, so a student whose notebook runs out
    of time still gets the points their finished answers earned.

    Example:
    >>> LimitedExecutePreprocessor().interrupt_on_timeout
    True
    """

    limits = GradingLimits()

    interrupt_on_timeout = Bool(True)
    # Without an error reply nbclient waits for the interrupted cell forever; this ends the
    # cell as failed and lets grading go on.
    error_on_timeout = Dict(
        default_value={
            "ename": "CellTimeoutError",
            "evalue": "the autograder stopped this cell: it ran past its time limit",
            "traceback": ["CellTimeoutError: the autograder stopped this cell: it ran past its time limit"],
        }
    )

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = monotonic() + self.limits.total_timeout
        self._results_cell = len(nb.cells) - 1
        self._output_bytes = {}
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if index != self._results_cell and cell.cell_type == "code" and monotonic() >= self._deadline:
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stderr", text=SKIPPED_NOTICE.format(budget=self.limits.total_timeout))
            ]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError as error:
            raise KernelDied(cell.source) from error

    def _get_timeout(self, cell):
        if cell is not None and cell is self.nb.cells[self._results_cell]:
            return self.limits.results_timeout
        remaining = self._deadline - monotonic()
        return max(1, int(min(self.limits.cell_timeout, remaining)))

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is not None:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=TIMEOUT_NOTICE.format(timeout=timeout)))
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        size = _output_size(msg)
        used = self._output_bytes.get(cell_index, 0)
        self._output_bytes[cell_index] = used + size
        cap = self.limits.max_output_bytes
        if used + size <= cap:
            return super().output(outs, msg, display_id, cell_index)
        if used <= cap:
            notice = nbformat.v4.new_output("stream", name="stderr", text=TRUNCATED_NOTICE.format(cap=cap))
            outs.append(notice)
            return notice
        return None


def _output_size(msg) -> int:
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    return sum(len(str(value)) for value in content.get("data", {}).values())


def install(limits: GradingLimits) -> None:
    """Make otter's ``grade_notebook`` execute with ``limits`` in this process.

    otter imports ``ExecutePreprocessor`` from ``nbconvert.preprocessors`` when it grades,
    so replacing that attribute is the one seam that needs no copy of otter's code.

    Example:
    >>> install(GradingLimits(total_timeout=300))  # doctest: +SKIP
    """
    LimitedExecutePreprocessor.limits = limits
    nbconvert.preprocessors.ExecutePreprocessor = LimitedExecutePreprocessor
