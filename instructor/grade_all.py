"""Grade a whole class: every submission of a folder or of Gradescope's export, in parallel.

``instructor grade-all SUBMISSIONS --bundle ZIP -o OUTDIR`` grades each submission exactly as
``instructor grade`` does (:func:`instructor.grade.grade_submission`: the bundle's own entry
point, the sandbox, the trusted checker), several at once, and writes into OUTDIR:

- ``results/<submission>/results.json`` for each submission graded, with ``grading.json``
  beside it: the sha256 of the bundle and of the submission it was graded from, so a second
  run reuses it (``force=True`` regrades), and why a grading failed (``error.txt`` holds the
  grader's own output then);
- ``gradebook.csv``, ``summary.md`` and ``grades.png`` (:mod:`instructor.gradebook`).

SUBMISSIONS is one of:

- **a folder**: each ``.ipynb`` or ``.zip`` in it is one student's submission, named by its
  file name without the extension; each subfolder is one student's submission (all its files),
  named by the folder; an empty subfolder is a student with no submission;
- **Gradescope's "Export Submissions" zip** (or that zip unpacked): ``submission_metadata.yml``
  maps each ``submission_<id>`` folder to its ``:submitters:`` (``:name:``, ``:sid:``,
  ``:email:``) and ``:created_at:``; a student with several submissions is graded on the
  latest, and each member of a group submission gets a row.

Nothing is dropped silently: a submission that cannot be graded (an unreadable zip member,
two notebooks from one student) or whose grading crashed is a ``failed`` row with the reason,
a student without files a ``missing`` one. One submission never stops the batch; only a
grader that refuses to run at all (no sandbox) does.
"""

import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import tempfile
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import yaml

from harness.results import scored_tests

from . import gradebook
from .grade import GradingError, GradingRefused, grade_submission

MEMORY_PER_WORKER = 1 << 30
"""Memory one grading needs at its peak: the neural-networks kernel reaches about 1 GB
(README, "Grading cost"), the budget Gradescope should give each container."""

METADATA_FILENAME = "submission_metadata.yml"
RESULTS_DIRNAME = "results"
GRADING_FILENAME = "grading.json"
ERROR_FILENAME = "error.txt"
SUBMISSION_SUFFIXES = (".ipynb", ".zip")
_NOISE = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store"}
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError, ValueError)

GRADED, FAILED, MISSING = "graded", "failed", "missing"


class GradeAllError(Exception):
    """The batch cannot run (bad bundle, unusable SUBMISSIONS, a grader that refuses); the message says why."""


@dataclass(frozen=True)
class Student:
    name: str
    sid: str = ""
    email: str = ""


@dataclass
class Submission:
    """One thing to grade: a file or a folder, or the reason it cannot be graded."""

    key: str
    """Unique; the folder under ``OUTDIR/results``."""
    label: str
    """What the instructor recognises: the file name, or the export's ``submission_<id>``."""
    path: Path | None = None
    problem: str = ""
    """Why it cannot be graded (the row is ``failed``); empty when it can."""
    missing: str = ""
    """Why there is nothing to grade (the row is ``missing``)."""
    submitted_at: str = ""


@dataclass
class Outcome:
    """What grading one submission gave."""

    status: str
    reason: str = ""
    results: dict | None = None
    reused: bool = False
    seconds: float = 0.0


@dataclass
class Row:
    """One gradebook row: a student, the submission that counts, and its outcome."""

    student: Student
    submission: Submission
    outcome: Outcome
    earlier: list[str] = field(default_factory=list)
    """Earlier submissions of this student, not graded (the latest counts)."""

    @property
    def results_file(self) -> str:
        if self.outcome.results is None:
            return ""
        return f"{RESULTS_DIRNAME}/{self.submission.key}/results.json"


@dataclass
class ClassReport:
    """The whole run: one row per student, and what this run did."""

    rows: list[Row]
    bundle: Path
    bundle_sha256: str
    jobs: int
    graded_now: int = 0
    reused: int = 0
    ignored: list[str] = field(default_factory=list)
    """Files in SUBMISSIONS that are no submission (not a notebook or zip)."""
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(row.outcome.status == status for row in self.rows)


# --------------------------------------------------------------------------- workers

def default_jobs() -> int:
    """Gradings to run at once: one per usable core, as far as memory allows ~1 GB each.

    Example:
    >>> default_jobs() >= 1
    True
    """
    import psutil

    from harness.supervisor import cpu_limit

    memory = psutil.virtual_memory().available
    limit = _cgroup_memory_available()
    if limit is not None:
        memory = min(memory, limit)
    return max(1, min(cpu_limit(), memory // MEMORY_PER_WORKER))


def _cgroup_memory_available() -> int | None:
    """Memory left under this process's cgroup v2 limit, or None when there is none."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controllers == "":
                folder = Path("/sys/fs/cgroup", path.lstrip("/"))
                limit = (folder / "memory.max").read_text().strip()
                if limit == "max":
                    return None
                return max(0, int(limit) - int((folder / "memory.current").read_text()))
    except (OSError, ValueError):
        return None
    return None


# --------------------------------------------------------------------------- hashes

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def submission_sha256(path: Path) -> str:
    """The sha256 of what a submission contains: its files' relative names and bytes.

    Example:
    >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "a.ipynb").write_text("{}")
    >>> submission_sha256(folder) == submission_sha256(folder)
    True
    """
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        name = file.relative_to(path).as_posix() if path.is_dir() else file.name
        digest.update(f"{name}\0{file.stat().st_size}\0".encode())
        digest.update(bytes.fromhex(sha256_file(file)))
    return digest.hexdigest()


# --------------------------------------------------------------------------- inputs

def collect(submissions: Path, workdir: Path, exclude: Path | None = None) -> tuple[list[tuple], list[str]]:
    """Who submitted what: ``([(students, submission, earlier submissions), ...], ignored files)``.

    ``workdir`` receives the export's files; ``exclude`` (the output folder) is never read as
    a submission.
    """
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        return _collect_export_zip(submissions, workdir), []
    if submissions.is_dir():
        if (submissions / METADATA_FILENAME).is_file():
            return _collect_export(submissions, submissions / METADATA_FILENAME, submissions.name, exclude=exclude), []
        return _collect_folder(submissions, exclude)
    if not submissions.exists():
        raise GradeAllError(f"{submissions} not found: give a folder of notebooks or zips, or Gradescope's export zip")
    raise GradeAllError(
        f"{submissions} is a single file: give a folder of notebooks or zips (one per student), or Gradescope's "
        "export zip (Review Grades > Export Submissions); grade one notebook with 'instructor grade'"
    )


def _collect_folder(folder: Path, exclude: Path | None) -> tuple[list[tuple], list[str]]:
    by_student: dict[str, list[Path]] = {}
    ignored = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name in _NOISE:
            continue
        if exclude is not None and entry.resolve() == exclude.resolve():
            continue
        if entry.is_dir():
            by_student.setdefault(entry.name, []).append(entry)
        elif entry.suffix.lower() in SUBMISSION_SUFFIXES:
            by_student.setdefault(entry.stem, []).append(entry)
        else:
            ignored.append(entry.name)
    entries, keys = [], set()
    for name, paths in by_student.items():
        student = Student(name=name)
        key = _unique_key(name, keys)
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            problem = f"{len(paths)} submissions for {name} ({names}): not graded; keep the one that counts"
            entries.append(((student,), Submission(key, names, problem=problem), []))
            continue
        path = paths[0]
        submission = Submission(key, path.name + ("/" if path.is_dir() else ""), path)
        if path.is_dir() and not _files_of(path):
            submission.path, submission.missing = None, f"{path.name}/ is empty"
        else:
            submission.problem = _problem_with(path)
        entries.append(((student,), submission, []))
    if not entries:
        raise GradeAllError(f"no submissions in {folder}: it should hold one .ipynb or .zip (or one folder) per student")
    return entries, ignored


def _files_of(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not _NOISE.intersection(p.relative_to(folder).parts)]


def _problem_with(path: Path) -> str:
    """Why ``path`` cannot be graded, as the grader would otherwise fail or guess: '' if it can."""
    files = _files_of(path) if path.is_dir() else [path]
    notebooks = [f for f in files if f.suffix.lower() == ".ipynb"]
    if len(notebooks) > 1:
        names = ", ".join(sorted(f.relative_to(path).as_posix() for f in notebooks))
        return f"{len(notebooks)} notebooks ({names}): not graded; ask the student which one counts"
    if not notebooks:
        for archive in (f for f in files if f.suffix.lower() == ".zip"):
            problem = _zip_problem(archive)
            if problem:
                return problem
    return ""


def _zip_problem(archive: Path) -> str:
    """Why the notebooks in ``archive`` cannot be graded (unreadable, more than one), '' if they can."""
    if not zipfile.is_zipfile(archive):
        return ""  # the grader tells the student it is no zip
    try:
        with zipfile.ZipFile(archive) as opened:
            members = [i for i in opened.infolist()
                       if i.filename.endswith(".ipynb") and not i.is_dir() and not _is_noise(i.filename)]
            if len(members) > 1:
                names = ", ".join(sorted(m.filename for m in members))
                return f"{len(members)} notebooks in {archive.name} ({names}): not graded; ask the student which one counts"
            for info in members:
                try:
                    with opened.open(info) as stream:
                        while stream.read(1 << 20):
                            pass
                except _ZIP_ERRORS as error:
                    return f"unreadable zip member: {archive.name}/{info.filename} ({error}); not graded"
    except _ZIP_ERRORS as error:
        return f"unreadable zip: {archive.name} ({error}); not graded"
    return ""


def _collect_export_zip(export: Path, workdir: Path) -> list[tuple]:
    """Unpack Gradescope's export into ``workdir``, noting members that cannot be read."""
    try:
        archive = zipfile.ZipFile(export)
    except _ZIP_ERRORS as error:
        raise GradeAllError(f"{export} cannot be read as a zip: {error}") from None
    with archive:
        names = [i.filename for i in archive.infolist() if not i.is_dir() and not _is_noise(i.filename)]
        metadata = [n for n in names if PurePosixPath(n).name == METADATA_FILENAME]
        if len(metadata) != 1:
            found = "no" if not metadata else f"{len(metadata)}"
            raise GradeAllError(
                f"{export} has {found} {METADATA_FILENAME}: give Gradescope's export zip as downloaded "
                "(Review Grades > Export Submissions), or a folder of notebooks or zips"
            )
        root = PurePosixPath(metadata[0]).parent
        unreadable: dict[str, list[str]] = {}
        for info in archive.infolist():
            if info.is_dir() or _is_noise(info.filename):
                continue
            relative = _safe_relative(info.filename, root)
            if relative is None:
                continue
            target = workdir.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
            except _ZIP_ERRORS as error:
                target.unlink(missing_ok=True)
                if relative == PurePosixPath(METADATA_FILENAME):
                    raise GradeAllError(f"{export}: {METADATA_FILENAME} cannot be read ({error})") from None
                unreadable.setdefault(relative.parts[0], []).append(f"{'/'.join(relative.parts)} ({error})")
    return _collect_export(workdir, workdir / METADATA_FILENAME, export.name, unreadable)


def _is_noise(name: str) -> bool:
    return bool(_NOISE.intersection(PurePosixPath(name).parts))


def _safe_relative(name: str, root: PurePosixPath) -> PurePosixPath | None:
    """``name`` relative to ``root``, without ``..`` or absolute parts; None if outside ``root``."""
    path = PurePosixPath(name)
    if root.parts and path.parts[: len(root.parts)] != root.parts:
        return None
    parts = [p for p in path.parts[len(root.parts):] if p not in ("", ".", "..", "/")]
    return PurePosixPath(*parts) if parts else None


class _MetadataLoader(yaml.SafeLoader):
    """YAML as Gradescope's Ruby writes it: any ``!ruby/...`` tag read as plain data."""


def _untagged(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_MetadataLoader.add_multi_constructor("!", _untagged)


def _field(mapping, name: str):
    """``mapping[':name']`` or ``mapping['name']`` (Ruby symbols keep their colon in YAML)."""
    if not isinstance(mapping, dict):
        return None
    return mapping.get(f":{name}", mapping.get(name))


def _collect_export(folder: Path, metadata_file: Path, origin: str, unreadable: dict | None = None,
                    exclude: Path | None = None) -> list[tuple]:
    unreadable = unreadable or {}
    try:
        metadata = yaml.load(metadata_file.read_text(encoding="utf-8"), Loader=_MetadataLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise GradeAllError(f"{origin}: {METADATA_FILENAME} cannot be read ({str(error).splitlines()[0]})") from None
    if not isinstance(metadata, dict):
        raise GradeAllError(f"{origin}: {METADATA_FILENAME} should map each submission folder to its submitters")
    # Every submission, then each student's latest (a student is their SID, else email, else name).
    candidates: dict[str, list[tuple]] = {}
    people: dict[str, Student] = {}
    keys: set[str] = set()
    listed = set()
    for number, (folder_name, entry) in enumerate(metadata.items()):
        folder_name = str(folder_name)
        listed.add(folder_name)
        created = _field(entry, "created_at")
        submission = Submission(_unique_key(folder_name, keys), folder_name, submitted_at=_timestamp_text(created))
        path = folder / folder_name
        if folder_name in unreadable:
            submission.problem = "unreadable in the export: " + "; ".join(unreadable[folder_name]) + "; not graded"
        elif path.is_dir() and _files_of(path):
            submission.path = path
            submission.problem = _problem_with(path)
        else:
            submission.missing = f"no files for {folder_name} in the export"
        students = [_student(s) for s in (_field(entry, "submitters") or [])] or [Student(name=folder_name)]
        for student in students:
            identity = student.sid or student.email.casefold() or student.name
            people[identity] = student  # as the last submission listed spells their name
            candidates.setdefault(identity, []).append((_sort_time(created), number, folder_name, submission))
    unlisted = [p for p in folder.iterdir() if p.is_dir() and p.name not in listed and p.name not in _NOISE
                and not p.name.startswith(".") and (exclude is None or p.resolve() != exclude.resolve())]
    for path in sorted(unlisted):
        submission = Submission(_unique_key(path.name, keys), path.name, path if _files_of(path) else None)
        if submission.path is None:
            continue
        submission.problem = _problem_with(path)
        identity = f"\0{path.name}"
        people[identity] = Student(name=f"{path.name} (not in {METADATA_FILENAME})")
        candidates[identity] = [(_sort_time(None), len(listed), path.name, submission)]
    entries = []
    for identity, history in candidates.items():
        *earlier, (_, _, _, submission) = sorted(history, key=lambda c: (c[0], c[1]))
        entries.append(((people[identity],), submission, [c[2] for c in earlier]))
    if not entries:
        raise GradeAllError(f"{origin}: {METADATA_FILENAME} lists no submissions")
    return entries


def _student(submitter) -> Student:
    text = lambda name: "" if _field(submitter, name) is None else str(_field(submitter, name)).strip()
    return Student(name=text("name"), sid=text("sid"), email=text("email"))


def _sort_time(value) -> datetime:
    """A comparable moment from ``:created_at:`` (YAML timestamp or text); the epoch if unknown."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace(" ", "T", 1).replace(" ", ""))
        except ValueError:
            return datetime.min.replace(tzinfo=timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _timestamp_text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _unique_key(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^\w.-]+", "_", name).strip("._") or "submission"
    key, number = base, 2
    while key.lower() in taken:
        key, number = f"{base}-{number}", number + 1
    taken.add(key.lower())
    return key


# --------------------------------------------------------------------------- grading

def grade_all(submissions: Path, bundle: Path, outdir: Path, jobs: int | None = None, force: bool = False,
              sandbox: str = "require", console=None) -> ClassReport:
    """Grade every submission in ``submissions`` with ``bundle``; results and gradebook in ``outdir``.

    Example:
    >>> report = grade_all(Path("submissions.zip"), Path("dist/nn/autograder/nn-autograder.zip"),
    ...                    Path("class"))  # doctest: +SKIP
    >>> report.count("graded"), report.count("failed"), report.count("missing")  # doctest: +SKIP
    (498, 1, 1)
    """
    started = time.monotonic()
    if not zipfile.is_zipfile(bundle):
        raise GradeAllError(f"{bundle} is not an autograder zip; build one with: instructor build assignments/<name>")
    if outdir.exists() and not outdir.is_dir():
        raise GradeAllError(f"{outdir} exists and is not a folder; choose another output folder with -o")
    bundle_hash = sha256_file(bundle)
    with tempfile.TemporaryDirectory(prefix="grade-all-") as tmp:
        entries, ignored = collect(submissions, Path(tmp), exclude=outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        to_grade = {s.key: s for _, s, _ in entries if s.path is not None and not s.problem and not s.missing}
        jobs = jobs or default_jobs()
        report = ClassReport([], bundle, bundle_hash, jobs, ignored=ignored)
        outcomes = _grade(list(to_grade.values()), bundle, bundle_hash, outdir, jobs, force, sandbox, console, report)
    for students, submission, earlier in entries:
        if submission.missing:
            outcome = Outcome(MISSING, submission.missing)
        elif submission.problem:
            outcome = Outcome(FAILED, submission.problem)
        else:
            outcome = outcomes[submission.key]
        report.rows += [Row(student, submission, outcome, earlier) for student in students]
    report.rows.sort(key=lambda r: (r.student.name.casefold(), r.student.sid, r.student.email))
    report.seconds = time.monotonic() - started
    gradebook.write_all(report, outdir)
    return report


def _grade(pending: list[Submission], bundle: Path, bundle_hash: str, outdir: Path, jobs: int, force: bool,
           sandbox: str, console, report: ClassReport) -> dict[str, Outcome]:
    outcomes, work = {}, []
    for submission in pending:
        previous = None if force else _previous(outdir, submission, bundle_hash)
        if previous is not None:
            outcomes[submission.key] = previous
            report.reused += 1
        else:
            work.append(submission)
    if not work:
        return outcomes
    progress = _Progress(len(work), console)
    fatal = None
    workers = min(jobs, len(work))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade",
                            initializer=_share_cores, initargs=(workers, itertools.count())) as pool:
        futures = {pool.submit(_grade_one, s, bundle, bundle_hash, outdir, sandbox): s for s in work}
        try:
            for future in as_completed(futures):
                submission = futures[future]
                try:
                    outcome = future.result()
                except _Refused as error:
                    fatal = fatal or str(error)
                    for other in futures:
                        other.cancel()
                    continue
                outcomes[submission.key] = outcome
                report.graded_now += 1
                progress.advance(submission, outcome)
        except KeyboardInterrupt:
            for other in futures:
                other.cancel()
            progress.close()
            raise GradeAllError(
                f"interrupted after {report.graded_now} of {len(work)} gradings; run the same command again to "
                "grade the rest (finished ones are kept)"
            ) from None
        finally:
            progress.close()
    if fatal:
        raise GradeAllError(f"the grader refused to run: {fatal}")
    return outcomes


class _Refused(Exception):
    """The bundle's grader refuses every submission (e.g. no sandbox): stop the batch."""


def _previous(outdir: Path, submission: Submission, bundle_hash: str) -> Outcome | None:
    """The outcome of an earlier run with the same bundle and submission, if it graded it."""
    folder = outdir / RESULTS_DIRNAME / submission.key
    try:
        record = json.loads((folder / GRADING_FILENAME).read_text())
        if record.get("status") != GRADED or record.get("bundle_sha256") != bundle_hash:
            return None
        if record.get("submission_sha256") != submission_sha256(submission.path):
            return None
        results = json.loads((folder / "results.json").read_text())
    except (OSError, ValueError):
        return None
    return Outcome(GRADED, record.get("reason", ""), results, reused=True, seconds=record.get("seconds", 0.0))


def _share_cores(workers: int, slots) -> None:
    """Give this worker thread its share of the cores; the gradings it starts inherit it.

    Each grading sizes TensorFlow's and BLAS's thread pools from the cores it may use
    (``harness.supervisor.cpu_limit``): without a share, every grading would run as many
    threads as the machine has cores, and the workers would fight over them.
    """
    cores = sorted(os.sched_getaffinity(0))
    if workers <= 1 or workers > len(cores):
        return
    slot = next(slots)  # itertools.count: atomic under the GIL
    os.sched_setaffinity(0, cores[slot % workers :: workers])


def _grade_one(submission: Submission, bundle: Path, bundle_hash: str, outdir: Path, sandbox: str) -> Outcome:
    folder = outdir / RESULTS_DIRNAME / submission.key
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (GRADING_FILENAME, ERROR_FILENAME, "results.json"):
        (folder / stale).unlink(missing_ok=True)
    started = time.monotonic()
    digest = ""
    try:
        digest = submission_sha256(submission.path)
        results = grade_submission(bundle, submission.path, folder / "results.json", sandbox=sandbox)
        outcome = Outcome(GRADED, " ".join(gradebook.notices(results)), results)
    except GradingRefused as error:
        raise _Refused(str(error)) from None
    except GradingError as error:
        message = str(error)
        (folder / ERROR_FILENAME).write_text(message + "\n")
        outcome = Outcome(FAILED, crash_reason(message))
    except Exception as error:  # one submission never stops the batch
        (folder / ERROR_FILENAME).write_text(f"{type(error).__name__}: {error}\n")
        outcome = Outcome(FAILED, f"grading failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    outcome.seconds = round(time.monotonic() - started, 1)
    record = {
        "status": outcome.status,
        "reason": outcome.reason,
        "submission": submission.label,
        "submission_sha256": digest,
        "bundle": bundle.name,
        "bundle_sha256": bundle_hash,
        "seconds": outcome.seconds,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    partial = folder / f".{GRADING_FILENAME}.tmp"
    partial.write_text(json.dumps(record, indent=2) + "\n")
    partial.replace(folder / GRADING_FILENAME)
    return outcome


def crash_reason(message: str) -> str:
    """One line for the gradebook from the message of a grader that wrote no results.json.

    Example:
    >>> crash_reason("the bundle's grader wrote no results.json for x.zip (exit status -9); its output ends with:\\n")
    'the grader was killed (SIGKILL: out of memory?) and wrote no results'
    >>> crash_reason("the bundle's grader wrote no results.json for x (exit status 1); its output ends with:\\nTraceback\\nValueError: bad")
    'the grader crashed (exit status 1): ValueError: bad'
    """
    status = re.search(r"\(exit status (-?\d+)\)", message)
    code = int(status.group(1)) if status else None
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
        hint = ": out of memory?" if name == "SIGKILL" else ""
        return f"the grader was killed ({name}{hint}) and wrote no results"
    tail = [line.strip() for line in message.split("its output ends with:", 1)[-1].splitlines() if line.strip()]
    return f"the grader crashed (exit status {code}): {tail[-1][:300] if tail else 'no output'}"


class _Progress:
    """done/total, submissions per hour and time left: a live bar on a terminal, one line per
    submission otherwise (logs, ``make``)."""

    def __init__(self, total: int, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.total, self.done, self.started = total, 0, time.monotonic()
        self.live = self.console.is_terminal
        self.bar = None
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("{task.fields[left]}"),
                console=self.console, transient=False,
            )
            self.task = self.bar.add_task("grading", total=total, rate="", left="")
            self.bar.start()
        else:
            self.console.print(f"grading {total} submission(s)...", highlight=False)

    def _figures(self) -> tuple[str, str]:
        elapsed = time.monotonic() - self.started
        if not self.done or elapsed <= 0:
            return "", ""
        rate = self.done / elapsed
        left = (self.total - self.done) / rate
        return f"{rate * 3600:.0f}/h", f"{int(left // 60)}:{int(left % 60):02d} left"

    def advance(self, submission: Submission, outcome: Outcome) -> None:
        self.done += 1
        rate, left = self._figures()
        if outcome.status == GRADED:
            total = sum(t["max_score"] for t in scored_tests(outcome.results))
            what = f"{outcome.results.get('score', 0):g}/{total:g}"
        else:
            what = f"FAILED: {outcome.reason}"
        line = f"[{self.done}/{self.total}] {submission.label}: {what} ({outcome.seconds:.0f} s)"
        if self.live:
            if outcome.status != GRADED:
                self.console.print(line, highlight=False, markup=False)
            self.bar.update(self.task, advance=1, rate=rate, left=left)
        else:
            self.console.print(f"{line}  {rate} {left}".rstrip(), highlight=False, markup=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
