"""Grading limits: the one place for timeouts, size caps and threads, with the defaults we ship.

Gradescope kills an autograder after 10 minutes and then shows the student nothing, so
every default leaves room to write partial results well before that.
"""

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path



@dataclass(frozen=True)
class GradingLimits:
    """Limits for grading one submission. Times in seconds, sizes in bytes.

    Example:
    >>> GradingLimits(cell_timeout=60).cell_timeout
    60
    """

    cell_timeout: float = 180
    """Longest one notebook cell may run before it is interrupted."""

    total_timeout: float = 420
    """Budget for executing the whole notebook; cells past it are skipped, not run."""

    results_timeout: float = 60
    """Reserved after the budget for the tests that have not run yet and for writing results."""

    max_output_bytes: int = 1_000_000
    """Output kept per cell; the rest is dropped with a notice."""

    max_notebook_bytes: int = 20_000_000
    """Largest notebook accepted (outputs included)."""

    kernel_threads: int = 1
    """Threads for TensorFlow and BLAS in the student's kernel (at most the CPUs grading may use).

    One by default: a small model's training spends more CPU time keeping a second thread in
    step than it saves (neural-networks: 21 against 25 CPU seconds per submission, no slower
    on the clock), and ``grade-all`` already runs one grading per core.
    """

    @property
    def hard_timeout(self) -> float:
        """When the whole grading process is killed, if a kernel ignores interrupts."""
        return self.total_timeout + self.results_timeout + 30

    def to_json(self) -> str:
        """These limits as JSON, as the bundle carries them (``layout.Bundle.limits``).

        Example:
        >>> '"cell_timeout": 180' in GradingLimits().to_json()
        True
        """
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> "GradingLimits":
        """Defaults updated with the values in ``path``, if it exists.

        Example:
        >>> GradingLimits.read(Path("/nonexistent.json")) == GradingLimits()
        True
        """
        if not path.is_file():
            return cls()
        return cls().updated(json.loads(path.read_text()), origin=str(path))

    def updated(self, overrides: dict, origin: str = "grading limits") -> "GradingLimits":
        """A copy with ``overrides`` applied; unknown names or non-positive values are refused.

        Example:
        >>> GradingLimits().updated({"total_timeout": 300}).total_timeout
        300
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"{origin}: unknown limit(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        whole = {f.name for f in fields(self) if f.type is int or f.type == "int"}
        for name, value in overrides.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{origin}: {name} must be a positive number, got {value!r}")
            if name in whole and value != int(value):
                raise ValueError(f"{origin}: {name} must be a whole number, got {value!r}")
        return replace(self, **overrides)
