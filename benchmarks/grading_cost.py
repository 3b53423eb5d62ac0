"""What grading one reference submission costs: our pipeline against plain otter, side by side.

Run by hand (``make bench`` or ``.venv/bin/python benchmarks/grading_cost.py``), as root for
the cgroups, never in CI: a full run takes about 10 minutes on 2 cores, most of it the
baseline's scikit-learn and TensorFlow training.

Measured runs, each grading one reference (solution) notebook:

1. **ours**: ``instructor grade`` with the built Gradescope bundle (built first if missing);
2. **baseline**: the lesson as written (``../shared/seed/neural-networks-lesson.md``)
   turned into a plain otter assignment with the same graded answers and simple tests, no
   ``otter_ignore`` tags, no thread limits, built with ``otter assign`` and graded with
   ``otter run``;
3. **ours in an emulated Gradescope container** (a cgroup v1 with half a CPU and a memory
   limit), at each ``--memory-limit``; then the baseline in the first of those containers,
   stopped after ``--baseline-timeout`` seconds.

For each: wall seconds, CPU seconds (user + system of the whole process tree), the peak
memory of the largest single process, the sums of RSS and of anonymous memory over the tree
at their peaks, the score, and for container runs the cgroup's ``memory.max_usage_in_bytes``
and OOM kills. The report goes to stdout
and to ``benchmarks/results/latest.md``.
"""

import argparse
import ast
import ctypes
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
# The venv's own binaries, whichever way this script was started (make bench uses .venv/bin/python).
BIN = Path(sys.executable).parent
ASSIGNMENT = "neural-networks"
BUILT = REPO / "dist" / ASSIGNMENT / "autograder"
SHARED = REPO.parent / "shared"  # beside the clone, as on the team's machines and in CI
DEFAULT_LESSON = SHARED / "seed" / "neural-networks-lesson.md"
DEFAULT_MNIST = Path(os.environ.get("MNIST_NPZ") or SHARED / "data" / "mnist.npz")
RESULTS_FILE = HERE / "results" / "latest.md"

RUN_TIMEOUT = 3600  # seconds: a safety cap for the uncapped runs, so a hung kernel cannot block forever
SAMPLE_INTERVAL = 0.2  # seconds between samples of the process tree's memory
GRADESCOPE_CPU_QUOTA = 0.5  # CPUs: cpu.cfs_quota_us 50000 per cpu.cfs_period_us 100000
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Variables that size thread pools: removed for every run, so that each side starts from the
# same environment and only our own bundle sets them (from the cgroup's CPU quota).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


# --------------------------------------------------------------------------- measurement

@dataclass
class ProcessRecord:
    """What the sampler saw of one process of the tree."""

    role: str
    peak_rss: int = 0  # bytes: the kernel's high-water mark (VmHWM), not just what a sample caught
    peak_anon: int = 0  # bytes: largest RssAnon sampled; unlike RSS, excludes shared library pages
    cpu: float = 0.0  # user + system seconds at the last sample


@dataclass
class RunResult:
    """One measured grading run."""

    label: str
    command: list
    wall: float = 0.0
    cpu_user: float = 0.0
    cpu_system: float = 0.0
    peak_one: int = 0
    peak_one_role: str = ""
    peak_sum: int = 0
    peak_anon_sum: int = 0
    exit_status: int | None = None
    timed_out: bool = False
    load: float = 0.0  # 1-minute load average at the start: other work on the machine stretches wall time
    score: float | None = None
    possible: float | None = None
    cgroup: dict = field(default_factory=dict)  # container runs: memory limit, max usage, OOM kills
    processes: dict = field(default_factory=dict)  # pid -> ProcessRecord
    cells: list = field(default_factory=list)  # baseline: (seconds, first line) of the slowest cells
    notice: str = ""  # ours: the first line of results.json's message to the student
    log: Path | None = None

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_system

    @property
    def full_marks(self) -> bool:
        return self.score is not None and self.possible and abs(self.score - self.possible) < 1e-9

    def outcome(self) -> str:
        """One word or phrase for the table: completed, killed, out of memory..."""
        if self.timed_out:
            return "stopped at time cap"
        if self.cgroup.get("oom_kills"):
            oom = f"OOM kill x{self.cgroup['oom_kills']}"
            return f"{oom}, no results" if self.score is None else f"{oom}, results written"
        if self.exit_status != 0:
            return f"failed (exit {self.exit_status})"
        return "completed" if self.score is not None else "no results"


class TreeSampler(threading.Thread):
    """Samples this process's descendants every ``SAMPLE_INTERVAL`` seconds, in the background.

    Reads ``/proc/<pid>/status``: ``VmHWM`` is each process's own peak RSS kept by the kernel,
    so the largest single process is exact except for its last fraction of a second; the sum
    of ``VmRSS`` over the tree is a snapshot (and counts shared pages once per process).
    """

    def __init__(self):
        super().__init__(daemon=True)
        self.records: dict[int, ProcessRecord] = {}
        self.peak_sum = 0
        self.peak_anon_sum = 0
        self._stop_event = threading.Event()

    def run(self):
        me = psutil.Process()
        while not self._stop_event.is_set():
            self._sample(me)
            self._stop_event.wait(SAMPLE_INTERVAL)
        self._sample(me)

    def stop(self):
        self._stop_event.set()
        self.join()

    def _sample(self, me):
        total = anon = 0
        for child in me.children(recursive=True):
            try:
                status = _proc_status(child.pid)
                if "VmRSS" not in status:  # a zombie
                    continue
                record = self.records.setdefault(child.pid, ProcessRecord(role="?"))
                # Re-read each time: the wrapper shell exec's into the real command.
                record.role = process_role(child.cmdline())
                record.peak_rss = max(record.peak_rss, status.get("VmHWM", 0))
                record.peak_anon = max(record.peak_anon, status.get("RssAnon", 0))
                times = child.cpu_times()
                record.cpu = times.user + times.system
                total += status["VmRSS"]
                anon += status.get("RssAnon", 0)
            except (psutil.Error, OSError):
                continue  # it exited between listing and reading
        self.peak_sum = max(self.peak_sum, total)
        self.peak_anon_sum = max(self.peak_anon_sum, anon)


def _proc_status(pid: int) -> dict:
    """The ``kB`` fields of ``/proc/<pid>/status``, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            values[key] = int(parts[0]) * 1024
    return values


def process_role(cmdline: list) -> str:
    """A short name for a process of a grading tree, from its command line.

    Example:
    >>> process_role(["/v/bin/python", "-m", "ipykernel_launcher", "-f", "k.json"])
    'notebook kernel (ipykernel)'
    >>> process_role(["/v/bin/python", "/v/bin/otter", "run", "-a", "a.zip", "s.ipynb"])
    'otter run'
    """
    text = " ".join(cmdline)
    for marker, role in (
        ("ipykernel_launcher", "notebook kernel (ipykernel)"),
        ("harness.run_notebook", "notebook runner (student side)"),
        ("harness.checker", "checker (trusted side)"),
        ("harness.answers.serve", "call server (student side)"),
        ("bwrap", "bubblewrap"),
        ("run_otter.py", "supervisor (run_otter.py)"),
        ("instructor grade", "instructor grade"),
        ("otter run", "otter run"),
    ):
        if marker in text:
            return role
    return Path(cmdline[0]).name if cmdline else "?"


def enable_subreaper() -> None:
    """Become the parent of orphaned descendants, so their CPU time reaches RUSAGE_CHILDREN.

    getrusage(RUSAGE_CHILDREN) counts a process only once its parent waits for it; a process
    whose parent died first (e.g. one killed along with a session) would otherwise be reaped
    by init and its CPU time lost.
    """
    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def kill_descendants() -> None:
    """SIGKILL every process this script started, directly or not (by pid, never by name)."""
    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def reap_orphans(grace: float = 10.0) -> None:
    """Wait for descendants left behind by the command; kill any still running after ``grace`` s."""
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if pid:
            continue
        if time.monotonic() > deadline:
            kill_descendants()
            deadline = float("inf")
        time.sleep(0.1)


def measure(label: str, command: list, *, env: dict, cwd: Path, log: Path, timeout: float | None = None) -> RunResult:
    """Run ``command`` once and measure its whole process tree."""
    result = RunResult(label=label, command=command, log=log)
    sampler = TreeSampler()
    result.load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    sampler.start()
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        try:
            result.exit_status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            result.timed_out = True
            kill_descendants()
            result.exit_status = process.wait()
    result.wall = time.monotonic() - started
    reap_orphans()
    sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.cpu_user = after.ru_utime - before.ru_utime
    result.cpu_system = after.ru_stime - before.ru_stime
    result.processes = sampler.records
    result.peak_sum, result.peak_anon_sum = sampler.peak_sum, sampler.peak_anon_sum
    if sampler.records:
        largest = max(sampler.records.values(), key=lambda r: r.peak_rss)
        result.peak_one, result.peak_one_role = largest.peak_rss, largest.role
    return result


def read_score(results_json: Path):
    """``(score, possible)`` from a Gradescope results.json, or ``(None, None)`` if there is none.

    Example:
    >>> import tempfile; path = Path(tempfile.mkdtemp()) / "results.json"
    >>> _ = path.write_text('{"tests": [{"score": 1, "max_score": 2}, {"score": 2, "max_score": 2}]}')
    >>> read_score(path)
    (3, 4)
    """
    if not results_json.is_file():
        return None, None
    data = json.loads(results_json.read_text())
    tests = data.get("tests", [])
    possible = sum(t.get("max_score", 0) for t in tests)
    return data.get("score", sum(t.get("score", 0) for t in tests)), possible


# --------------------------------------------------------------------------- environment

def base_environment() -> dict:
    """This environment without thread-pool variables, with the venv's binaries first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def machine_description() -> dict:
    """Date, cores, memory and CPU model, for the report."""
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor() or "unknown")
    return {
        "date": subprocess.run(["date"], capture_output=True, text=True).stdout.strip(),
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "free -g": subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.rstrip(),
        "cpu": cpu_model,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --------------------------------------------------------------------------- ours

def ensure_built(mnist: Path, env: dict) -> tuple[Path, Path]:
    """The bundle and the reference solution notebook, building the assignment if dist/ lacks them."""
    built = find_built()
    if built is None:
        print(f"building {ASSIGNMENT} (dist/ has no bundle)...", file=sys.stderr, flush=True)
        subprocess.run([str(BIN / "instructor"), "build", f"assignments/{ASSIGNMENT}"],
                       cwd=REPO, env={**env, "MNIST_NPZ": str(mnist)}, check=True, stdout=subprocess.DEVNULL)
        built = find_built()
    if built is None:
        raise RuntimeError(f"{BUILT} should hold the bundle and exactly one solution notebook after the build")
    return built


def find_built():
    """``(bundle, solution)`` in dist/, or None. The solution is the one notebook beside the bundle
    (named ``<name>.ipynb`` or ``<name>-solution.ipynb`` depending on the build's version)."""
    bundle = BUILT / f"{ASSIGNMENT}-autograder.zip"
    notebooks = sorted(BUILT.glob("*.ipynb"))
    return (bundle, notebooks[0]) if bundle.is_file() and len(notebooks) == 1 else None


def ours_command(bundle: Path, solution: Path, results_json: Path) -> list:
    """``instructor grade`` of the reference solution with our bundle."""
    return [str(BIN / "instructor"), "grade", str(solution), "--bundle", str(bundle), "-o", str(results_json)]


def run_ours(label: str, bundle: Path, solution: Path, work: Path, env: dict, wrap=lambda c: c,
             timeout=RUN_TIMEOUT) -> RunResult:
    """Grade the reference solution with our pipeline (``wrap`` puts it in a container)."""
    results_json = work / f"{slug(label)}.json"
    result = measure(label, wrap(ours_command(bundle, solution, results_json)), env=env, cwd=REPO,
                     log=work / f"{slug(label)}.log", timeout=timeout)
    result.score, result.possible = read_score(results_json)
    result.notice = first_notice(results_json)
    return result


def first_notice(results_json: Path) -> str:
    """The first paragraph of results.json's ``output`` (our message to the student), without Markdown bold.

    Example:
    >>> import tempfile; path = Path(tempfile.mkdtemp()) / "results.json"
    >>> _ = path.write_text(json.dumps({"output": "**Stopped.** Resubmit." + chr(10) * 2 + "Details"}))
    >>> first_notice(path)
    'Stopped. Resubmit.'
    """
    if not results_json.is_file():
        return ""
    output = json.loads(results_json.read_text()).get("output", "")
    return output.split("\n\n")[0].replace("**", "").strip()


def slug(label: str) -> str:
    """A file name for a run label.

    Example:
    >>> slug("ours, container 1 GiB")
    'ours-container-1-gib'
    """
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


# --------------------------------------------------------------------------- baseline

MLP_KERAS_SOLUTION = """\
    # BEGIN SOLUTION NO PROMPT
    keras.Input(shape=input_shape),
    layers.Flatten(),
    layers.Dense(16, activation="relu"),
    layers.Dense(16, activation="relu"),
    layers.Dense(num_classes, activation="softmax"),
    # END SOLUTION
"""

# (question name, points, prompt, solution code or None for "the cell being wrapped", tests)
# Each test is (points, code): plain asserts, as a course without our checks library would write.
BASELINE_QUESTIONS = {
    "mlp-params": (2, "How many weights and biases does `MLPClassifier(hidden_layer_sizes=(16, 16))` learn on MNIST? "
                      "Assign them to `mlp_16x16_weights` and `mlp_16x16_biases`.",
                   "mlp_16x16_weights = 784 * 16 + 16 * 16 + 16 * 10  # SOLUTION\n"
                   "mlp_16x16_biases = 16 + 16 + 10  # SOLUTION",
                   [(1, "assert mlp_16x16_weights == 12960"), (1, "assert mlp_16x16_biases == 42")]),
    "cnn-params": (2, "How many weights and biases does the convolutional neural network `model` learn? "
                      "Assign them to `cnn_weights` and `cnn_biases`.",
                   "cnn_weights = 3 * 3 * 1 * 32 + 3 * 3 * 32 * 64 + 5 * 5 * 64 * 10  # SOLUTION\n"
                   "cnn_biases = 32 + 64 + 10  # SOLUTION",
                   [(1, "assert cnn_weights == 34720"), (1, "assert cnn_biases == 106")]),
    "hyperparameters": (1, "Assign to `hyperparameters` the set of names, among those used in this lesson, "
                           "that are hyperparameters.",
                        'hyperparameters = {"hidden_layer_sizes", "learning_rate_init", "early_stopping", '
                        '"batch_size", "epochs", "kernel_size", "filters"}  # SOLUTION',
                        [(1, 'assert hyperparameters == {"hidden_layer_sizes", "learning_rate_init", "early_stopping", '
                             '"batch_size", "epochs", "kernel_size", "filters"}')]),
    "mlp-keras": (5, None, None, [
        (2, 'assert [type(layer).__name__ for layer in mlp_keras.layers] == ["Flatten", "Dense", "Dense", "Dense"]\n'
            "assert [layer.units for layer in mlp_keras.layers[1:]] == [16, 16, 10]\n"
            'assert [layer.activation.__name__ for layer in mlp_keras.layers[1:]] == ["relu", "relu", "softmax"]'),
        (1, "assert mlp_keras.count_params() == 13002"),
        (2, "assert mlp_keras.evaluate(X_test, y_test, verbose=0)[1] >= 0.90"),
    ]),
}

BASELINE_CONFIG = """\
# ASSIGNMENT CONFIG
name: neural-networks-baseline
init_cell: true
check_all_cell: false
export_cell: false
files:
    - offline_mnist.py
"""


def parse_lesson(text: str) -> list[tuple[str, str]]:
    """Split the lesson's Markdown export into ``(cell_type, source)`` cells, in order.

    The export marks where each code cell starts (an ``In [None]:`` line) but not where it
    ends, and code cells contain blank lines. So a code cell goes on, paragraph by paragraph,
    while the next paragraph holds a statement and the code still parses as Python (after
    IPython's transform of magics); prose and Markdown headings do not. A cell magic
    (``%%html``) makes the rest of its cell text, so such a cell is one paragraph.

    Example:
    >>> parse_lesson("Intro\\n\\nIn [None]:\\nx = 1\\n\\ny = 2\\n\\n## Next\\n\\nSome prose.")
    [('markdown', 'Intro'), ('code', 'x = 1\\n\\ny = 2'), ('markdown', '## Next\\n\\nSome prose.')]
    """
    cells, markdown, code = [], [], None
    for paragraph in re.split(r"\n(?:[ \t]*\n)+", text.strip()):
        if paragraph.startswith("In [None]:"):
            if markdown:
                cells.append(("markdown", "\n\n".join(markdown)))
                markdown = []
            if code is not None:
                cells.append(("code", code))
            code = paragraph.split("\n", 1)[1] if "\n" in paragraph else ""
            if code.startswith("%%"):
                cells.append(("code", code))
                code = None
        elif code is not None and _continues_code(code, paragraph):
            code += "\n\n" + paragraph
        else:
            if code is not None:
                cells.append(("code", code))
                code = None
            markdown.append(paragraph)
    if code is not None:
        cells.append(("code", code))
    if markdown:
        cells.append(("markdown", "\n\n".join(markdown)))
    return cells


def _continues_code(code: str, paragraph: str) -> bool:
    from IPython.core.inputtransformer2 import TransformerManager

    if all(not line.strip() or line.lstrip().startswith("#") for line in paragraph.splitlines()):
        return False  # a Markdown heading reads as a Python comment
    transformer = TransformerManager()
    # Without IPython's `name?` help syntax, which would turn a question in prose into code.
    transformer.token_transformers = [t for t in transformer.token_transformers if t.__name__ != "HelpEnd"]
    try:
        ast.parse(transformer.transform_cell(code + "\n\n" + paragraph))
    except SyntaxError:
        return False
    return True


def replace_in_code(cells: list, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once in the code cells) with ``new``, in place."""
    hits = [i for i, (kind, source) in enumerate(cells) if kind == "code" and old in source]
    if len(hits) != 1 or cells[hits[0]][1].count(old) != 1:
        raise ValueError(f"expected {old!r} once in the lesson's code, found it in {len(hits)} cell(s)")
    kind, source = cells[hits[0]]
    cells[hits[0]] = (kind, source.replace(old, new))


def code_cell_index(cells: list, *markers: str) -> int:
    """The index of the one code cell that contains every marker."""
    hits = [i for i, (kind, source) in enumerate(cells) if kind == "code" and all(m in source for m in markers)]
    if len(hits) != 1:
        raise ValueError(f"expected one lesson code cell with {markers}, found {len(hits)}")
    return hits[0]


def question_cells(name: str, solution: str) -> list:
    """The otter-assign (v1 format) cells of one baseline question around ``solution``."""
    points, prompt, _, tests = BASELINE_QUESTIONS[name]
    cells = [nbformat.v4.new_raw_cell(f"# BEGIN QUESTION\nname: {name}\npoints: {points}")]
    if prompt:
        cells.append(nbformat.v4.new_markdown_cell(prompt))
    cells += [nbformat.v4.new_raw_cell("# BEGIN SOLUTION"), nbformat.v4.new_code_cell(solution),
              nbformat.v4.new_raw_cell("# END SOLUTION"), nbformat.v4.new_raw_cell("# BEGIN TESTS")]
    for test_points, code in tests:
        config = f'""" # BEGIN TEST CONFIG\npoints: {test_points}\nhidden: true\n""" # END TEST CONFIG\n'
        cells.append(nbformat.v4.new_code_cell(config + code))
    cells += [nbformat.v4.new_raw_cell("# END TESTS"), nbformat.v4.new_raw_cell("# END QUESTION")]
    return cells


def baseline_master(lesson_text: str) -> nbformat.NotebookNode:
    """The lesson as an otter-assign master notebook: its cells in order, plus graded questions.

    Changes to the lesson's code, all needed to grade it at all on this machine:
    - MNIST comes from ``offline_mnist`` instead of the internet (``fetch_openml`` and
      ``keras.datasets.mnist.load_data``; see that module);
    - ``!pip install -q keras tensorflow-cpu`` is dropped: the packages are installed, and a
      pip run would measure the registry, and could install into another Python;
    - the practice cell gets the solution layers.
    """
    cells = parse_lesson(lesson_text)
    expected = lesson_text.count("In [None]:")
    if sum(kind == "code" for kind, _ in cells) != expected:
        raise ValueError(f"the lesson has {expected} code cells, but {sum(k == 'code' for k, _ in cells)} were parsed")
    replace_in_code(cells, "from sklearn.datasets import fetch_openml",
                    "from offline_mnist import fetch_openml  # offline stand-in for sklearn.datasets.fetch_openml")
    replace_in_code(cells, "!pip install -q keras tensorflow-cpu\n",
                    "import offline_mnist  # offline stand-in for keras.datasets.mnist; replaces the pip install line\n")
    replace_in_code(cells, "keras.datasets.mnist.load_data()", "offline_mnist.load_data()")

    after = {code_cell_index(cells, "mlp_16x16.fit"): ["mlp-params"],
             code_cell_index(cells, "Conv2D", "model.fit"): ["cnn-params", "hyperparameters"]}
    practice = code_cell_index(cells, "mlp_keras = keras.Sequential")
    notebook_cells = [nbformat.v4.new_raw_cell(BASELINE_CONFIG)]
    for index, (kind, source) in enumerate(cells):
        if index == practice:
            if source.count("    ...\n") != 1:
                raise ValueError("the practice cell has no '    ...' line to fill in")
            notebook_cells += question_cells("mlp-keras", source.replace("    ...\n", MLP_KERAS_SOLUTION))
            continue
        notebook_cells.append(nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source))
        for name in after.get(index, []):
            notebook_cells += question_cells(name, BASELINE_QUESTIONS[name][2])
    notebook = nbformat.v4.new_notebook(cells=notebook_cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def build_baseline(lesson: Path, work: Path, env: dict) -> tuple[Path, Path]:
    """``otter assign`` the baseline; return its autograder zip and its solution notebook.

    ``--no-run-tests``: otter assign would otherwise execute the whole notebook once more
    (every fit and the CNN) just to check the tests, which is build cost, not grading cost.
    """
    source = work / "baseline-master"
    source.mkdir()
    nbformat.write(baseline_master(lesson.read_text()), source / "neural-networks.ipynb")
    shutil.copy(HERE / "offline_mnist.py", source)
    dist = work / "baseline-dist"
    completed = subprocess.run([str(BIN / "otter"), "assign", "--no-run-tests", "--no-pdfs",
                                "neural-networks.ipynb", str(dist)], cwd=source, env=env,
                               capture_output=True, text=True)
    zips = sorted((dist / "autograder").glob("*.zip"))
    if completed.returncode != 0 or len(zips) != 1:
        raise RuntimeError(f"otter assign failed (exit {completed.returncode}):\n{completed.stdout[-2000:]}{completed.stderr[-3000:]}")
    return zips[0], dist / "autograder" / "neural-networks.ipynb"


def run_baseline(label: str, autograder_zip: Path, solution: Path, work: Path, env: dict, wrap=lambda c: c,
                 timeout=RUN_TIMEOUT) -> RunResult:
    """Grade the baseline solution with ``otter run`` (non-containerized otter, unchanged)."""
    out = work / slug(label)
    out.mkdir()
    command = [str(BIN / "otter"), "run", "--no-logo", "-p", "-a", str(autograder_zip), "-o", str(out), str(solution)]
    # -p writes results.pkl (with the executed notebook) to the working directory: out.
    result = measure(label, wrap(command), env=env, cwd=out, log=work / f"{slug(label)}.log", timeout=timeout)
    result.score, result.possible = read_score(out / "results.json")
    result.cells = slowest_cells(out / "results.pkl")
    return result


def slowest_cells(pickled: Path, count: int = 5) -> list:
    """``(seconds, first code line)`` of the slowest cells of otter's executed notebook, from nbclient's timing."""
    if not pickled.is_file():
        return []
    import dill

    notebook = dill.loads(pickled.read_bytes()).notebook
    timed = []
    for cell in notebook.cells if notebook else []:
        execution = cell.get("metadata", {}).get("execution", {})
        start, end = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
        if cell.cell_type == "code" and start and end:
            seconds = (datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
                       - datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
            timed.append((seconds, first[:70]))
    return sorted(timed, reverse=True)[:count]


# --------------------------------------------------------------------------- emulated container

def parse_size(text: str) -> int:
    """Bytes from ``1G``, ``768M``, ``512K`` or a plain number (binary units, as cgroups use).

    Example:
    >>> parse_size("1G"), parse_size("768M")
    (1073741824, 805306368)
    """
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]?)i?B?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 1G or 768M)")
    return int(match.group(1)) * 1024 ** " KMG".index(match.group(2).upper() or " ")


def human(size: int | None) -> str:
    """``1.23 GiB`` / ``456 MiB``.

    Example:
    >>> human(805306368), human(1610612736), human(None)
    ('768 MiB', '1.50 GiB', '-')
    """
    if not size:
        return "-"
    return f"{size / 1024 ** 3:.2f} GiB" if size >= 1024 ** 3 else f"{size / 1024 ** 2:.0f} MiB"


@dataclass
class Container:
    """A cgroup v1 pair (cpu, memory) like Gradescope's container, and how to run inside it."""

    cpu_dir: Path
    memory_dir: Path

    def wrap(self, command: list) -> list:
        """``command`` run by a shell that first moves itself into both cgroups (exec keeps the pid)."""
        script = 'echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@"'
        return ["sh", "-c", script, "sh", str(self.cpu_dir / "cgroup.procs"), str(self.memory_dir / "cgroup.procs"), *command]

    def memory_report(self) -> dict:
        """The memory cgroup's peak, failures and OOM kills so far."""
        oom = dict(line.split() for line in (self.memory_dir / "memory.oom_control").read_text().splitlines())
        return {
            "limit": int((self.memory_dir / "memory.limit_in_bytes").read_text()),
            "max_usage": int((self.memory_dir / "memory.max_usage_in_bytes").read_text()),
            "failcnt": int((self.memory_dir / "memory.failcnt").read_text()),
            "oom_kills": int(oom.get("oom_kill", 0)),
        }


@contextmanager
def emulated_container(name: str, memory_limit: int, cpu_quota: float = GRADESCOPE_CPU_QUOTA):
    """Create the cgroups, yield a :class:`Container`, then empty and remove them.

    Top-level cgroups, as Gradescope's container is not nested in this session's.
    """
    cpu_dir, memory_dir = CGROUP_ROOT / "cpu" / name, CGROUP_ROOT / "memory" / name
    cpu_dir.mkdir()
    try:
        memory_dir.mkdir()
        try:
            period = 100_000
            (cpu_dir / "cpu.cfs_period_us").write_text(str(period))
            (cpu_dir / "cpu.cfs_quota_us").write_text(str(int(cpu_quota * period)))
            (memory_dir / "memory.limit_in_bytes").write_text(str(memory_limit))
            yield Container(cpu_dir, memory_dir)
        finally:
            _empty_and_remove(memory_dir)
    finally:
        _empty_and_remove(cpu_dir)


def _empty_and_remove(cgroup: Path) -> None:
    # Only processes this script put there can be inside; a cgroup with members cannot be removed.
    for _ in range(50):
        pids = [int(p) for p in (cgroup / "cgroup.procs").read_text().split()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    cgroup.rmdir()


def _drop_page_cache() -> None:
    # A page is charged to the cgroup that first reads it. Files an earlier run left in the
    # page cache (TensorFlow's libraries, MNIST) would be free inside the container, which
    # a fresh Gradescope container never gets.
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("1")


def run_in_container(kind: str, memory_limit: int, runner) -> RunResult:
    """Run ``runner(label, wrap)`` in a fresh emulated container and attach the cgroup's memory report."""
    label = f"{kind}, container {human(memory_limit)}"
    _drop_page_cache()
    with emulated_container(f"grading-bench-{os.getpid()}-{slug(label)}", memory_limit) as container:
        result = runner(label, container.wrap)
        result.cgroup = container.memory_report()
    return result


# --------------------------------------------------------------------------- report

def results_table(results: list) -> str:
    """The side-by-side Markdown table of all runs."""
    header = ("| run | outcome | score | wall s | CPU s (user+sys) | CPU/wall | peak RSS, largest process "
              "| RSS sum at peak | anon sum at peak | cgroup max usage | load at start |")
    rows = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for r in results:
        score = f"{r.score:g} / {r.possible:g}" if r.score is not None else "-"
        rows.append(
            f"| {r.label} | {r.outcome()} | {score} | {r.wall:.1f} | {r.cpu:.1f} ({r.cpu_user:.1f}+{r.cpu_system:.1f}) "
            f"| {r.cpu / r.wall if r.wall else 0:.2f} | {human(r.peak_one)} ({r.peak_one_role}) | {human(r.peak_sum)} "
            f"| {human(r.peak_anon_sum)} | {human(r.cgroup.get('max_usage'))} | {r.load:.1f} |"
        )
    return "\n".join(rows)


def ratio_table(baseline: RunResult, ours: RunResult) -> str:
    """Baseline / ours for the two unconstrained runs."""
    def ratio(a, b):
        return f"{a / b:.1f}x" if b else "-"

    return "\n".join([
        "| baseline / ours | wall | CPU | peak RSS, largest process | RSS sum at peak | anon sum at peak |",
        "|---|---|---|---|---|---|",
        f"| ratio | {ratio(baseline.wall, ours.wall)} | {ratio(baseline.cpu, ours.cpu)} "
        f"| {ratio(baseline.peak_one, ours.peak_one)} | {ratio(baseline.peak_sum, ours.peak_sum)} "
        f"| {ratio(baseline.peak_anon_sum, ours.peak_anon_sum)} |",
    ])


def process_breakdown(result: RunResult) -> str:
    """CPU seconds and peak memory per process role (sampled, so the last 0.2 s of each are missing)."""
    by_role: dict[str, tuple] = {}
    for record in result.processes.values():
        cpu, peak, anon, count = by_role.get(record.role, (0.0, 0, 0, 0))
        by_role[record.role] = (cpu + record.cpu, max(peak, record.peak_rss), max(anon, record.peak_anon), count + 1)
    parts = [f"{role}: {cpu:.1f} s CPU, peak {human(peak)} RSS / {human(anon)} anon"
             + (f" ({count} processes)" if count > 1 else "")
             for role, (cpu, peak, anon, count) in sorted(by_role.items(), key=lambda item: -item[1][0])]
    return f"- {result.label}: " + "; ".join(parts)


def report(results: list, machine: dict, command: str, notes: list) -> str:
    """The whole Markdown report: machine, command, tables, breakdowns, notes."""
    by_label = {r.label: r for r in results}
    lines = ["# Grading cost: one reference submission", "",
             f"- date: {machine['date']}",
             f"- machine: {machine['nproc']} CPUs ({machine['cpu']}), load average at start {machine['load']}",
             f"- command: `{command}`", "", "```", "$ free -g", machine["free -g"], "```", "",
             results_table(results), ""]
    if "baseline" in by_label and "ours" in by_label:
        lines += [ratio_table(by_label["baseline"], by_label["ours"]), ""]
    lines += ["CPU and peak memory by process (sampled every 0.2 s):", ""]
    lines += [process_breakdown(r) for r in results] + [""]
    for r in results:
        if r.cells:
            lines += [f"Slowest cells, {r.label} (wall seconds, from nbclient's timing):", ""]
            lines += [f"- {seconds:.1f} s: `{first}`" for seconds, first in r.cells] + [""]
    if notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)


def run_notes(results: list) -> list:
    """Facts worth a sentence: the containers' memory, OOM kills, time caps, why a run lost points."""
    notes = []
    for r in results:
        if r.cgroup:
            notes.append(f"{r.label}: {r.outcome()} after {r.wall:.0f} s, "
                         f"{'full marks' if r.full_marks else 'NOT full marks'}; cgroup peak "
                         f"{human(r.cgroup['max_usage'])} of {human(r.cgroup['limit'])} (page cache included), "
                         f"failcnt {r.cgroup['failcnt']}, OOM kills {r.cgroup['oom_kills']}.")
        if not r.full_marks and not r.timed_out:
            why = r.notice or f"the end of its log: {tail(r.log)}"
            notes.append(f"{r.label}: {'lost points' if r.score is not None else 'no results.json'}: {why[:400]}")
    return notes


def tail(log: Path | None, lines: int = 3) -> str:
    """The last non-empty lines of a log, on one line."""
    if log is None or not log.is_file():
        return "(no log)"
    text = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return " / ".join(text[-lines:])


# --------------------------------------------------------------------------- main

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-baseline", action="store_true", help="Do not build or grade the plain otter baseline.")
    parser.add_argument("--skip-container", action="store_true", help="Do not run in the emulated Gradescope container.")
    parser.add_argument("--memory-limit", type=parse_size, action="append", metavar="SIZE",
                        help="Container memory limit, repeatable (default: 1G, 800M and 768M); the baseline uses the first.")
    parser.add_argument("--baseline-timeout", type=float, default=720, metavar="SECONDS",
                        help="When the baseline in the container is stopped (default: %(default)s).")
    parser.add_argument("--lesson", type=Path, default=DEFAULT_LESSON,
                        help="The lesson the baseline is built from (default: %(default)s).")
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST,
                        help="MNIST file, Keras layout; never copied into the repo (default: %(default)s).")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE,
                        help="Where to write the Markdown report (default: benchmarks/results/latest.md).")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (logs, baseline assignment).")
    args = parser.parse_args(argv)
    args.memory_limit = args.memory_limit or [parse_size(size) for size in ("1G", "800M", "768M")]
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    # SIGTERM must unwind through the finally blocks that remove the cgroups.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    enable_subreaper()
    machine = machine_description()
    work = Path(tempfile.mkdtemp(prefix="grading-cost-"))
    try:
        results = run_all(args, work, base_environment())
        # Before the temporary folder goes: the notes quote the logs of failed runs.
        text = report(results, machine, command_line(argv), run_notes(results))
    finally:
        kill_descendants()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print("\n" + text)
    print(f"written to {args.output}")


def run_all(args: argparse.Namespace, work: Path, env: dict) -> list:
    """Every measured run the options ask for, in order: ours, baseline, then the containers."""
    bundle, solution = ensure_built(args.mnist, env)

    def ours(label, wrap=lambda c: c):
        return run_ours(label, bundle, solution, work, env, wrap)

    step("ours: instructor grade")
    results = [ours("ours")]
    if not args.skip_baseline:
        step("baseline: otter assign + otter run")
        baseline_env = {**env, "MNIST_NPZ": str(args.mnist)}  # read by offline_mnist only
        baseline_zip, baseline_solution = build_baseline(args.lesson, work, baseline_env)

        def baseline(label, wrap=lambda c: c, timeout=RUN_TIMEOUT):
            return run_baseline(label, baseline_zip, baseline_solution, work, baseline_env, wrap, timeout)

        results.append(baseline("baseline"))
    if args.skip_container:
        return results
    for limit in args.memory_limit:
        step(f"ours in a container: {GRADESCOPE_CPU_QUOTA} CPU, {human(limit)}")
        results.append(run_in_container("ours", limit, ours))
    if not args.skip_baseline:
        limit = args.memory_limit[0]
        step(f"baseline in a container: {GRADESCOPE_CPU_QUOTA} CPU, {human(limit)}, cap {args.baseline_timeout:.0f} s")
        results.append(run_in_container("baseline", limit, lambda label, wrap: baseline(label, wrap, args.baseline_timeout)))
    return results


def command_line(argv=None) -> str:
    """How this run was started, for the report (the interpreter relative to the repository)."""
    python = Path(sys.executable)
    python = python.relative_to(REPO) if python.is_relative_to(REPO) else python
    return " ".join(shlex.quote(str(a)) for a in [python, "benchmarks/grading_cost.py",
                                                  *(sys.argv[1:] if argv is None else argv)])


def step(message: str) -> None:
    """Progress on stderr, with the time, so a background run can be followed."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
