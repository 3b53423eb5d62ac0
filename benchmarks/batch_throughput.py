"""Batch grading throughput: ``instructor grade-all`` against one-at-a-time ``instructor grade``.

Run by hand, never in CI (about 15-20 minutes on 2 cores)::

    MNIST_NPZ=../shared/data/mnist.npz .venv/bin/python benchmarks/batch_throughput.py

It builds ``assignments/neural-networks`` (``instructor build``, into ``dist/``), grades one
submission untimed to warm the page cache, then, over the self-test fixtures (made from the build
by ``instructor validate --write-fixtures`` into ``dist/neural-networks/fixtures/``):

1. ``instructor grade-all`` at its default job count (``--jobs`` to choose), into a fresh folder;
2. ``instructor grade`` on each submission, one after the other.

For each: wall seconds, submissions per hour, CPU seconds (user + system) of the whole process
tree, and memory sampled every 0.2 s over the whole tree (sum of RSS, sum of anonymous memory,
and the largest single process), with the measurement helpers of ``grading_cost.py``. The scores
of the two runs are compared. The report, with the date, machine, ``uptime`` before and after
and the command, goes to stdout and ``benchmarks/results/batch.md``. Other work on the machine
stretches wall time: the load averages say how much there was.
"""

import argparse
import datetime
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading_cost import base_environment, enable_subreaper, human, machine_description, measure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ASSIGNMENT = "neural-networks"
BUNDLE = REPO / "dist" / ASSIGNMENT / "autograder" / f"{ASSIGNMENT}-autograder.zip"
SUBMISSIONS = REPO / "dist" / ASSIGNMENT / "fixtures"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "batch.md"
GIB = 1 << 30
MEMORY_PER_WORKER = GIB  # instructor.grade_all.MEMORY_PER_WORKER


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def step(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=None, help="grade-all's --jobs (default: its own default)")
    parser.add_argument("--skip-build", action="store_true", help="use the bundle already in dist/")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="where to write the report")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    enable_subreaper()
    env = base_environment()
    if not env.get("MNIST_NPZ"):
        sys.exit("set MNIST_NPZ to the MNIST file (e.g. MNIST_NPZ=../shared/data/mnist.npz)")
    machine = machine_description()
    load_before = uptime()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    if not args.skip_build:
        step(f"building {ASSIGNMENT}")
        subprocess.run([str(BIN / "instructor"), "build", f"assignments/{ASSIGNMENT}"], cwd=REPO, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run([str(BIN / "instructor"), "validate", f"assignments/{ASSIGNMENT}", "--write-fixtures"], cwd=REPO,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    notebooks = sorted(SUBMISSIONS.glob("*.ipynb"))
    work = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    step(f"warm-up: one untimed grading (work folder {work})")
    subprocess.run([str(BIN / "instructor"), "grade", str(SUBMISSIONS / "reference.ipynb"), "--bundle", str(BUNDLE)],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    outdir = work / "class"
    command = [str(BIN / "instructor"), "grade-all", str(SUBMISSIONS), "--bundle", str(BUNDLE), "-o", str(outdir)]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    step(f"grade-all over {len(notebooks)} submissions")
    batch = measure("grade-all", command, env=env, cwd=REPO, log=work / "grade-all.log")
    if batch.exit_status != 0:
        sys.exit(f"grade-all failed (exit {batch.exit_status}); see {work / 'grade-all.log'}")
    summary = (outdir / "summary.md").read_text()
    jobs = int(re.search(r"(\d+) at a time", summary).group(1))

    serial, serial_scores = [], {}
    for number, notebook in enumerate(notebooks, start=1):
        step(f"one at a time: {number}/{len(notebooks)} {notebook.name}")
        output = work / "serial" / f"{notebook.stem}.json"
        one = measure(notebook.name, [str(BIN / "instructor"), "grade", str(notebook), "--bundle", str(BUNDLE),
                                      "-o", str(output)], env=env, cwd=REPO, log=work / f"serial-{notebook.stem}.log")
        serial.append(one)
        serial_scores[notebook.name] = json.loads(output.read_text())["score"] if output.is_file() else None
    load_after = uptime()

    batch_scores = {}
    batch_seconds = []
    for folder in sorted((outdir / "results").iterdir()):
        record = json.loads((folder / "grading.json").read_text())
        results = folder / "results.json"
        batch_scores[record["submission"]] = json.loads(results.read_text())["score"] if results.is_file() else None
        batch_seconds.append(record["seconds"])
    report = render(
        machine=machine, started_at=started_at, load_before=load_before, load_after=load_after,
        command=command_line(argv), batch_command=command, jobs=jobs, count=len(notebooks), batch=batch,
        serial=serial, batch_seconds=batch_seconds, batch_scores=batch_scores, serial_scores=serial_scores,
        summary=summary,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(report)
    step(f"report written to {args.output}; work folder {work}")


def render(*, machine, started_at, load_before, load_after, command, batch_command, jobs, count, batch, serial,
           batch_seconds, batch_scores, serial_scores, summary) -> str:
    serial_wall = sum(r.wall for r in serial)
    serial_cpu = sum(r.cpu for r in serial)
    batch_rate = count / batch.wall * 3600
    serial_rate = count / serial_wall * 3600
    cpu_per_submission = batch.cpu / count
    serial_cpu_per_submission = serial_cpu / count
    cores = int(machine["nproc"])
    budget = jobs * MEMORY_PER_WORKER
    mismatches = [name for name in serial_scores if batch_scores.get(name) != serial_scores[name]]
    # A 1,000-student regrade on this machine, from the measured figures.
    thousand_cpu_hours = 1000 * cpu_per_submission / 3600
    thousand_at_batch_rate = 1000 / batch_rate
    thousand_serial = 1000 / serial_rate
    thousand_cpu_bound = thousand_cpu_hours / cores
    lines = [
        "# Batch grading throughput",
        "",
        f"Measured {started_at:%Y-%m-%d %H:%M} UTC with `{command}` (`benchmarks/batch_throughput.py`).",
        "",
        f"- machine: {machine['cpu']}, `nproc` {machine['nproc']}",
        "- `free -g` at the start:",
        "",
        "```",
        machine["free -g"],
        "```",
        "",
        f"- `uptime` before: `{load_before}`",
        f"- `uptime` after:  `{load_after}`",
        "- Other engineers' test suites may have been running on this machine at the same time: the load",
        "  averages above say how busy it was. Wall-clock figures stretch with that load; CPU seconds much less.",
        f"- submissions: the {count} self-test fixtures, made from the build in `{display(SUBMISSIONS)}/`, each graded in",
        "  the sandbox with the bundle `instructor build` made; one untimed grading first warmed the page cache.",
        f"- grade-all: `{' '.join(shlex.quote(display(c)) for c in batch_command)}`",
        f"  ({jobs} jobs, its default on this machine: the cores, as far as memory allows 1 GiB each)",
        "",
        f"| | grade-all, {jobs} jobs | one at a time (`instructor grade`) |",
        "|---|---:|---:|",
        f"| wall seconds, {count} submissions | {batch.wall:.0f} | {serial_wall:.0f} |",
        f"| **submissions per hour** | **{batch_rate:.0f}** | **{serial_rate:.0f}** |",
        f"| CPU seconds, whole process tree | {batch.cpu:.0f} | {serial_cpu:.0f} |",
        f"| CPU seconds per submission | {cpu_per_submission:.1f} | {serial_cpu_per_submission:.1f} |",
        f"| peak memory, sum of RSS over the tree | {human(batch.peak_sum)} | {human(max(r.peak_sum for r in serial))} |",
        f"| peak memory, sum of anonymous memory over the tree | {human(batch.peak_anon_sum)} | {human(max(r.peak_anon_sum for r in serial))} |",
        f"| largest single process (VmHWM) | {human(batch.peak_one)} ({batch.peak_one_role}) | {human(max(r.peak_one for r in serial))} |",
        "",
        f"**Ratio: grade-all grades {batch_rate / serial_rate:.2f}× as many submissions per hour as one-at-a-time "
        f"`instructor grade`** ({jobs} jobs on {cores} cores).",
        "",
        f"Per-submission wall time inside grade-all (from each `grading.json`): median "
        f"{statistics.median(batch_seconds):.0f} s, min {min(batch_seconds):.0f} s, max {max(batch_seconds):.0f} s; "
        f"one at a time: median {statistics.median(r.wall for r in serial):.0f} s.",
        "",
        f"**Memory budget:** {jobs} jobs × 1 GiB = {human(budget)}. The whole batch peaked at "
        f"{human(batch.peak_anon_sum)} of anonymous memory (what a memory limit cannot reclaim) and "
        f"{human(batch.peak_sum)} of RSS summed over processes (counting shared TensorFlow library pages once "
        f"per process): {'within' if batch.peak_anon_sum <= budget else 'OVER'} the budget by anonymous memory, "
        f"{'within' if batch.peak_sum <= budget else 'over'} it by summed RSS.",
        "",
        f"Scores: {'the same in both runs for every submission' if not mismatches else 'DIFFER for ' + ', '.join(mismatches)}.",
        "",
        "## A 1,000-student regrade on one machine, on paper",
        "",
        f"- CPU: {cpu_per_submission:.1f} CPU s per submission × 1,000 = {thousand_cpu_hours:.1f} CPU hours; on "
        f"{cores} cores at best {thousand_cpu_bound:.1f} hours.",
        f"- At the measured grade-all rate ({batch_rate:.0f}/h): {thousand_at_batch_rate:.1f} hours; one at a time "
        f"({serial_rate:.0f}/h): {thousand_serial:.1f} hours.",
        f"- Memory: {jobs} workers need about {human(budget)}; a machine with more cores grades "
        "proportionally faster as long as it has about 1 GB per core.",
        "",
        "## grade-all's summary.md for this run",
        "",
        *("> " + line if line else ">" for line in summary.rstrip().splitlines()),
        "",
    ]
    return "\n".join(lines)


def display(path) -> str:
    """``path`` relative to the repository when it is inside it."""
    try:
        return str(Path(path).relative_to(REPO))
    except ValueError:
        return str(path)


def command_line(argv=None) -> str:
    args = sys.argv[1:] if argv is None else argv
    mnist = os.environ.get("MNIST_NPZ", "")
    prefix = f"MNIST_NPZ={shlex.quote(mnist)} " if mnist else ""
    return prefix + " ".join([".venv/bin/python", "benchmarks/batch_throughput.py", *map(shlex.quote, args)])


if __name__ == "__main__":
    main()
