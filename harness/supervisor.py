"""The bundle's grading entry point (``run_otter.py`` calls ``main``): one submission, three steps.

1. **Check** the upload and keep only its one notebook (``submission.isolate_notebook``).
2. **Run** it on the student side: as the unprivileged student user, sandboxed
   (``sandbox``), ``run_notebook`` executes it within time limits and exports the answers
   as data. Then every process of the student is killed.
3. **Check the answers** on the trusted side: a fresh isolated Python process
   (``checker``) runs the bundle's otter tests on them and writes ``results.json``.

This process runs as root on Gradescope and never runs student code. It replaces otter's
``run_autograder``, which runs the tests inside the student's own kernel, after the
student's code, with the bundle writable (otter issue #943).
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from time import monotonic

from .checker import Context
from .layout import Bundle, RunFolders
from .limits import GradingLimits
from .otter_modules import otter_module
from .run_notebook import Request, RunReport
from .sandbox import SANDBOX_ENV, Sandbox, SandboxError, detect, lock_bundle
from .submission import SubmissionError, isolate_notebook

MAX_REPORT_BYTES = 1 << 20
CHECKER_TIMEOUT = 300
RUNNER_LOG = "runner.log"


def main(autograder_dir: Path) -> None:
    """Grade ``autograder_dir/submission`` with the bundle in ``autograder_dir/source``."""
    started = monotonic()
    bundle = Bundle(autograder_dir / "source")
    results = autograder_dir / "results" / "results.json"
    limits = GradingLimits.read(bundle.limits)
    run_root = Path(tempfile.mkdtemp(prefix="grading-"))
    run_root.chmod(0o711)
    folders = RunFolders(run_root)
    try:
        context = Context(started=started)
        try:
            sandbox = detect(os.environ.get(SANDBOX_ENV, "best"))
        except SandboxError as error:
            raise SystemExit(f"grading refused: {error}") from None
        _run_student_side(autograder_dir, bundle, folders, limits, sandbox, context)
        folders.context.write_text(context.to_json())
        _check(bundle, folders, results, limits)
        _show_runner_output(folders.root / RUNNER_LOG)
    finally:
        shutil.rmtree(run_root, ignore_errors=True)


def _run_student_side(autograder_dir, bundle: Bundle, folders: RunFolders, limits, sandbox: Sandbox, context: Context):
    otter_config = json.loads(bundle.otter_config.read_text()) if bundle.otter_config.is_file() else {}
    try:
        submitted = isolate_notebook(autograder_dir / "submission", limits)
        _check_assignment_name(submitted, otter_config)
    except SubmissionError as error:
        context.graded = False
        context.notices.append(str(error))
        return
    context.notebook = str(submitted)
    if sandbox.level == "user":
        # No bubblewrap to hide the bundle: file permissions must.
        lock_bundle(bundle.root, bundle.kernel_readable())
        for private in (autograder_dir / "submission", autograder_dir / "results"):
            private.mkdir(exist_ok=True)
            private.chmod(0o700)
    sandbox.give_folder(folders.student)
    sandbox.give_folder(folders.notebook_dir)
    notebook = folders.notebook_dir / submitted.name
    shutil.copyfile(submitted, notebook)
    if sandbox.uid is not None:
        os.chown(notebook, sandbox.uid, sandbox.gid)
    request = Request(
        notebook=str(notebook),
        public_tests=str(bundle.public_tests),
        answers_folder=str(folders.answers),
        answer_names=sorted({name for names in bundle.read_answer_names().values() for name in names}),
        limits=json.loads(limits.to_json()),
        seed=otter_config.get("seed"),
        seed_variable=otter_config.get("seed_variable"),
    )
    folders.request.write_text(request.to_json())
    folders.request.chmod(0o644)
    env = student_environment(bundle, folders, limits)
    readable = [*bundle.kernel_readable(), folders.request]
    finished = sandbox.run(
        [sys.executable, "-P", "-m", "harness.run_notebook", str(folders.request), str(folders.report)],
        env=env, readable=readable, writable=folders.student, timeout=limits.hard_timeout,
        log=folders.root / RUNNER_LOG,
    )
    context.sandbox = {
        "level": sandbox.level, "uid": sandbox.uid, "gid": sandbox.gid, "env": env,
        "readable": [str(p) for p in readable], "writable": str(folders.student),
    }
    context.notices += _run_notices(finished, _read_report(folders.report), limits)


def _show_runner_output(log: Path) -> None:
    """The end of what the notebook's runner printed, on stdout: Gradescope shows it to instructors only."""
    if not log.is_file():
        return
    text = log.read_bytes().decode("utf-8", "replace")
    # Student-controlled text: no terminal control sequences reach the instructor's screen.
    printable = "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)
    print(f"--- the notebook runner's output (last {len(text):,} characters) ---\n{printable}", flush=True)


def _check(bundle: Bundle, folders: RunFolders, results: Path, limits: GradingLimits) -> None:
    """Run the checker; if it dies without results, run it again to report the failure."""
    results.unlink(missing_ok=True)
    failure = _run_checker(bundle, folders, results)
    if failure is not None:
        _run_checker(bundle, folders, results, failure)


def _run_checker(bundle: Bundle, folders: RunFolders, results: Path, failure: str | None = None) -> str | None:
    launcher = "import sys; sys.path.insert(0, sys.argv.pop(1)); from harness.checker import main; main(*map(__import__('pathlib').Path, sys.argv[1:4]), *sys.argv[4:])"
    command = [sys.executable, "-I", "-c", launcher, str(bundle.files), str(bundle.root), str(folders.root), str(results)]
    if failure is not None:
        command.append(failure)
    try:
        completed = subprocess.run(command, env=checker_environment(bundle), timeout=CHECKER_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"The autograder's checks did not finish within {CHECKER_TIMEOUT} s; please tell your instructor."
    if completed.returncode != 0 or not results.is_file():
        return "The autograder itself failed on this submission; your instructor can see the error. Please tell them."
    return None


def _check_assignment_name(notebook_path: Path, otter_config: dict) -> None:
    """otter's check that the notebook belongs to this assignment, with otter's message.

    otter's ``AbstractLanguageRunner.validate_assignment_name`` does this, but importing it
    loads otter's whole runner (pandas included); the name is read with otter's own
    ``NBMetadataConfig`` and compared as otter does.
    """
    import nbformat

    expected = otter_config.get("assignment_name")
    NBMetadataConfig = otter_module("otter.nbmeta_config").NBMetadataConfig
    got = NBMetadataConfig.from_notebook(nbformat.read(notebook_path, as_version=4)).assignment_name
    if expected and got != expected:
        raise SubmissionError(
            f"Received submission for assignment '{got}' (this is assignment '{expected}'). "
            "Make sure you submit the notebook of this assignment."
        )


def _run_notices(finished, report: RunReport | None, limits: GradingLimits) -> list[str]:
    notices = []
    if report is not None and report.kernel_died_in is not None:
        notices.append(
            f"Your notebook's Python process stopped while running cell {report.kernel_died_in}. Calls such as "
            "os._exit() or running out of memory end it, and nothing after that point can be graded. Remove "
            "such calls, check the notebook runs top to bottom (Kernel > Restart & Run All), and resubmit."
        )
    elif finished.timed_out:
        notices.append(
            f"Grading was stopped after {limits.hard_timeout:.0f} s: a cell kept running even after it was "
            "interrupted. Make sure every cell finishes (no endless loops or waits), then resubmit."
        )
    elif report is not None and report.finished and not report.exported:
        notices.append(
            "Your answers could not be collected after the last cell: the notebook's Python process was still "
            "busy with a cell that ignored the autograder's interrupt. Make sure every cell finishes (no endless "
            "loops or waits), then resubmit."
        )
    elif report is None or not report.finished:
        notices.append(
            "The process that ran your notebook was stopped before it finished: code in your notebook killed "
            "it or its parent (for example with os.kill or a signal). Nothing after that point can be graded; "
            "remove that code and resubmit."
        )
    if report is not None:
        if report.timed_out:
            cells = ", ".join(map(str, report.timed_out[:10]))
            notices.append(f"Cell(s) {cells} ran past the time limit of {limits.cell_timeout:.0f} s and were stopped; answers computed there were lost.")
        if report.skipped:
            notices.append(f"{len(report.skipped)} cell(s) were not run: the notebook used up the autograder's time budget ({limits.total_timeout:.0f} s).")
    return notices


def _read_report(path: Path) -> RunReport | None:
    """The student side's report, read without following links and only if small."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as stream:
        import stat

        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        text = stream.read(MAX_REPORT_BYTES + 1)
    if len(text) > MAX_REPORT_BYTES:
        return None
    return RunReport.parse(text.decode("utf-8", "replace"))


def student_environment(bundle: Bundle, folders: RunFolders, limits: GradingLimits) -> dict:
    """The student side's whole environment: nothing of the grader's own is passed on.

    TensorFlow and BLAS size their thread pools from the host's cores, not the container's
    CPU quota: on Gradescope's half-CPU container that means many threads fighting for one
    core. They get ``limits.kernel_threads``, never more than the quota allows. MNIST and
    other data come from the bundle, so grading needs no network.

    Memory: TensorFlow's oneDNN allocator keeps every freed tensor in its own pool, so the
    kernel holds at once the peaks of data preparation and of training; the system
    allocator gives large blocks back, provided glibc's mmap threshold stays fixed (by
    default it climbs to 32 MB, and freed blocks below it stay in the heap).
    """
    threads = str(min(int(limits.kernel_threads), cpu_limit()))
    home = str(folders.student)
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": home,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(bundle.files),
        **bundle.file_environment(),
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "1",
        "MALLOC_MMAP_THRESHOLD_": str(256 * 1024),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MPLBACKEND": "Agg",
        **{name: os.environ[name] for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name in os.environ},
    }


def checker_environment(bundle: Bundle) -> dict:
    """The checker's environment: Keras on its NumPy backend (no TensorFlow needed to score a model)."""
    threads = str(cpu_limit())
    return {
        **bundle.file_environment(),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tempfile.gettempdir(),
        "LANG": "C.UTF-8",
        "KERAS_BACKEND": "numpy",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MPLBACKEND": "Agg",
        **{name: os.environ[name] for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name in os.environ},
    }


def cpu_limit() -> int:
    """Whole CPUs this process may use: the cgroup CPU quota rounded up, at most its cores.

    Example:
    >>> cpu_limit() >= 1
    True
    """
    cores = len(os.sched_getaffinity(0))
    quota = _cgroup_cpu_quota()
    return max(1, min(cores, math.ceil(quota))) if quota else cores


def _cgroup_cpu_quota():
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2
            limit = Path("/sys/fs/cgroup", path.lstrip("/"), "cpu.max")
            if limit.is_file():
                quota, period = limit.read_text().split()
                return None if quota == "max" else int(quota) / int(period)
        elif "cpu" in controllers.split(","):
            for mount in ("cpu,cpuacct", "cpu"):
                folder = Path("/sys/fs/cgroup", mount, path.lstrip("/"))
                if (folder / "cpu.cfs_quota_us").is_file():
                    quota = int((folder / "cpu.cfs_quota_us").read_text())
                    period = int((folder / "cpu.cfs_period_us").read_text())
                    return None if quota <= 0 else quota / period
    return None


if __name__ == "__main__":
    main(Path(sys.argv[1]))
