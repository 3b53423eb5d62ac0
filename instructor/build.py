"""Build an assignment: the student folder and the Gradescope bundle, from the master notebook.

A pipeline of small steps around ``otter assign``:
1. stage the master notebook with this project's packages, pins and MNIST, and add the
   build settings to its assignment config (the master holds content only): ``student``
   (the kernel's package: grader, export, checks) goes to students and the bundle,
   ``harness`` (grading) to the bundle only;
2. run ``otter assign`` on the staged copy;
3. publish to ``dist/<name>/`` reproducibly: notebooks with stable cell ids, and a bundle
   zip with sorted entries and fixed timestamps whose ``run_otter.py`` is our entry point
   (``harness/run_otter.py``), with the answer names each question's tests read and the
   students' public tests; and check that nothing shipped to students holds a hidden
   test's expected number.
"""

import json
import re
import shutil
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import nbformat
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

import harness
import student
from student.presubmit import METADATA_KEY as PRESUBMIT_METADATA_KEY
from student.wording import points_text
from harness.layout import (
    ANSWER_NAMES_FILENAME, FILE_VARIABLES_FILENAME, LIMITS_FILENAME, MANUAL_QUESTIONS_FILENAME, PUBLIC_TESTS_DIRNAME,
    QUESTION_ORDER_FILENAME,
)
from harness.limits import GradingLimits
from harness.results import OTTER_SCORE_DECIMALS, otter_test_files
from harness.sandbox import USERADD_COMMAND

from .answer_names import names_read_by_case
from .assignment import SPEC_FILENAME, AssignmentSpec, read_spec

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
STAGED_REQUIREMENTS = "requirements-pinned.txt"
CONFIG_MARKER = "# ASSIGNMENT CONFIG"
# Not an otter setting: the build takes it out of the config and ships it in the bundle.
LIMITS_KEY = "grading_limits"
ANSWERS_KEY = "answers"
# otter assign's init cell; its grader becomes student.notebook's, whose checks say what they verified.
OTTER_INIT_LINE = re.compile(r"^(?:import otter\n)?grader = otter\.Notebook\(", re.MULTILINE)
OUR_INIT_LINE = "from student.notebook import Notebook\ngrader = Notebook("
# A cell tag in the master: the cell belongs to that hand-graded question's PDF (e.g. its plots).
MANUAL_TAG_PREFIX = "manual:"
# This framework's kernel-side package goes to every student folder and bundle: the export
# cell calls student.export. The grading harness goes to every bundle, never to students.
KERNEL_PACKAGES = (student,)
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
    auto_points: float = 0
    """The points the autograder's tests give."""
    manual_points: dict = None
    """Per hand-graded question (``manual: true`` in the master), its points."""


def find_master(assignment_dir: Path) -> Path:
    """The one notebook in ``assignment_dir`` with an otter ``ASSIGNMENT CONFIG`` cell (a raw
    cell or a Markdown ```` ```otter ```` block, anywhere, as otter reads it), or else the one
    with ``BEGIN QUESTION`` cells (otter needs no config).

    Example:
    >>> find_master(Path("assignments/neural-networks")).name  # doctest: +SKIP
    'neural-networks.ipynb'
    """
    if not assignment_dir.is_dir():
        raise BuildError(f"{assignment_dir} is not a folder; pass an assignment folder such as assignments/neural-networks")
    notebooks = {path: _otter_notebook(path) for path in sorted(assignment_dir.glob("*.ipynb"))}
    masters = ([path for path, notebook in notebooks.items() if _config_cells(notebook)]
               or [path for path, notebook in notebooks.items() if _question_cells(notebook)])
    if len(masters) != 1:
        found = ", ".join(p.name for p in masters) or "none"
        raise BuildError(
            f"{assignment_dir} must hold exactly one master notebook (a notebook with an otter '{CONFIG_MARKER}' "
            "cell, raw or in a Markdown ```otter block, or without one, with 'BEGIN QUESTION' cells); "
            f"found {found}."
        )
    return masters[0]


def build_assignment(assignment_dir: Path, dist_root: Path = Path("dist"), data: dict | None = None,
                     self_test: bool = True) -> Build:
    """Build ``dist_root/<name>/student/`` and ``dist_root/<name>/autograder/`` from a master notebook.

    ``data`` gives paths for the files the assignment's ``assignment.yml`` keeps outside the
    repository (e.g. ``{"mnist.npz": Path(...)}``); ``self_test=False`` skips otter's
    solution self-test even where the assignment asks for it.

    Example:
    >>> build = build_assignment(Path("assignments/neural-networks"))  # doctest: +SKIP
    >>> build.bundle.name                                                # doctest: +SKIP
    'neural-networks-autograder.zip'
    """
    master = find_master(assignment_dir)
    spec = read_spec(assignment_dir)
    unknown = sorted(set(data or {}) - {f.name for f in spec.external_files})
    if unknown:
        raise BuildError(f"{assignment_dir} declares no external file {', '.join(unknown)} (see its {SPEC_FILENAME})")
    with tempfile.TemporaryDirectory(prefix="build-") as tmp:
        stage = Path(tmp) / "stage"
        settings = _stage(master, stage, spec, data or {})
        _run_otter_assign(stage / master.name, Path(tmp) / "otter", self_test and spec.otter_self_test)
        return _publish(Path(tmp) / "otter", master.name, settings, dist_root / settings.name)


def grading_requirements(extra: str | None = None) -> list[str]:
    """The exact pins of every assignment (pyproject.toml's dependencies), and ``extra``'s.

    Example:
    >>> any(r.startswith("otter-grader[grading]==") for r in grading_requirements())
    True
    >>> any(r.startswith("keras==") for r in grading_requirements("neural-networks"))
    True
    """
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = project.get("optional-dependencies", {})
    if extra is not None and extra not in extras:
        raise BuildError(f"requirements_extra {extra!r} is not an extra of {PYPROJECT}; add its pins there")
    return [*project["dependencies"], *(extras[extra] if extra else [])]


def merged_requirements(pins: list[str], own: list[str], origin: str) -> list[str]:
    """``pins``, then the assignment's ``own`` requirements that name other projects.

    A project both pin must be pinned alike: the grader's versions are the students'.

    Example:
    >>> merged_requirements(["numpy==2.4.6"], ["tqdm", "numpy", "# a comment", ""], "requirements.txt")
    ['numpy==2.4.6', 'tqdm']
    >>> merged_requirements(["numpy==2.4.6"], ["numpy==1.26"], "requirements.txt")
    Traceback (most recent call last):
    instructor.build.BuildError: requirements.txt asks for numpy==1.26, but grading pins numpy==2.4.6; remove that line or match the pin.
    """
    pinned = {canonicalize_name(Requirement(pin).name): pin for pin in pins}
    merged = list(pins)
    for line in own:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            raise BuildError(f"{origin}: {line!r} is not a requirement pip understands") from None
        ours = pinned.get(canonicalize_name(requirement.name))
        if ours is None:
            merged.append(line)
        elif requirement.specifier and str(requirement.specifier) != str(Requirement(ours).specifier):
            raise BuildError(f"{origin} asks for {line}, but grading pins {ours}; remove that line or match the pin.")
    return merged


class _Settings(NamedTuple):
    name: str
    limits: GradingLimits
    question_order: list[str]
    declared_answers: dict
    manual_points: dict
    export_pdf: bool
    student_readme: str
    file_variables: dict


def _stage(master: Path, stage: Path, spec: AssignmentSpec, data: dict) -> _Settings:
    shutil.copytree(master.parent, stage, ignore=shutil.ignore_patterns(
        "submissions", "*.md", SPEC_FILENAME, "__pycache__", ".ipynb_checkpoints"))
    package_dirs = [*(Path(p.__file__).parent for p in KERNEL_PACKAGES), *spec.package_dirs()]
    for package_dir in [*package_dirs, *(Path(p.__file__).parent for p in BUNDLE_PACKAGES)]:
        if (stage / package_dir.name).exists():
            raise BuildError(
                f"{master.parent / package_dir.name} has the name of the package {package_dir.name!r} the build "
                "adds; rename that folder."
            )
        shutil.copytree(package_dir, stage / package_dir.name, ignore=shutil.ignore_patterns("__pycache__"))
    for external in spec.external_files:
        if (stage / external.name).exists():
            raise BuildError(f"{master.parent / external.name} has the name of an external file; rename it.")
        shutil.copyfile(external.locate(data.get(external.name)), stage / external.name)

    notebook = _otter_notebook(stage / master.name)
    config = _assignment_config(notebook, stage)
    cell = _one_config_cell(notebook)  # written below with the whole config otter is to read
    name = _name(config, master)
    limits = GradingLimits().updated(config.pop(LIMITS_KEY, None) or {}, origin=f"{master}: {LIMITS_KEY}")
    to_students = [f.name for f in spec.external_files if f.to == "both"]
    config["files"] = [*config.get("files", []), *(d.name for d in package_dirs), *to_students]
    config["autograder_files"] = [
        *config.get("autograder_files", []), *(f.name for f in spec.external_files if f.to == "bundle"),
        *(Path(p.__file__).parent.name for p in BUNDLE_PACKAGES),
    ]
    own, origin = _own_requirements(stage, config.get("requirements"))
    requirements = merged_requirements(grading_requirements(spec.requirements_extra), own, origin)
    # Written under a name of our own: the assignment's requirements.txt stays as it was.
    (stage / STAGED_REQUIREMENTS).write_text("\n".join(requirements) + "\n")
    config["requirements"] = STAGED_REQUIREMENTS
    config["overwrite_requirements"] = True  # otter would add its own unpinned defaults
    config["python_version"] = f"{sys.version_info.major}.{sys.version_info.minor}"
    config.pop("run_tests", None)  # the build's self-test switch decides (_run_otter_assign)
    export_pdf = _disable_otters_pdf(config)
    cell.source = CONFIG_MARKER + "\n" + yaml.safe_dump(config, sort_keys=False)
    questions = _question_configs(notebook)
    manual = {q["name"]: _points(q) for q in questions if q.get("manual")}
    _mark_manual_questions(notebook, manual, export_pdf)
    nbformat.write(notebook, stage / master.name)
    declared = {q["name"]: list(q[ANSWERS_KEY]) for q in questions if q.get(ANSWERS_KEY)}
    variables = {f.env: f.name for f in spec.external_files if f.env}
    return _Settings(name, limits, [q["name"] for q in questions], declared, manual, export_pdf, spec.student_readme,
                     variables)


def assignment_name(master: Path) -> str:
    """The name a build gives the assignment of ``master``: its config's ``name``, else its folder's.

    Example:
    >>> assignment_name(Path("assignments/neural-networks/neural-networks.ipynb"))
    'neural-networks'
    """
    return _name(_assignment_config(_otter_notebook(master), master.parent), master)


def _name(config: dict, master: Path) -> str:
    # otter's name is also its submission check (``assignment_name``): a default for ours only.
    return config.get("name") or master.parent.resolve().name


def _own_requirements(stage: Path, setting) -> tuple[list[str], str]:
    """The assignment's own requirements, as otter reads them: a file named in the config
    (``requirements.txt`` beside the master by default) or a list."""
    if isinstance(setting, list):
        return [str(line) for line in setting], "the config's requirements"
    path = stage / (setting or "requirements.txt")
    if not path.is_file():
        if setting:
            raise BuildError(f"the config names requirements {setting!r}, which is not in the assignment folder")
        return [], ""
    return path.read_text().splitlines(), path.name


def _disable_otters_pdf(config: dict) -> bool:
    """Whether the master wants the export's PDF; otter's own (LaTeX) PDF is turned off.

    ``student.export`` makes the PDF instead (Chromium, no LaTeX); the build writes its call.

    Example:
    >>> config = {"export_cell": {"instructions": "Upload it."}}
    >>> _disable_otters_pdf(config), config["export_cell"]["pdf"]
    (True, False)
    >>> _disable_otters_pdf({"export_cell": False})
    False
    """
    export_cell = config.get("export_cell", True)
    if export_cell is False:
        return False
    if export_cell is True or export_cell is None:
        export_cell = config["export_cell"] = {}
    wanted = bool(export_cell.get("pdf", True))
    export_cell["pdf"] = False
    return wanted


def _points(question: dict) -> float:
    """A question's points (otter allows a number or a list of per-test points, and defaults to 1).

    Example:
    >>> _points({"points": 2}), _points({"points": [1, 0.5]}), _points({})
    (2, 1.5, 1)
    """
    points = question.get("points")
    if points is None:
        return 1
    return sum(points) if isinstance(points, list) else points


def _mark_manual_questions(notebook, manual: dict, export_pdf: bool) -> None:
    """Tell students at each hand-graded question how it is graded, and put the cells the
    master tags ``manual:<question>`` between otter's PDF markers, so the PDF holds them."""
    how = (
        "the export cell at the end of the notebook puts your answer, with the outputs it refers to, in a PDF "
        "inside your submission zip" if export_pdf else "your instructor says how to submit it"
    )
    for index, question in _question_cells(notebook):
        prompt = notebook.cells[index + 1] if index + 1 < len(notebook.cells) else None
        if question["name"] in manual and prompt is not None and prompt.cell_type == "markdown":
            prompt.source += f"\n\n_Graded by hand ({points_text(manual[question['name']])}): {how}._"
    marked = [
        index for index, cell in enumerate(notebook.cells)
        if any(tag.startswith(MANUAL_TAG_PREFIX) for tag in cell.metadata.get("tags", []))
    ]
    unknown = {
        tag[len(MANUAL_TAG_PREFIX):] for index in marked for tag in notebook.cells[index].metadata["tags"]
        if tag.startswith(MANUAL_TAG_PREFIX)
    } - set(manual)
    if unknown:
        raise BuildError(
            f"cells are tagged {', '.join(MANUAL_TAG_PREFIX + q for q in sorted(unknown))}, but no question of that "
            "name has 'manual: true'; tag them with a hand-graded question's name."
        )
    for start, end in reversed(_runs(marked)):
        notebook.cells.insert(end + 1, _locked_markdown("<!-- END QUESTION -->"))
        notebook.cells.insert(start, _locked_markdown("<!-- BEGIN QUESTION -->"))


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs in sorted ``indices``, as (first, last).

    Example:
    >>> _runs([3, 4, 5, 9, 11, 12])
    [(3, 5), (9, 9), (11, 12)]
    """
    runs = []
    for index in indices:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _locked_markdown(source: str):
    # otter's own question markers are locked the same way: students cannot remove them.
    return nbformat.v4.new_markdown_cell(source, metadata={"deletable": False, "editable": False})


def _question_configs(notebook) -> list[dict]:
    return [question for _, question in _question_cells(notebook)]


def _question_cells(notebook) -> list[tuple[int, dict]]:
    """``(cell index, config)`` of each named ``BEGIN QUESTION`` cell, in notebook order, found
    and read by otter's own functions."""
    from otter.assign.blocks import BlockType, get_cell_config, is_block_boundary_cell

    found = []
    for index, cell in enumerate(notebook.cells):
        if is_block_boundary_cell(cell, BlockType.QUESTION):
            question = get_cell_config(cell)
            if isinstance(question, dict) and "name" in question:
                found.append((index, question))
    return found


def _otter_notebook(path: Path):
    """The notebook at ``path`` as otter assign reads a master: each Markdown ```` ```otter ````
    block made a raw cell by otter's ``extract_all_fenced_otter_cells``. otter assign does this
    first itself, so a staged notebook written this way gives the same output."""
    from otter.assign.blocks import extract_all_fenced_otter_cells
    from otter.assign.utils import AssignNotebookFormatException

    notebook = nbformat.read(path, as_version=4)
    try:
        notebook.cells = extract_all_fenced_otter_cells(notebook.cells)
    except AssignNotebookFormatException as error:
        raise BuildError(f"{path.name}: {error}") from None
    if notebook.nbformat_minor < 5:  # the new cells have ids, which nbformat 4.4 and older forbid
        for cell in notebook.cells:
            cell.pop("id", None)
    return notebook


def _config_cells(notebook) -> list:
    """The notebook's assignment config cells, as otter recognises them (anywhere, any number)."""
    from otter.assign.blocks import is_assignment_config_cell

    return [cell for cell in notebook.cells if is_assignment_config_cell(cell)]


def _assignment_config(notebook, folder: Path) -> dict:
    """The assignment config otter assign uses: each config cell in notebook order, each after
    the file its ``config_file`` names (relative to the master's ``folder``), applied as otter
    applies them (``Assignment.load_config_file``, then ``update``); ``config_file`` itself removed."""
    from otter.assign.blocks import get_cell_config

    config = {}
    for cell in _config_cells(notebook):
        own = get_cell_config(cell)
        if not isinstance(own, dict):
            raise BuildError(f"the assignment config is not a YAML mapping: {cell.source!r}")
        if own.get("config_file"):
            path = folder / own["config_file"]
            if not path.is_file():
                raise BuildError(f"the assignment config names config_file {own['config_file']!r}, which is not in {folder}")
            from_file = yaml.full_load(path.read_text())  # otter's reading of it
            if not isinstance(from_file, dict):
                raise BuildError(f"{path.name} (the assignment's config_file) is not a YAML mapping")
            config = _merged(config, from_file)
        config = _merged(config, own)
    config.pop("config_file", None)
    return config


def _merged(base: dict, override: dict) -> dict:
    """``override`` applied to ``base`` as otter's config (fica's ``Config.update``) applies it:
    nested settings key by key, any other value replaced.

    Example:
    >>> _merged({"export_cell": {"force_save": True}, "files": ["a.csv"]}, {"export_cell": {"pdf": False}, "files": ["b.csv"]})
    {'export_cell': {'force_save': True, 'pdf': False}, 'files': ['b.csv']}
    """
    merged = dict(base)
    for key, value in override.items():
        nested = isinstance(merged.get(key), dict) and isinstance(value, dict)
        merged[key] = _merged(merged[key], value) if nested else value
    return merged


def _one_config_cell(notebook):
    """The notebook's first config cell, every other one removed (the caller writes the whole
    config into it, config files included); a new one at the top if the master has none."""
    cells = _config_cells(notebook)
    if not cells:
        cell = nbformat.v4.new_raw_cell(CONFIG_MARKER)
        if notebook.nbformat_minor < 5:
            cell.pop("id", None)
        notebook.cells.insert(0, cell)
        return cell
    notebook.cells = [c for c in notebook.cells if not any(c is other for other in cells[1:])]
    return cells[0]


def _run_otter_assign(master: Path, output: Path, self_test: bool) -> None:
    """otter assign, with otter's solution self-test when ``self_test``; no PDFs (``student.export`` makes them)."""
    from otter.assign import main as otter_assign

    try:
        otter_assign(str(master), str(output), no_pdfs=True, no_run_tests=not self_test)
    except Exception as error:
        hint = (" (otter's self-test of the solution; fix the solution or its tests, or build with --no-self-test)"
                if "autograder tests failed" in str(error) else "")
        raise BuildError(f"otter assign failed on {master.name}{hint}: {error}") from None


def _publish(otter_output: Path, master_name: str, settings: "_Settings", destination: Path) -> Build:
    name = settings.name
    if destination.exists():
        shutil.rmtree(destination)
    student_dir, grading_dir = destination / "student", destination / "autograder"
    shutil.copytree(otter_output / "student", student_dir, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(otter_output / "autograder" / "requirements.txt", student_dir / "requirements.txt")
    readme = (Path(__file__).parent / "templates" / "student-README.md").read_text()
    readme = readme.format(name=name, notebook=master_name)
    (student_dir / "README.md").write_text(readme + (f"\n{settings.student_readme}" if settings.student_readme else ""))
    (otter_zip,) = (otter_output / "autograder").glob("*.zip")
    test_cases = _test_cases(otter_zip)
    answer_names, derived = _answer_names(test_cases, settings.declared_answers)
    # What the export's pre-submit run needs to run the notebook as the grader will (student.presubmit).
    presubmit = {"answers": answer_names, "limits": {
        "cell_timeout": settings.limits.cell_timeout, "total_timeout": settings.limits.total_timeout}}
    _use_our_kernel_side(student_dir / master_name, settings.export_pdf, presubmit)
    _normalise_notebook_file(student_dir / master_name)

    grading_dir.mkdir(parents=True)
    # Same file name as the student's: otter.Notebook("<name>.ipynb") in its first cell reads it.
    solution = grading_dir / master_name
    shutil.copyfile(otter_output / "autograder" / master_name, solution)
    _use_our_kernel_side(solution, settings.export_pdf, presubmit)  # the same grader and export as the students'
    _normalise_notebook_file(solution)

    bundle = grading_dir / f"{name}-autograder.zip"
    _write_bundle(otter_zip, bundle, settings, answer_names, student_dir / "tests")
    _refuse_shipped_answers(student_dir, _hidden_numbers(test_cases), student_dir / master_name)
    auto_points = round(sum(case.points for cases in test_cases.values() for case in cases), OTTER_SCORE_DECIMALS)
    return Build(name, student_dir / master_name, bundle, solution, derived, auto_points, settings.manual_points)


def _use_our_kernel_side(notebook_path: Path, export_pdf: bool, presubmit: dict) -> None:
    """Point ``grader`` at ``student.notebook`` and the export cell at ``student.export``.

    ``presubmit`` goes into the notebook's metadata for the export's pre-submit run.
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "grader.export(" in cell.source:
            cell.source = _export_call(cell.source, notebook_path.name, export_pdf)
        elif cell.cell_type == "code" and OTTER_INIT_LINE.search(cell.source):
            cell.source = OTTER_INIT_LINE.sub(OUR_INIT_LINE, cell.source)
    notebook.metadata[PRESUBMIT_METADATA_KEY] = presubmit
    nbformat.write(notebook, notebook_path)


def _export_call(source: str, notebook_name: str, pdf: bool) -> str:
    """otter's export cell calling ``student.export.export_submission`` with otter's own options.

    Example:
    >>> print(_export_call("# Save first.\\ngrader.export(pdf=False, run_tests=True)", "nn.ipynb", True))
    # Save first.
    from student.export import export_submission
    export_submission(grader, "nn.ipynb", run_tests=True)
    """
    match = re.search(r"^grader\.export\((.*)\)$", source, re.MULTILINE)
    if match is None:
        raise BuildError(f"otter's export cell changed shape (no 'grader.export(...)' line): {source!r}")
    options = re.sub(r"\bpdf=False(, )?", "", match.group(1)).strip(", ")
    arguments = ", ".join(a for a in ["grader", json.dumps(notebook_name), "" if pdf else "pdf=False", options] if a)
    call = f"from student.export import export_submission\nexport_submission({arguments})"
    return source[: match.start()] + call + source[match.end():]


def _answer_names(test_cases: dict, declared: dict) -> tuple[dict, dict]:
    """Per question, the names its tests read: declared in the master, or derived from the tests."""
    names, derived = {}, {}
    for question, cases in test_cases.items():
        if question in declared:
            names[question] = declared[question]
        else:
            found = set()
            for case in cases:
                found |= names_read_by_case(case.body)
            names[question] = derived[question] = sorted(found)
    return names, derived


def _test_cases(otter_zip: Path) -> dict:
    """Per question, the test cases of the bundle otter built."""
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(otter_zip) as archive:
        archive.extractall(tmp, members=[n for n in archive.namelist() if n.startswith("tests/") and n.endswith(".py")])
        return {test_file.name: test_file.test_cases for test_file in otter_test_files(Path(tmp, "tests"))}


def _hidden_numbers(test_cases: dict) -> set[str]:
    """Whole numbers (10 or more) written in the hidden tests: what they expect of answers."""
    numbers = set()
    for cases in test_cases.values():
        for case in cases:
            if case.hidden:
                numbers |= _whole_numbers(case.body)
    return numbers


def _whole_numbers(body) -> set[str]:
    """Whole numbers of two or more digits in a test case: in its text (a doctest or Python), or
    the integer constants of an exception-style test's function (otter's ``test_case``).

    Example:
    >>> sorted(_whole_numbers(">>> len(z) == 10 and z[0] == 3.25"))
    ['10']
    >>> def test_len(z):
    ...     assert len(z) == 10 and z[0] == 3.25 and z[1] in (128, 7)
    >>> class Case: test_func = test_len
    >>> sorted(_whole_numbers(Case()))
    ['10', '128']
    """
    if isinstance(body, str):
        return set(re.findall(r"(?<![\w.])\d{2,}(?![\w.])", body))
    numbers, pending = set(), [body.test_func.__code__]
    while pending:
        constant = pending.pop()
        if hasattr(constant, "co_consts"):
            pending.extend(constant.co_consts)
        elif isinstance(constant, (tuple, frozenset)):
            pending.extend(constant)
        elif isinstance(constant, int) and not isinstance(constant, bool) and abs(constant) >= 10:
            numbers.add(str(abs(constant)))
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
    """The notebook with stable cell ids, at nbformat 4.5 or later (ids are invalid before 4.5).

    otter assign gives cells fresh random ids on every run, and keeps an older master's
    version, ids included: such a notebook fails ``nbformat.validate`` and every student's
    copy of it would be refused by the grader. Stable ids make two builds byte-identical.

    Example:
    >>> code = '{"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": null}'
    >>> old = '{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [%s]}' % code
    >>> new = nbformat.reads(_normalised_notebook(old.encode()).decode(), as_version=4)
    >>> (new.nbformat_minor, new.cells[0].id)
    (5, 'cell-0')
    """
    notebook = nbformat.reads(raw.decode(), as_version=4)
    notebook.nbformat_minor = max(notebook.nbformat_minor, 5)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        raise BuildError(f"otter assign wrote a notebook that is not valid nbformat: {error.message}") from None
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
    entries[MANUAL_QUESTIONS_FILENAME] = (json.dumps(settings.manual_points, indent=2) + "\n").encode()
    entries[FILE_VARIABLES_FILENAME] = (json.dumps(settings.file_variables, indent=2) + "\n").encode()
    for path in sorted(public_tests.glob("*.py")):
        entries[f"{PUBLIC_TESTS_DIRNAME}/{path.name}"] = path.read_bytes()
    with zipfile.ZipFile(bundle, "w") as target:
        for filename in sorted(entries):
            info = zipfile.ZipInfo(filename, date_time=FIXED_ZIP_TIME)
            info.external_attr = (0o755 if filename in EXECUTABLES else 0o644) << 16
            info.compress_type = zipfile.ZIP_STORED if filename.endswith(".npz") else zipfile.ZIP_DEFLATED
            target.writestr(info, entries[filename])

