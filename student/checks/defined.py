"""Checking that a notebook's answer variables are assigned and no longer ``...``."""

from student.checks._describe import _join
from student.checks.verdict import Verdict


def check_defined(namespace: dict, *names: str) -> Verdict:
    """Check that each name is assigned in ``namespace`` (the notebook's globals) and answered.

    Example:
    >>> print(check_defined({"layer_count": ...}, "layer_count"))
    `layer_count` is still `...`: replace it with your answer.
    >>> check_defined({"layer_count": 3}, "layer_count").passed
    True
    """
    if not names:
        raise ValueError("name at least one variable, e.g. check_defined(globals(), 'answer')")
    missing = [f"`{name}`" for name in names if name not in namespace]
    placeholders = [f"`{name}`" for name in names if namespace.get(name) is Ellipsis]
    problems = []
    if missing:
        one = len(missing) == 1
        problems.append(
            f"{_join(missing)} {'is' if one else 'are'} not defined. "
            f"Assign {'it' if one else 'them'} in the answer cell for this question; the autograder "
            "skips the lesson's demonstration cells (marked 'skipped when grading'), so answers "
            "placed there are lost."
        )
    if placeholders:
        one = len(placeholders) == 1
        problems.append(
            f"{_join(placeholders)} {'is' if one else 'are'} still `...`: replace "
            f"{'it' if one else 'them'} with your answer{'' if one else 's'}."
        )
    if problems:
        return Verdict(False, " ".join(problems))
    verb = "is" if len(names) == 1 else "are"
    return Verdict(True, f"{_join([f'`{name}`' for name in names])} {verb} defined.")
