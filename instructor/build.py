"""Build an assignment: the student folder and the Gradescope bundle, from the master notebook.

A pipeline of small steps around ``otter assign``:
1. stage the master notebook with this project's runtime packages, pins and MNIST, and
   add the build settings to its assignment config (the master holds content only);
2. run ``otter assign`` on the staged copy;
3. publish to ``dist/<name>/`` reproducibly: notebooks with stable cell ids, and a bundle
   zip with sorted entries and fixed timestamps whose ``run_otter.py`` is our entry point
   (``autograder/run_otter.py``).
"""

import importlib.metadata
import json
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import nbformat
import yaml

import autograder
import student
from autograder.limits import LIMITS_FILENAME, GradingLimits
from autograder.results import QUESTION_ORDER_FILENAME
from student.mnist import load_mnist, mnist_file

DISTRIBUTION = "otter-assignments"
CONFIG_MARKER = "# ASSIGNMENT CONFIG"
# Not an otter setting: the build takes it out of the config and ships it in the bundle.
LIMITS_KEY = "grading_limits"
RUNTIME_PACKAGES = (student, autograder)
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
EXECUTABLES = {"run_autograder", "setup.sh"}


class BuildError(Exception):
    """The assignment cannot be built; the message says what to fix."""


@dataclass(frozen=True)
class Build:
    """Where a build put its outputs."""

    name: str
    student_notebook: Path
    bundle: Path
    solution_notebook: Path


def find_master(assignment_dir: Path) -> Path:
    """The one notebook in ``assignment_dir`` whose first cell is an otter ``ASSIGNMENT CONFIG``.

    Example:
    >>> find_master(Path("assignments/neural-networks")).name  # doctest: +SKIP
    'neural-networks.ipynb'
    """
    if not assignment_dir.is_dir():
        raise BuildError(f"{assignment_dir} is not a folder; pass an assignment folder such as assignments/neural-networks")
    masters = [path for path in sorted(assignment_dir.glob("*.ipynb")) if _config_cell(nbformat.read(path, as_version=4))]
    if len(masters) != 1:
        found = ", ".join(p.name for p in masters) or "none"
        raise BuildError(
            f"{assignment_dir} must hold exactly one master notebook (a notebook whose first raw cell "
            f"starts with '{CONFIG_MARKER}'); found {found}."
        )
    return masters[0]


def build_assignment(assignment_dir: Path, dist_root: Path = Path("dist"), mnist=None) -> Build:
    """Build ``dist_root/<name>/student/`` and ``dist_root/<name>/autograder/`` from a master notebook.

    Example:
    >>> build = build_assignment(Path("assignments/neural-networks"))  # doctest: +SKIP
    >>> build.bundle.name                                                # doctest: +SKIP
    'neural-networks-autograder.zip'
    """
    master = find_master(assignment_dir)
    with tempfile.TemporaryDirectory(prefix="build-") as tmp:
        stage = Path(tmp) / "stage"
        settings = _stage(master, stage, mnist)
        _run_otter_assign(stage / master.name, Path(tmp) / "otter")
        return _publish(Path(tmp) / "otter", master.name, settings, dist_root / settings.name)


def runtime_requirements() -> list[str]:
    """This project's exact runtime pins (from pyproject.toml), for students and Gradescope.

    Example:
    >>> any(r.startswith("keras==") for r in runtime_requirements())
    True
    """
    requirements = importlib.metadata.requires(DISTRIBUTION) or []
    return [r for r in requirements if "extra ==" not in r]


class _Settings(NamedTuple):
    name: str
    limits: GradingLimits
    question_order: list[str]


def _stage(master: Path, stage: Path, mnist) -> _Settings:
    shutil.copytree(
        master.parent, stage, ignore=shutil.ignore_patterns("submissions", "*.md", "__pycache__", ".ipynb_checkpoints")
    )
    for package in RUNTIME_PACKAGES:
        package_dir = Path(package.__file__).parent
        shutil.copytree(package_dir, stage / package_dir.name, ignore=shutil.ignore_patterns("__pycache__"))
    data = mnist_file(mnist)
    load_mnist(data)  # verifies the content before it is shipped
    shutil.copyfile(data, stage / "mnist.npz")
    (stage / "requirements.txt").write_text("\n".join(runtime_requirements()) + "\n")

    notebook = nbformat.read(stage / master.name, as_version=4)
    cell = _config_cell(notebook)
    config = yaml.safe_load(cell.source[len(CONFIG_MARKER):]) or {}
    name = config.get("name")
    if not name:
        raise BuildError(f"{master}: the ASSIGNMENT CONFIG has no 'name'; add e.g. 'name: {master.stem}'")
    limits = GradingLimits().updated(config.pop(LIMITS_KEY, None) or {}, origin=f"{master}: {LIMITS_KEY}")
    config["files"] = [*config.get("files", []), *(Path(p.__file__).parent.name for p in RUNTIME_PACKAGES)]
    config["autograder_files"] = [*config.get("autograder_files", []), "mnist.npz"]
    config["requirements"] = "requirements.txt"
    config["overwrite_requirements"] = True
    config["python_version"] = f"{sys.version_info.major}.{sys.version_info.minor}"
    # The self-test (instructor validate) grades the reference through the real bundle;
    # otter's own run would execute the whole lesson, demonstrations included.
    config["run_tests"] = False
    cell.source = CONFIG_MARKER + "\n" + yaml.safe_dump(config, sort_keys=False)
    nbformat.write(notebook, stage / master.name)
    return _Settings(name, limits, _question_names(notebook))


def _question_names(notebook) -> list[str]:
    names = []
    for cell in notebook.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            question = yaml.safe_load(cell.source[len("# BEGIN QUESTION"):]) or {}
            if "name" in question:
                names.append(question["name"])
    return names


def _config_cell(notebook):
    if notebook.cells and notebook.cells[0].cell_type == "raw" and notebook.cells[0].source.startswith(CONFIG_MARKER):
        return notebook.cells[0]
    return None


def _run_otter_assign(master: Path, output: Path) -> None:
    from otter.assign import main as otter_assign

    try:
        otter_assign(str(master), str(output), no_pdfs=True, no_run_tests=True)
    except Exception as error:
        raise BuildError(f"otter assign failed on {master.name}: {error}") from error


def _publish(otter_output: Path, master_name: str, settings: "_Settings", destination: Path) -> Build:
    name, limits, question_order = settings
    if destination.exists():
        shutil.rmtree(destination)
    student_dir, grading_dir = destination / "student", destination / "autograder"
    shutil.copytree(otter_output / "student", student_dir, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(otter_output / "autograder" / "requirements.txt", student_dir / "requirements.txt")
    readme = (Path(__file__).parent / "templates" / "student-README.md").read_text()
    (student_dir / "README.md").write_text(readme.format(name=name, notebook=master_name))
    _normalise_notebook_file(student_dir / master_name)

    grading_dir.mkdir(parents=True)
    # Same file name as the student's: otter.Notebook("<name>.ipynb") in its first cell reads it.
    solution = grading_dir / master_name
    shutil.copyfile(otter_output / "autograder" / master_name, solution)
    _normalise_notebook_file(solution)

    (otter_zip,) = (otter_output / "autograder").glob("*.zip")
    bundle = grading_dir / f"{name}-autograder.zip"
    _write_bundle(otter_zip, bundle, limits, question_order)
    return Build(name, student_dir / master_name, bundle, solution)


def _normalise_notebook_file(path: Path) -> None:
    path.write_bytes(_normalised_notebook(path.read_bytes()))


def _normalised_notebook(raw: bytes) -> bytes:
    # otter assign gives cells fresh random ids on every run; stable ids make two builds of
    # the same master byte-identical.
    notebook = nbformat.reads(raw.decode(), as_version=4)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    return (nbformat.writes(notebook) + "\n").encode()


def _write_bundle(otter_zip: Path, bundle: Path, limits: GradingLimits, question_order: list[str]) -> None:
    entries = {}
    with zipfile.ZipFile(otter_zip) as source:
        for info in source.infolist():
            if info.is_dir() or "__pycache__" in info.filename:
                continue
            data = source.read(info)
            entries[info.filename] = _normalised_notebook(data) if info.filename.endswith(".ipynb") else data
    entries["run_otter.py"] = (Path(autograder.__file__).parent / "run_otter.py").read_bytes()
    entries[LIMITS_FILENAME] = limits.to_json().encode()
    entries[QUESTION_ORDER_FILENAME] = (json.dumps(question_order) + "\n").encode()
    with zipfile.ZipFile(bundle, "w") as target:
        for filename in sorted(entries):
            info = zipfile.ZipInfo(filename, date_time=FIXED_ZIP_TIME)
            info.external_attr = (0o755 if filename in EXECUTABLES else 0o644) << 16
            info.compress_type = zipfile.ZIP_STORED if filename.endswith(".npz") else zipfile.ZIP_DEFLATED
            target.writestr(info, entries[filename])

