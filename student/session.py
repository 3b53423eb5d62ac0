"""Whether the saved notebook is what the student ran: the export refuses a stale file.

Jupyter front ends save on their own schedule. JupyterLab's autosave can catch a notebook in
the middle of Run All; Notebook 7 and VS Code leave edits unsaved until the student saves.
otter's ``force_save`` asks the front end to save through JavaScript, which JupyterLab 4,
Notebook 7 and VS Code do not run, so its export can zip an older file. The kernel knows what
ran: IPython keeps each cell's source under its execution count. The saved file records the
count and source of every cell it shows as run. Comparing the two needs no front end.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SavedCell:
    """A code cell as the saved notebook holds it: its number (from 1), source and count."""

    number: int
    source: str
    execution_count: int | None


def saved_cells(notebook) -> list[SavedCell]:
    """The code cells of an nbformat notebook, numbered as the student sees them (from 1).

    Example:
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
    ...     nbformat.v4.new_code_cell("x = 1", execution_count=3)])
    >>> saved_cells(nb)
    [SavedCell(number=2, source='x = 1', execution_count=3)]
    """
    return [
        SavedCell(number, cell.source, cell.get("execution_count"))
        for number, cell in enumerate(notebook.cells, start=1)
        if cell.cell_type == "code"
    ]


def why_stale(cells: list[SavedCell], history: list[str], current: int) -> str | None:
    """Why the saved cells are not what this kernel ran, or None when they are.

    ``history`` is IPython's ``input_hist_raw`` (index n: the source run as ``In [n]``) and
    ``current`` the count of the cell running now, the export's. The save is current when the
    cell run just before it (``In [current - 1]``) is in the file, and every saved count shows
    the source that ran under it.

    Example:
    >>> history = ["", "x = 1", "x = 2", "export()"]
    >>> why_stale([SavedCell(1, "x = 2", 2), SavedCell(2, "export()", None)], history, 3) is None
    True
    >>> why_stale([SavedCell(1, "x = 1", 1), SavedCell(2, "export()", None)], history, 3)
    'the cell you ran last (In [2]) is not in the saved file'
    >>> why_stale([SavedCell(1, "x = 3", 2)], history, 3)
    'cell 1 was changed after it ran (it shows In [2], which ran other code)'
    """
    counts = {cell.execution_count for cell in cells if cell.execution_count}
    later = sorted(count for count in counts if count >= current)
    if later:
        return (
            f"it shows cells run as In [{later[-1]}], but this kernel has only reached In [{current}]: the file "
            "comes from an earlier session (was the kernel restarted?)"
        )
    for cell in cells:
        count = cell.execution_count
        if count and history[count].rstrip() != cell.source.rstrip():
            return f"cell {cell.number} was changed after it ran (it shows In [{count}], which ran other code)"
    if current > 1 and current - 1 not in counts:
        return f"the cell you ran last (In [{current - 1}]) is not in the saved file"
    return None


def stale_reason(notebook) -> str | None:
    """Why the saved ``notebook`` (as read from disk) is not this kernel's session (None if it is, or outside IPython)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return None
    history = shell.history_manager.input_hist_raw
    # The running cell is the history's last entry; IPython's ``execution_count`` has already moved past it.
    return why_stale(saved_cells(notebook), history, len(history) - 1)
