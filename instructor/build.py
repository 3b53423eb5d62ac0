"""Build an assignment: the student folder and the Gradescope bundle, from the master notebook.

A pipeline of small steps around ``otter assign``:
1. stage the master notebook with this project's packages, pins and MNIST, and add the
   build settings to its assignment config (the master holds content only): ``student``
   (the kernel's package: MNIST loader, checks) goes to students and the bundle,
   ``harness`` (grading) to the bundle only;
2. run ``otter assign`` on the staged copy;
3. publish to ``dist/<name>/`` reproducibly: notebooks with stable cell ids, and a bundle
   zip with sorted entries and fixed timestamps whose ``run_otter.py`` is our entry point
   (``harness/run_otter.py``), with the answer names each question's tests read and the
   students' public tests; and check that nothing shipped to students holds a hidden
   test's expected number.
"""

import importlib.metadata
import json
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import nbformat
import yaml

import harness
import student
from harness.layout import ANSWER_NAMES_FILENAME, LIMITS_FILENAME, PUBLIC_TESTS_DIRNAME, QUESTION_ORDER_FILENAME
from harness.limits import GradingLimits
from harness.sandbox import USERADD_COMMAND
from student.mnist import load_mnist, mnist_file

from .answer_names import names_read_by

DISTRIBUTION = "otter-assignments"
CONFIG_MARKER = "# ASSIGNMENT CONFIG"
# Not an otter setting: the build takes it out of the config and ships it in the bundle.
LIMITS_KEY = "grading_limits"
ANSWERS_KEY = "answers"
STUDENT_PACKAGES = (student,)
BUNDLE_PACKAGES = (harness,)
# Gradescope runs setup.sh as root when it builds the image: the user for the student's
# code, and bubblewrap in case the container allows namespaces.
SETUP_ADDITIONS = f"""
# otter-assignments: the unprivileged user that runs the student's notebook, and its
# way to the Python environment under /root (passing through, not listing)
apt-get install -y bubblewrap || true
id {USERADD_COMMAND[-1]} >/dev/null 2>&1 || {' '.join(USERADD_COMMAND)}
chmod o+x /root
"""
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
    derived_answers: dict
    """Answer names the build derived from the tests, per question that declared none."""


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
    declared_answers: dict


def _stage(master: Path, stage: Path, mnist) -> _Settings:
    shutil.copytree(
        master.parent, stage, ignore=shutil.ignore_patterns("submissions", "*.md", "__pycache__", ".ipynb_checkpoints")
    )
    for package in (*STUDENT_PACKAGES, *BUNDLE_PACKAGES):
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
    config["files"] = [*config.get("files", []), *(Path(p.__file__).parent.name for p in STUDENT_PACKAGES)]
    config["autograder_files"] = [
        *config.get("autograder_files", []), "mnist.npz", *(Path(p.__file__).parent.name for p in BUNDLE_PACKAGES)
    ]
    config["requirements"] = "requirements.txt"
    config["overwrite_requirements"] = True
    config["python_version"] = f"{sys.version_info.major}.{sys.version_info.minor}"
    # The self-test (instructor validate) grades the reference through the real bundle;
    # otter's own run would execute the whole lesson, demonstrations included.
    config["run_tests"] = False
    cell.source = CONFIG_MARKER + "\n" + yaml.safe_dump(config, sort_keys=False)
    nbformat.write(notebook, stage / master.name)
    questions = _question_configs(notebook)
    declared = {q["name"]: list(q[ANSWERS_KEY]) for q in questions if q.get(ANSWERS_KEY)}
    return _Settings(name, limits, [q["name"] for q in questions], declared)


def _question_configs(notebook) -> list[dict]:
    configs = []
    for cell in notebook.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            question = yaml.safe_load(cell.source[len("# BEGIN QUESTION"):]) or {}
            if "name" in question:
                configs.append(question)
    return configs


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
    name = settings.name
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
    answer_names, derived = _answer_names(otter_zip, settings.declared_answers)
    _write_bundle(otter_zip, bundle, settings, answer_names, student_dir / "tests")
    _refuse_shipped_answers(student_dir, _hidden_numbers(otter_zip), student_dir / master_name)
    return Build(name, student_dir / master_name, bundle, solution, derived)


def _answer_names(otter_zip: Path, declared: dict) -> tuple[dict, dict]:
    """Per question, the names its tests read: declared in the master, or derived from the tests."""
    names, derived = {}, {}
    for question, cases in _test_cases(otter_zip).items():
        if question in declared:
            names[question] = declared[question]
        else:
            found = set()
            for case in cases:
                found |= names_read_by(case.body)
            names[question] = derived[question] = sorted(found)
    return names, derived


def _test_cases(otter_zip: Path) -> dict:
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(otter_zip) as archive:
        tests = [n for n in archive.namelist() if n.startswith("tests/") and n.endswith(".py")]
        archive.extractall(tmp, members=tests)
        return {
            test_file.name: test_file.test_cases
            for test_file in (create_test_file(str(Path(tmp, t)), NBMetadataConfig()) for t in sorted(tests))
        }


def _hidden_numbers(otter_zip: Path) -> set[str]:
    """Whole numbers (10 or more) written in the hidden tests: what they expect of answers."""
    numbers = set()
    for cases in _test_cases(otter_zip).values():
        for case in cases:
            if case.hidden:
                numbers |= set(re.findall(r"(?<![\w.])\d{2,}(?![\w.])", case.body))
    return numbers


def _refuse_shipped_answers(student_dir: Path, numbers: set[str], notebook: Path) -> None:
    """Refuse a build whose student files (the lesson aside) show a hidden test's number."""
    shown_in_lesson = set(re.findall(r"\d+", notebook.read_text()))
    secrets = numbers - shown_in_lesson
    for path in sorted(student_dir.rglob("*")):
        if not path.is_file() or path == notebook or path.suffix not in {".py", ".md", ".txt", ".ipynb", ".json", ".yml"}:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            found = secrets & set(re.findall(r"\d+", line))
            if found:
                raise BuildError(
                    f"{path.relative_to(student_dir)}:{number} shows {', '.join(sorted(found))}, which a hidden "
                    "test expects; students get this file, so change the number there."
                )


def _normalise_notebook_file(path: Path) -> None:
    path.write_bytes(_normalised_notebook(path.read_bytes()))


def _normalised_notebook(raw: bytes) -> bytes:
    # otter assign gives cells fresh random ids on every run; stable ids make two builds of
    # the same master byte-identical.
    notebook = nbformat.reads(raw.decode(), as_version=4)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    return (nbformat.writes(notebook) + "\n").encode()


def _write_bundle(otter_zip: Path, bundle: Path, settings: "_Settings", answer_names: dict, public_tests: Path) -> None:
    entries = {}
    with zipfile.ZipFile(otter_zip) as source:
        for info in source.infolist():
            if info.is_dir() or "__pycache__" in info.filename:
                continue
            data = source.read(info)
            entries[info.filename] = _normalised_notebook(data) if info.filename.endswith(".ipynb") else data
    entries["run_otter.py"] = (Path(harness.__file__).parent / "run_otter.py").read_bytes()
    entries["setup.sh"] = entries["setup.sh"] + SETUP_ADDITIONS.encode()
    entries[LIMITS_FILENAME] = settings.limits.to_json().encode()
    entries[QUESTION_ORDER_FILENAME] = (json.dumps(settings.question_order) + "\n").encode()
    entries[ANSWER_NAMES_FILENAME] = (json.dumps(answer_names, indent=2, sort_keys=True) + "\n").encode()
    for path in sorted(public_tests.glob("*.py")):
        entries[f"{PUBLIC_TESTS_DIRNAME}/{path.name}"] = path.read_bytes()
    with zipfile.ZipFile(bundle, "w") as target:
        for filename in sorted(entries):
            info = zipfile.ZipInfo(filename, date_time=FIXED_ZIP_TIME)
            info.external_attr = (0o755 if filename in EXECUTABLES else 0o644) << 16
            info.compress_type = zipfile.ZIP_STORED if filename.endswith(".npz") else zipfile.ZIP_DEFLATED
            target.writestr(info, entries[filename])

