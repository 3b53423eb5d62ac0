"""The bundle's grading entry point, run by Gradescope's ``run_autograder`` (and locally).

It extends otter's ``run_autograder`` without copying it:
1. the submission is checked and reduced to one notebook (``submission.isolate_notebook``);
2. otter grades it in a child process, with time and output limits (``execution``),
   thread pools sized to the container's CPU quota, and the bundle's own MNIST;
3. results.json is rewritten complete per Gradescope's specification (``results``), also
   when the child died, ran out of time or never started.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from time import monotonic

from .limits import LIMITS_FILENAME, GradingLimits
from .results import QUESTION_ORDER_FILENAME, build_results, in_notebook_order, questions_from_otter, questions_not_graded
from .skipped_cells import declared_answers, misplaced_answers
from .submission import SubmissionError, isolate_notebook

FAILURE_FILENAME = "grading_failure.txt"


def main(autograder_dir: Path) -> None:
    """Grade ``autograder_dir/submission`` and write ``autograder_dir/results/results.json``."""
    started = monotonic()
    try:
        _grade(autograder_dir, started)
    except Exception:
        # A bug here must not leave the student with otter's partial file or none at all.
        results_dir = autograder_dir / "results"
        results_dir.mkdir(exist_ok=True)
        _write(results_dir, build_results([], execution_time=monotonic() - started, notices=[
            "The autograder itself failed on this submission; your instructor can see the error. Please tell them."
        ]))
        raise


def _grade(autograder_dir: Path, started: float) -> None:
    source, submission, results_dir = (autograder_dir / name for name in ("source", "submission", "results"))
    results_dir.mkdir(exist_ok=True)
    limits = GradingLimits.read(source / LIMITS_FILENAME)
    tests_dir = source / "tests"

    try:
        notebook_path = isolate_notebook(submission, limits)
    except SubmissionError as error:
        questions = questions_not_graded(tests_dir, "not graded: the submission could not be read (see above)")
        questions = in_notebook_order(questions, _question_order(source))
        _write(results_dir, build_results(questions, execution_time=monotonic() - started, notices=[str(error)]))
        return

    failure = _run_otter_in_child(autograder_dir, limits)
    pickled = results_dir / "results.pkl"
    notices = []
    grading_results = None
    if failure is None and pickled.is_file():
        import dill

        grading_results = dill.loads(pickled.read_bytes())
        if grading_results.has_catastrophic_failure():
            failure = (
                "The tests could not run after your notebook: its Python process was still busy "
                "or had stopped. Make sure every cell finishes, then resubmit."
            )
    if failure is None and grading_results is not None:
        questions = questions_from_otter(grading_results)
        graded = {q.name for q in questions}
        questions += [q for q in questions_not_graded(tests_dir, "not graded: its tests did not run") if q.name not in graded]
        notices += _execution_notices(grading_results.notebook)
    else:
        reason = failure or "Grading stopped without results; please tell your instructor."
        questions = questions_not_graded(tests_dir, "not graded (see the message above)")
        notices.append(reason)
    _add_misplaced_answer_notes(questions, notebook_path, tests_dir)
    questions = in_notebook_order(questions, _question_order(source))
    _write(results_dir, build_results(questions, execution_time=monotonic() - started, notices=notices))


def _run_otter_in_child(autograder_dir: Path, limits: GradingLimits):
    """Run otter's grading in a child process; return a failure message, or None."""
    results_dir = autograder_dir / "results"
    failure_file = results_dir / FAILURE_FILENAME
    failure_file.unlink(missing_ok=True)
    env = grading_environment(autograder_dir / "source")
    command = [sys.executable, "-m", "autograder.gradescope", "--otter", str(autograder_dir)]
    # A session of its own, so a hung kernel and everything it started die together.
    child = subprocess.Popen(command, env=env, cwd=autograder_dir)
    try:
        child.wait(timeout=limits.hard_timeout)
    except subprocess.TimeoutExpired:
        _kill_process_tree(child.pid)
        child.wait()
        return (
            f"Grading was stopped after {limits.hard_timeout:.0f} s: a cell kept running even after it "
            "was interrupted. Make sure every cell finishes (no endless loops or waits), then resubmit."
        )
    if failure_file.is_file():
        return failure_file.read_text()
    if child.returncode != 0:
        return f"the autograder failed (exit status {child.returncode}); please tell your instructor"
    return None


def _kill_process_tree(pid: int) -> None:
    # jupyter_client starts each kernel in a session of its own, so killing the child's
    # process group would leave a hung kernel running: kill every descendant by pid.
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def grading_environment(source: Path) -> dict:
    """Environment for the grading process and its notebook kernel.

    TensorFlow and BLAS size their thread pools from the host's cores, not the container's
    CPU quota: on Gradescope's half-CPU container that means many threads fighting for one
    core. MNIST comes from the bundle, so grading needs no network.

    Memory: TensorFlow's oneDNN allocator keeps every freed tensor in its own pool, so the
    kernel holds at once the peaks of data preparation and of training; the system
    allocator gives large blocks back, provided glibc's mmap threshold stays fixed (by
    default it climbs to 32 MB, and freed blocks below it stay in the heap).
    """
    threads = str(cpu_limit())
    env = dict(os.environ)
    env.update(
        MNIST_NPZ=str(source / "files" / "mnist.npz"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(source / "files"), env.get("PYTHONPATH")])),
        TF_NUM_INTRAOP_THREADS=threads,
        TF_NUM_INTEROP_THREADS=threads,
        OMP_NUM_THREADS=threads,
        OPENBLAS_NUM_THREADS=threads,
        MKL_NUM_THREADS=threads,
        TF_ONEDNN_USE_SYSTEM_ALLOCATOR="1",
        MALLOC_MMAP_THRESHOLD_=str(256 * 1024),
        TF_CPP_MIN_LOG_LEVEL="2",
        MPLBACKEND="Agg",
    )
    return env


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


def _execution_notices(executed_notebook) -> list[str]:
    from .execution import SKIPPED_NOTICE, TIMEOUT_NOTICE

    if executed_notebook is None:
        return []
    stderr = [
        output.get("text", "")
        for cell in executed_notebook.cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr"
    ]
    timed_out = sum(text.startswith(TIMEOUT_NOTICE.split("{")[0]) for text in stderr)
    skipped = sum(text.startswith(SKIPPED_NOTICE.split("{")[0]) for text in stderr)
    notices = []
    if timed_out:
        notices.append(f"{timed_out} cell(s) ran past the time limit and were stopped; answers computed there were lost.")
    if skipped:
        notices.append(f"{skipped} cell(s) were not run: the notebook used up the autograder's time budget.")
    return notices


def _add_misplaced_answer_notes(questions, notebook_path: Path, tests_dir: Path) -> None:
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    for question in questions:
        test_file = tests_dir / f"{question.name}.py"
        if not test_file.is_file():
            continue
        misplaced = misplaced_answers(notebook, declared_answers(test_file.read_text()))
        for name, cells in misplaced.items():
            where = ", ".join(str(n) for n in cells)
            question.notes.append(
                f"`{name}` is assigned only in cell {where}, which the autograder skips (marked "
                "'Skipped when grading'); move that line into the question's answer cell."
            )


def _question_order(source: Path) -> list[str]:
    order_file = source / QUESTION_ORDER_FILENAME
    return json.loads(order_file.read_text()) if order_file.is_file() else []


def _write(results_dir: Path, results: dict) -> None:
    (results_dir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def _grade_with_otter(autograder_dir: Path) -> None:
    """The child process: otter's own ``run_autograder`` with our execution limits."""
    from nbclient.exceptions import DeadKernelError
    from otter.run.run_autograder import main as otter_run_autograder
    from otter.run.run_autograder.utils import OtterRuntimeError

    from .execution import KernelDied, install

    install(GradingLimits.read(autograder_dir / "source" / LIMITS_FILENAME))
    failure_file = autograder_dir / "results" / FAILURE_FILENAME
    try:
        otter_run_autograder(str(autograder_dir), otter_run=False)
    except KernelDied as error:
        failure_file.write_text(str(error))
    except DeadKernelError:
        failure_file.write_text("the notebook's Python process stopped during grading")
    except OtterRuntimeError as error:
        failure_file.write_text(f"{error}. Make sure you submit the notebook of this assignment.")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--otter"]:
        _grade_with_otter(Path(sys.argv[2]))
    else:
        main(Path(sys.argv[1]))
