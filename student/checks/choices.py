"""Checking a multiple-choice answer given as a set of strings."""

from student.checks._describe import _describe, _join, _plural
from student.checks.verdict import Verdict


def check_choice_set(answer, *, choices, expected=None) -> Verdict:
    """Check a multiple-choice answer given as a set of strings taken from ``choices``.

    Without ``expected`` only the form is checked (for public tests); with it, the answer
    must hold exactly the expected choices, and a failing message gives only counts.

    Example:
    >>> choices = ["relu", "sigmoid", "softmax"]
    >>> print(check_choice_set({"relu", "tanh"}, choices=choices))
    'tanh' is not in the list of choices ('relu', 'sigmoid', 'softmax').
    >>> print(check_choice_set({"relu"}, choices=choices, expected={"relu", "softmax"}))
    1 correct choice is missing.
    """
    choices = list(choices)
    if expected is not None and not set(expected) <= set(choices):
        unknown = sorted(set(expected) - set(choices))
        raise ValueError(f"expected {unknown} are not among the choices {choices}")

    example = "{" + ", ".join(repr(choice) for choice in choices[:2]) + "}"
    if answer is Ellipsis:
        return Verdict(
            False, f"your answer is still `...`: replace it with a set of choices, such as {example}."
        )
    if isinstance(answer, str):
        return Verdict(
            False,
            f"your answer should be a set of strings, got the string {answer!r}: put even a single "
            f"choice in braces, e.g. {{{answer!r}}}.",
        )
    if not isinstance(answer, (set, frozenset, list, tuple)):
        return Verdict(
            False,
            f"your answer should be a set of strings, such as {example}, got {_describe(answer)}.",
        )
    not_strings = [_describe(item) for item in answer if not isinstance(item, str)]
    if not_strings:
        return Verdict(False, f"every choice should be a string in quotes, got {_join(not_strings)}.")
    unknown = sorted(set(answer) - set(choices))
    if unknown:
        verb = "is" if len(unknown) == 1 else "are"
        listed = ", ".join(repr(choice) for choice in choices)
        return Verdict(
            False, f"{_join([repr(u) for u in unknown])} {verb} not in the list of choices ({listed})."
        )

    if expected is None:
        return Verdict(
            True,
            f"your answer has {_plural(len(set(answer)), 'valid choice')}; the autograder checks it "
            "after the deadline.",
        )
    missing = len(set(expected) - set(answer))
    extra = len(set(answer) - set(expected))
    if not missing and not extra:
        return Verdict(True, "your choices are right.")
    parts = []
    if missing:
        parts.append(f"{_plural(missing, 'correct choice')} {'is' if missing == 1 else 'are'} missing")
    if extra:
        parts.append(f"{extra} of your choices {'does' if extra == 1 else 'do'} not belong")
    return Verdict(False, " and ".join(parts) + ".")
