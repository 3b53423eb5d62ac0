"""The outcome every check returns."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check, true when it passed, printed as its message.

    Example:
    >>> verdict = Verdict(False, "`answer` is not defined.")
    >>> bool(verdict), str(verdict)
    (False, '`answer` is not defined.')
    """

    passed: bool
    message: str

    def __bool__(self):
        return self.passed

    def __str__(self):
        return self.message
