"""What a passing public check may honestly say, for the notebook's ``grader.check`` and the Gradescope summary.

Public tests often check only an answer's form while hidden tests decide its points; "passed"
would then claim what nobody verified. Standard library only: the trusted checker imports it.
"""


def check_wording(verified: list[str], public_points: float, total_points: float | None,
                  graded: str = "after you submit") -> str | None:
    """What passing public checks say, or None when "passed" is true (they decide every point).

    ``verified`` are the public tests' success messages (their ``success_message``, set in the
    master's test config), saying what they checked.

    Example:
    >>> check_wording(["format OK: two whole numbers"], 0, 2)
    'format OK: two whole numbers. Correctness is graded after you submit (2 points).'
    >>> check_wording([], 1, 3, graded="by hidden tests")
    'public checks pass (1 of 3 points). The other 2 points are graded by hidden tests.'
    >>> check_wording([], 2, 2) is None
    True
    """
    hidden = None if total_points is None else total_points - public_points
    if hidden is not None and hidden <= 0:
        return None
    done = "; ".join(message.strip().rstrip(".") for message in verified) or "public checks pass"
    if hidden is None:
        return f"{done}. Hidden tests may check more {graded}."
    if public_points:
        return f"{done} ({public_points:g} of {total_points:g} points). The other {points_text(hidden)} are graded {graded}."
    return f"{done}. Correctness is graded {graded} ({points_text(total_points)})."


def points_text(points: float) -> str:
    """``points`` with its unit.

    Example:
    >>> points_text(1), points_text(2.5)
    ('1 point', '2.5 points')
    """
    return f"{points:g} point{'' if points == 1 else 's'}"
