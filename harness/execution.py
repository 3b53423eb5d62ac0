"""Notebook execution with time and output limits, on the student side of grading.

otter 7.0 executes submissions with nbconvert's ExecutePreprocessor and no timeout (its
maintainers declined to add one), so a cell that never returns would hang grading until
Gradescope kills the container. This preprocessor bounds each cell and the whole run,
caps what a cell may print, and records which cells it stopped or skipped.
"""

from time import monotonic

import nbformat
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Bool, Dict

from .limits import GradingLimits

SKIPPED_NOTICE = "Not run: the autograder's time budget for this notebook ({budget:.0f} s) was used up before this cell."
TIMEOUT_NOTICE = "Stopped by the autograder: this cell ran longer than its limit of {timeout:.0f} s."
TRUNCATED_NOTICE = "\n[The autograder dropped the rest of this cell's output: over {cap:,} bytes.]\n"


class KernelDied(RuntimeError):
    """The notebook's kernel died while running the cell at ``index``."""

    def __init__(self, index: int):
        super().__init__(f"the kernel died in cell {index}")
        self.index = index


class LimitedExecutePreprocessor(ExecutePreprocessor):
    """ExecutePreprocessor with a per-cell timeout, a total budget and an output cap.

    The last cell (the export of the answers) always runs, with its own reserved time, so
    a student whose notebook runs out of time still gets the points their finished
    answers earned. ``timed_out`` and ``skipped`` list the indices of the cells stopped
    and not run.

    Example:
    >>> LimitedExecutePreprocessor(GradingLimits(cell_timeout=5)).limits.cell_timeout
    5
    """

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

    def __init__(self, limits: GradingLimits, **kwargs):
        super().__init__(allow_errors=True, **kwargs)
        self.limits = limits
        self.timed_out: list[int] = []
        self.skipped: list[int] = []

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = monotonic() + self.limits.total_timeout
        self._last_cell = len(nb.cells) - 1
        self._output_bytes = {}
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if index != self._last_cell and cell.cell_type == "code" and monotonic() >= self._deadline:
            self.skipped.append(index)
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stderr", text=SKIPPED_NOTICE.format(budget=self.limits.total_timeout))
            ]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError as error:
            raise KernelDied(index) from error

    def _get_timeout(self, cell):
        if cell is not None and cell is self.nb.cells[self._last_cell]:
            return self.limits.results_timeout
        remaining = self._deadline - monotonic()
        return max(1, int(min(self.limits.cell_timeout, remaining)))

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is not None:
            # By identity: two cells with the same source are equal as dictionaries.
            self.timed_out.append(next(i for i, c in enumerate(self.nb.cells) if c is cell))
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
