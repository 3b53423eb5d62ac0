"""Answers a student placed in cells that the autograder skips.

Cells tagged ``otter_ignore`` (the lesson's demonstrations) do not run when grading, to
keep grading inside Gradescope's small container. An answer assigned only there is lost;
this finds such answers so the student is told why, instead of seeing a bare NameError.
"""

import re

# The same rules as the student's pre-submit run, which names these cells before upload.
from student.presubmit import assigned_names, is_skipped, skipped_assignments


def misplaced_answers(notebook, answer_names) -> dict[str, list[int]]:
    """Map each answer name assigned only in skipped cells to those cells' numbers (from 1).

    Example:
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("cnn_weights = 34720", metadata={"tags": ["otter_ignore"]}),
    ...     nbformat.v4.new_code_cell("cnn_biases = 106")])
    >>> misplaced_answers(nb, {"cnn_weights", "cnn_biases"})
    {'cnn_weights': [1]}
    """
    graded = set().union(*(assigned_names(c.source) for c in notebook.cells if c.cell_type == "code" and not is_skipped(c)))
    skipped = skipped_assignments(notebook)
    return {name: skipped[name] for name in sorted(skipped) if name in answer_names and name not in graded}


def declared_answers(test_source: str) -> set[str]:
    """Answer variables a test declares through ``check_defined(globals(), "name", ...)``.

    Example:
    >>> sorted(declared_answers('v = check_defined(globals(), "cnn_weights", "cnn_biases")'))
    ['cnn_biases', 'cnn_weights']
    """
    names = set()
    for arguments in re.findall(r"check_defined\(\s*globals\(\)\s*,([^)]*)\)", test_source):
        names |= set(re.findall(r"[\"']([A-Za-z_]\w*)[\"']", arguments))
    return names
