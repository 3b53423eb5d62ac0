"""What an assignment needs beyond otter's own config: its optional ``assignment.yml``.

otter's config (the master's ``ASSIGNMENT CONFIG``) already says which files of the
assignment folder students get (``files``) and which only the bundle gets
(``autograder_files``), and which requirements it has (``requirements``). This file adds
what lives outside the folder, so that the build hard-codes nothing of any one assignment:

.. code-block:: yaml

    # assignments/neural-networks/assignment.yml
    packages: [mnist_data]           # this repository's packages the notebook imports, for students and the bundle
    requirements_extra: neural-networks   # pins from pyproject.toml's extra of that name
    external_files:                  # files kept outside the repository (never committed)
      mnist.npz:
        to: bundle                   # or "both": students get it too
        find: mnist_data:verified_mnist_file   # given --data mnist.npz=PATH or None
        env: MNIST_NPZ               # set to the file's path while grading (optional)
    student_readme: student-README.md    # appended to the student README
    otter_self_test: false           # otter assign's solution self-test (default true)

Every assignment gets this framework's kernel package, ``student`` (its ``grader``, the
export, the check library). An assignment without the file is a plain otter assignment: no
more packages, no data files, the grading pins merged with its own requirements, otter's
self-test on.
"""

import importlib
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SPEC_FILENAME = "assignment.yml"
DESTINATIONS = ("bundle", "both")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")


class AssignmentSpecError(ValueError):
    """The assignment file is wrong; the message names the file and what to change."""


class ExternalFileError(RuntimeError):
    """An external file's finder could not provide it; the message is the finder's (where to get it)."""


@dataclass(frozen=True)
class ExternalFile:
    name: str
    to: str
    find: str
    """``module:function``: called with the path given at the command line (or None), it
    returns the verified file, or raises with a message saying where to get it."""
    env: str | None = None
    """An environment variable the grading kernel and checker get, holding the file's path."""

    def locate(self, given: Path | None) -> Path:
        module, _, function = self.find.partition(":")
        finder = getattr(importlib.import_module(module), function)
        try:
            return Path(finder(given))
        except Exception as error:  # noqa: BLE001 - a finder says what is wrong in its own words
            raise ExternalFileError(str(error)) from None


@dataclass(frozen=True)
class AssignmentSpec:
    packages: list[str] = field(default_factory=list)
    requirements_extra: str | None = None
    external_files: list[ExternalFile] = field(default_factory=list)
    student_readme: str = ""
    """Markdown added to the student README (the file's text, read at load)."""
    otter_self_test: bool = True

    def package_dirs(self) -> list[Path]:
        """The folders of the declared packages, in order."""
        return [Path(importlib.util.find_spec(name).origin).parent for name in self.packages]


def read_spec(assignment_dir: Path) -> AssignmentSpec:
    """The assignment's ``assignment.yml``, checked; defaults when there is none.

    Example:
    >>> read_spec(Path("/nonexistent")) == AssignmentSpec()
    True
    >>> read_spec(Path("assignments/neural-networks")).requirements_extra
    'neural-networks'
    """
    path = assignment_dir / SPEC_FILENAME
    if not path.is_file():
        return AssignmentSpec()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise AssignmentSpecError(f"{path} is not valid YAML: {error}") from None
    known = {"packages", "requirements_extra", "external_files", "student_readme", "otter_self_test"}
    if not isinstance(data, dict) or set(data) - known:
        extra = sorted(set(data) - known) if isinstance(data, dict) else "not a mapping"
        raise AssignmentSpecError(f"{path}: unknown keys {extra}; known: {', '.join(sorted(known))}")
    packages = data.get("packages") or []
    for name in packages:
        if not isinstance(name, str) or importlib.util.find_spec(name) is None:
            raise AssignmentSpecError(f"{path}: package {name!r} cannot be imported; packages names this repository's packages")
    files = []
    for name, entry in (data.get("external_files") or {}).items():
        if not isinstance(entry, dict) or entry.get("to") not in DESTINATIONS or ":" not in str(entry.get("find", "")):
            raise AssignmentSpecError(
                f"{path}: external file {name!r} needs 'to: bundle' or 'to: both' and 'find: module:function'"
            )
        env = entry.get("env")
        if env is not None and not (isinstance(env, str) and ENV_NAME.fullmatch(env)):
            raise AssignmentSpecError(f"{path}: external file {name!r}: env must be a variable name such as MNIST_NPZ")
        files.append(ExternalFile(name, entry["to"], entry["find"], env))
    readme = ""
    if data.get("student_readme"):
        readme_path = assignment_dir / data["student_readme"]
        if not readme_path.is_file():
            raise AssignmentSpecError(f"{path}: student_readme {readme_path} does not exist")
        readme = readme_path.read_text()
    self_test = data.get("otter_self_test", True)
    if not isinstance(self_test, bool):
        raise AssignmentSpecError(f"{path}: otter_self_test must be true or false")
    return AssignmentSpec(list(packages), data.get("requirements_extra"), files, readme, self_test)
