"""Tamper suite: notebooks a cheating student could write, graded through the real pipeline.

Every case grades the tiny fixture assignment (``square``: 2 points, ``answer``: 1 point)
with ``grade_submission``, sandbox required, and asserts:

- the honest score, exactly: what the notebook's answers earn without the attack (most
  attacks come with ``answer = 41`` and an honest ``square``, so an attack that worked
  would show as anything but 2);
- the student's message, where one is expected;
- that nothing survived the grading: no process of the student user id it ran as (seen
  while it ran; gradings at once each take their own id), no process of any user whose
  command line, environment or folder names the grading's temporary folder, no file of
  that user (or with the marker) in the host's ``/tmp``, ``/var/tmp`` or ``/dev/shm``;
- that the bundle zip, the repository's files and the venv's site-packages are unchanged
  by the grading (other people edit the tree while this runs, so a change counts only if
  it carries this suite's marker or belongs to a student user);
- that results.json follows the schema, is the one the checker wrote (no marker) and does
  not blame the autograder.

Every file an attack writes and every forged results.json carries ``MARK``, assembled at
run time so that this file's own text never contains it.
"""

import fcntl
import hashlib
import json
import os
import pwd
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

from instructor.grade import grade_submission

REPO = Path(__file__).resolve().parents[1]
SITE_PACKAGES = REPO / ".venv" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
MARK = "tamper" + "-mark-" + "5e1f"
SMALL = {"cell_timeout": 3, "total_timeout": 6, "results_timeout": 5}
HOST_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
AUTOGRADER_FAILED = "autograder itself failed"
# Text only the hidden tests hold (their source, never rendered into a message).
HIDDEN_TEST_TEXTS = ("{square(7)!r}", ">>> verdict = check_defined", "'hidden': True")


# The notebooks


def answered(tiny_build, *extra_cells: str, answer: str = "42", square: str = "x ** 2") -> nbformat.NotebookNode:
    """The built student notebook answered as a student would, plus ``extra_cells`` before the end."""
    notebook = nbformat.read(tiny_build.student_notebook, as_version=4)
    for cell in notebook.cells:
        if cell.source.startswith("def square"):
            cell.source = f"def square(x):\n    return {square}"
        elif cell.source.startswith("answer = "):
            cell.source = f"answer = {answer}"
    submission_cell = next(i for i, c in enumerate(notebook.cells) if c.source.startswith("## Submission"))
    notebook.cells[submission_cell:submission_cell] = [nbformat.v4.new_code_cell(src(s)) for s in extra_cells]
    return notebook


def src(source: str, **names) -> str:
    """A code cell's source: dedented, with ``@MARK@`` and ``@NAME@`` placeholders filled in."""
    source = textwrap.dedent(source).strip("\n").replace("@MARK@", MARK)
    for name, value in names.items():
        source = source.replace(f"@{name.upper()}@", str(value))
    return source


def scores(results: dict) -> dict:
    return {t["name"]: t["score"] for t in results["tests"]}


def possible(results: dict) -> float:
    return sum(t["max_score"] for t in results["tests"])


def test_output(results: dict, name: str) -> str:
    return next(t["output"] for t in results["tests"] if t["name"] == name)


test_output.__test__ = False  # a helper, not a test


# Code an attack plants wherever it can. Run anywhere (an import in the checker, a startup
# file of a later kernel, a .pth), it forges a perfect results.json, leaves evidence in
# the host's /tmp, and in a kernel sets the answers after every cell.
PAYLOAD = src('''
    def _tamper(tag="@TAG@"):
        import json, os, sys
        forged = json.dumps({"score": 100, "output": "@MARK@ " + tag, "tests": []})
        targets = [a for a in sys.argv if str(a).endswith("results.json")]
        evidence = "/tmp/@MARK@-ran-" + "".join(c if c.isalnum() else "_" for c in tag)[-100:]
        targets += ["/autograder/results/results.json", evidence]
        for target in targets:
            try:
                with open(target, "w") as stream:
                    stream.write(forged)
            except Exception:
                pass
        try:
            shell = get_ipython()  # noqa: F821 - defined in an IPython kernel
        except NameError:
            return
        def _answers(*args):
            shell.user_ns["answer"] = 42
            shell.user_ns["square"] = lambda x: x * x
        try:
            shell.events.register("post_run_cell", _answers)
        except Exception:
            pass
    _tamper()
''')

FORGE_RESULTS = src('''
    import json, os, sys
    FORGED = json.dumps({"score": 100, "output": "@MARK@ forged results.json", "tests": [
        {"name": "square", "score": 2, "max_score": 2}, {"name": "answer", "score": 1, "max_score": 1}]})

    def result_targets():
        """Every results.json the grader could read: up from here, up from each path we were given."""
        starts = [os.getcwd(), os.environ.get("HOME", ""), os.environ.get("MNIST_NPZ", ""), *sys.path,
                  *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
        paths = {"/autograder/results/results.json", os.path.join(os.getcwd(), "../../results/results.json")}
        for start in filter(None, starts):
            folder = os.path.abspath(start)
            for _ in range(5):
                paths.add(os.path.join(folder, "results.json"))
                paths.add(os.path.join(folder, "results", "results.json"))
                folder = os.path.dirname(folder)
        return sorted(paths)

    def forge():
        written = []
        for target in result_targets():
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
            except OSError:
                pass
            try:
                with open(target, "w") as stream:
                    stream.write(FORGED)
                written.append(target)
            except OSError:
                pass
        return written

    print("forged:", forge())
''')


# What must not change or survive


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def repo_files() -> dict[str, str | None]:
    """The repository's files (tracked, and untracked but not ignored) and their hashes."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    files = {}
    for name in filter(None, listed):
        try:
            files[name] = sha256(REPO / name)
        except OSError:
            files[name] = None
    return files


def site_packages() -> dict[str, int]:
    """A cheap fingerprint of the venv's site-packages: each path and its size."""
    found = {}
    for folder, dirs, names in os.walk(SITE_PACKAGES):
        for name in [*dirs, *names]:
            path = os.path.join(folder, name)
            try:
                found[os.path.relpath(path, SITE_PACKAGES)] = os.lstat(path).st_size
            except OSError:
                pass
    return found


def student_uids() -> set[int]:
    """Every user id a grading may run the student's code as."""
    uids = set()
    try:
        from harness.layout import STUDENT_USER

        uids.add(pwd.getpwnam(STUDENT_USER).pw_uid)
    except (ImportError, KeyError):
        pass
    try:
        from harness.sandbox import PARALLEL_GRADINGS, STUDENT_UID

        uids.update(range(STUDENT_UID, STUDENT_UID + PARALLEL_GRADINGS))
    except ImportError:
        pass
    return uids


def uid_in_use(uid: int) -> bool:
    """Whether a grading running now (anyone's) holds ``uid``: then its processes are not leftovers."""
    try:
        from harness.sandbox import _LOCKS
    except ImportError:
        return False
    lock = _LOCKS / f"{uid}.lock"
    if not lock.exists():
        return False
    with open(lock, "a") as stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(stream, fcntl.LOCK_UN)
    return False


def student_files_in_host_tmp(uids: set[int]) -> set[str]:
    found = set()
    for folder in HOST_TMP_DIRS:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                owner = entry.stat(follow_symlinks=False).st_uid
            except OSError:
                continue
            if owner in uids or MARK in entry.name:
                found.add(entry.path)
    return found


def describe(process: psutil.Process) -> str:
    try:
        return f"pid {process.pid} uid {process.uids().real} {process.status()}: {' '.join(process.cmdline())[:200]}"
    except psutil.Error:
        return f"pid {process.pid} (gone)"


def processes_of_the_grading(folders: list[str], uids: set[int]) -> list[psutil.Process]:
    """Processes still running for a grading: a student user's, or naming one of its ``folders``."""
    leftovers = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            uid = process.uids().real
            if uid in uids and not uid_in_use(uid):
                leftovers.append(process)
                continue
            texts = [" ".join(process.cmdline())]
            try:
                texts += [process.cwd(), *process.environ().values()]
            except psutil.Error:
                pass
            if any(folder in text for folder in folders for text in texts):
                leftovers.append(process)
        except psutil.Error:
            continue
    return leftovers


def watch_student_uids(folders: list[str], uids: set[int], done: threading.Event) -> None:
    """Until ``done``: the student user ids of processes that belong to the grading in ``folders``.

    Gradings run at once each take their own id; knowing ours tells its leftovers from others'.
    """
    candidates = student_uids()
    while not done.wait(0.1):
        for process in psutil.process_iter():
            try:
                uid = process.uids().real
                if uid not in candidates or uid in uids:
                    continue
                texts = [" ".join(process.cmdline()), *process.environ().values()]
            except psutil.Error:
                continue
            if any(folder in text for folder in list(folders) for text in texts):
                uids.add(uid)


class Baseline:
    """The state before this module's gradings, and the check that one grading left it so."""

    def __init__(self, tiny_build):
        self.bundle = tiny_build.bundle
        self.bundle_hash = sha256(tiny_build.bundle)
        self.repo = repo_files()
        self.site = site_packages()
        self.uids = student_uids()
        self.tmp_files = student_files_in_host_tmp(self.uids)

    def check(self, folders: list[str], uids: set[int], started: float) -> None:
        """What one grading left. ``uids``: the student user ids it ran as (all of them if unknown)."""
        uids = uids or self.uids
        problems = []
        if sha256(self.bundle) != self.bundle_hash:
            problems.append("the bundle zip changed")
        problems += self._repo_changes() + self._site_changes()
        leftovers = processes_of_the_grading(folders, uids)
        if leftovers:
            time.sleep(1)  # one that was exiting right then is gone now
            leftovers = [p for p in processes_of_the_grading(folders, uids) if p.pid in {q.pid for q in leftovers}]
        problems += [f"left running: {describe(p)}" for p in leftovers]
        new_files = student_files_in_host_tmp(self.uids) - self.tmp_files
        problems += [f"left in the host's temporary folders: {path}" for path in sorted(new_files)
                     if MARK in path or self._left_by(path, uids, started)]
        problems += [f"the grading folder {folder} is still there" for folder in folders if Path(folder).exists()]
        assert not problems, "\n".join(problems)

    @staticmethod
    def _left_by(path: str, uids: set[int], started: float) -> bool:
        """Whether ``path`` is a leftover of this grading (others may be grading on this machine)."""
        try:
            info = os.lstat(path)
        except OSError:
            return False
        return info.st_uid in uids and info.st_ctime >= started - 1 and not uid_in_use(info.st_uid)

    def _repo_changes(self) -> list[str]:
        problems = []
        for name, digest in repo_files().items():
            if digest == self.repo.get(name) or digest is None:
                continue  # deletions and others' edits: only a file the student wrote counts
            if self._written_by_student(REPO / name):
                problems.append(f"the repository's {name} was changed by the student's code")
        return problems

    def _site_changes(self) -> list[str]:
        problems = []
        for name, size in site_packages().items():
            if self.site.get(name) == size:
                continue
            path = SITE_PACKAGES / name
            new_hook = name not in self.site and Path(name).stem in ("sitecustomize", "usercustomize")
            if new_hook or self._written_by_student(path):
                problems.append(f"site-packages/{name} appeared or changed during grading")
        return problems

    def _written_by_student(self, path: Path) -> bool:
        try:
            if path.lstat().st_uid in self.uids or MARK in path.name:
                return True
            return path.is_file() and path.stat().st_size < 50 << 20 and MARK.encode() in path.read_bytes()
        except OSError:
            return False


@pytest.fixture(scope="module")
def baseline(tiny_build):
    return Baseline(tiny_build)


@pytest.fixture
def grade(tiny_build, tmp_path, results_validator, baseline, monkeypatch):
    """Grade a notebook (or a path) with the tiny bundle; check the aftermath; return results.json."""
    folders: list[str] = []

    class RecordedTemporaryDirectory(tempfile.TemporaryDirectory):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            folders.append(self.name)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", RecordedTemporaryDirectory)
    runs = iter(range(1000))

    def run(submission, *, limits: dict | None = None) -> dict:
        if isinstance(submission, nbformat.NotebookNode):
            path = tmp_path / f"submission-{next(runs)}" / "tiny.ipynb"
            path.parent.mkdir()
            nbformat.write(submission, path)
            submission = path
        output = tmp_path / f"results-{next(runs)}.json"
        started, done, uids = time.time(), threading.Event(), set()
        watcher = threading.Thread(target=watch_student_uids, args=(folders, uids, done), daemon=True)
        watcher.start()
        try:
            results = grade_submission(tiny_build.bundle, submission, output, limits)
        finally:
            done.set()
            watcher.join()
        results_validator(results)
        assert json.loads(output.read_text()) == results
        text = json.dumps(results, ensure_ascii=False)
        assert MARK not in text, f"a forged or planted text reached results.json:\n{text[:3000]}"
        assert AUTOGRADER_FAILED not in results["output"], results["output"]
        unescaped = text.replace("\\", "")
        leaked = [hidden for hidden in HIDDEN_TEST_TEXTS if hidden in unescaped]
        assert not leaked, f"results.json shows the hidden tests' source {leaked}:\n{text[:3000]}"
        assert [t["name"] for t in results["tests"]] == ["square", "answer"]
        assert possible(results) == 3
        assert 0 <= results["score"] <= 3
        assert uids, "no process of a student user was seen running this notebook"
        baseline.check(folders, uids, started)
        return results

    return run


# Monkeypatching the grader's code from the notebook


MONKEYPATCHES = {
    "checks": src('''
        import sys, types
        import student.checks
        always = lambda *args, **kwargs: True
        student.checks.check_defined = always
        for name, module in list(sys.modules.items()):
            if name.startswith(("student", "harness", "otter")):
                for attribute in dir(module):
                    if attribute.startswith("check"):
                        try:
                            setattr(module, attribute, always)
                        except Exception:
                            pass
        fake = types.ModuleType("student.checks")
        fake.check_defined = always
        sys.modules["student.checks"] = fake
        sys.modules["student.checks.defined"] = fake
    '''),
    "otter": src('''
        import otter.test_files
        import otter.test_files.abstract_test as abstract_test
        import otter.test_files.ok_test as ok_test
        ok_test.run_doctest = lambda *args, **kwargs: (True, "")
        ok_test.OKTestFile.run = lambda self, *args, **kwargs: None
        for name in ("passed_all", "passed_all_public", "all_public"):
            setattr(abstract_test.TestFile, name, property(lambda self: True))
        abstract_test.TestFile.score = property(lambda self: 100)
        abstract_test.TestFile.grade = property(lambda self: 1.0)
        otter.test_files.create_test_file = lambda *args, **kwargs: None
    '''),
    "numpy-and-builtins": src('''
        import builtins, numpy
        try:
            numpy.ndarray.__eq__ = lambda self, other: True
        except TypeError as error:
            print("numpy refused:", error)
        builtins.AssertionError = type("AssertionError", (Exception,), {})
        builtins.callable = lambda *args: True
        __builtins__.isinstance = lambda *args: True
    '''),
    "answers-export": src('''
        # Export names of our own beside the answers, among them names the tests use.
        import harness.answers.export as export
        _original = export.export_answers
        def export_answers(namespace, names, folder):
            namespace = dict(namespace, verdict=True, check_defined=len, bonus=90, __builtins__={"callable": True})
            names = [*names, "verdict", "check_defined", "bonus", "__builtins__", "__name__", "__doc__"]
            return _original(namespace, names, folder)
        export.export_answers = export_answers
    '''),
}


@pytest.mark.parametrize("patch", MONKEYPATCHES.values(), ids=MONKEYPATCHES.keys())
def test_monkeypatching_the_grader_earns_nothing_for_wrong_answers(grade, tiny_build, patch):
    notebook = answered(tiny_build, patch, answer="41", square="x + 1")
    # A kernel whose isinstance always says True hangs: small limits keep that case short.
    results = grade(notebook, limits=SMALL)
    assert scores(results) == {"square": 0, "answer": 0}
    assert results["score"] == 0


# Values that compare equal to anything


ANY = "class Any:\n    __eq__ = lambda self, other: True\n    __hash__ = lambda self: 0\n"
INT = "class I(int):\n    __eq__ = lambda self, other: True\n    __hash__ = lambda self: 0\n"


@pytest.mark.parametrize(
    "answer, square, expected, messages",
    [
        ("Any()", "I(x * x + 1)", {"square": 0, "answer": 0},
         {"answer": "`answer` is an Any object; the autograder can only grade", "square": "square(7) should be 49, got 50"}),
        ("I(41)", "x ** 2", {"square": 2, "answer": 0}, {"answer": "answer is not right"}),
        ("42", "Any()", {"square": 0, "answer": 1}, {"square": "`square` returned something that is not data"}),
    ],
    ids=["answer-equal-to-anything-square-returns-int-subclass", "int-subclass-answer", "square-returns-equal-to-anything"],
)
def test_values_equal_to_anything_cross_as_what_they_are(grade, tiny_build, answer, square, expected, messages):
    notebook = answered(tiny_build, answer=answer, square=square)
    first = next(i for i, c in enumerate(notebook.cells) if c.source.startswith("def square"))
    notebook.cells.insert(first, nbformat.v4.new_code_cell(ANY + INT))
    results = grade(notebook)
    assert scores(results) == expected
    for question, message in messages.items():
        assert message in test_output(results, question)


# Writing results.json from the notebook


FORGE_IN_BACKGROUND = src('''
    import atexit, signal, subprocess, threading, time

    def keep_forging(seconds=30):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            forge()
            time.sleep(0.5)

    threading.Thread(target=keep_forging, daemon=True).start()
    atexit.register(forge)
    signal.signal(signal.SIGTERM, lambda *args: forge())
    with open("forge.py", "w") as stream:
        stream.write(FORGE_SOURCE + "\\nimport time\\nfor _ in range(60):\\n    forge()\\n    time.sleep(0.5)\\n")
    script = " ; ".join(f"echo '{FORGED}' > {target} 2>/dev/null" for target in result_targets())
    subprocess.Popen(["sh", "-c", f"sleep 5; {script}; exec {sys.executable} forge.py"], start_new_session=True)
    child = os.fork()
    if child == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                keep_forging(60)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
''')


def test_results_written_by_the_notebook_are_not_graded(grade, tiny_build):
    forge = FORGE_RESULTS + f"\nFORGE_SOURCE = {FORGE_RESULTS!r}"
    results = grade(answered(tiny_build, forge, FORGE_IN_BACKGROUND, answer="41"))
    assert scores(results) == {"square": 2, "answer": 0}
    assert results["score"] == 2


# Killing the process that runs the notebook


RUNNER_STOPPED = "The process that ran your notebook was stopped before it finished"
KERNEL_STOPPED = "Your notebook's Python process stopped while running cell"


@pytest.mark.parametrize(
    "kill, message",
    [
        ("import os\nos.kill(os.getppid(), 9)", RUNNER_STOPPED),
        ("import os\nos.killpg(0, 9)", KERNEL_STOPPED),
        ("import os\nos.kill(-1, 9)", RUNNER_STOPPED),
    ],
    ids=["kill-parent", "killpg-own-group", "kill-every-process"],
)
def test_killing_the_runner_loses_the_answers_with_a_message(grade, tiny_build, kill, message):
    results = grade(answered(tiny_build, kill))
    assert scores(results) == {"square": 0, "answer": 0}
    assert message in results["output"]


# Shadowing modules the grader imports


WALK = src('''
    import os, time

    def walk(seconds):
        """os.walk of the whole visible filesystem, /tmp first (where the grading lives), for ``seconds``."""
        end = time.monotonic() + seconds
        for top in ("/tmp", "/"):
            for root, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev", "/tmp")]
                yield root, dirs, files
                if time.monotonic() > end:
                    return
''')


PLANT_SHADOWS = src('''
    import os, sys, time
    PAYLOAD = @PAYLOAD@
    SHADOWS = ["numpy.py", "json.py", "otter/__init__.py", "student/__init__.py", "student/checks.py",
               "student/checks/__init__.py", "harness/__init__.py", "harness/checker.py", "dill.py",
               "sitecustomize.py", "usercustomize.py", "00-@MARK@.pth"]

    def plant(folder):
        count = 0
        for shadow in SHADOWS:
            path = os.path.join(folder, shadow)
            text = PAYLOAD.replace("@TAG" + "@", "shadow " + path)
            if shadow.endswith(".pth"):
                text = "import sys; exec(" + repr(text) + ")\\n"
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as stream:
                    stream.write(text)
                count += 1
            except OSError:
                pass
        return count

    folders = {os.getcwd(), os.path.expanduser("~"), "/tmp", "/var/tmp", "/dev/shm", *filter(None, sys.path)}
    folders.update(root for root, dirs, files in walk(5) if os.access(root, os.W_OK))
    planted = {folder: plant(folder) for folder in sorted(folders)}
    print({folder: count for folder, count in planted.items() if count})
''', payload=repr(PAYLOAD))


def test_modules_planted_on_every_writable_path_do_not_reach_the_checker(grade, tiny_build):
    # The planted files would also break the student's own call server (see the next test):
    # square is no function here, so the honest score is 0 and only the checker is exercised.
    notebook = answered(tiny_build, WALK, PLANT_SHADOWS, "import numpy, json\nsquare = 49", answer="41")
    results = grade(notebook)
    assert scores(results) == {"square": 0, "answer": 0}


def test_a_file_left_in_the_students_home_does_not_break_the_call_server(grade, tiny_build):
    # The call server works in the student's folder: were that folder first on its sys.path,
    # this json.py would replace the standard library's there and square would score 0.
    leave = "import os\nopen(os.path.expanduser('~/json.py'), 'w').write('raise SystemExit(1)')"
    results = grade(answered(tiny_build, leave))
    assert scores(results) == {"square": 2, "answer": 1}


# Rewriting the tests, inventing a question


BONUS_TEST = (
    "OK_FORMAT = True\ntest = {'name': 'bonus', 'points': 90, 'suites': [{'cases': [{'code': '>>> True\\nTrue', "
    "'hidden': False, 'locked': False}], 'scored': True, 'setup': '', 'teardown': '', 'type': 'doctest'}]}\n"
)
REWRITE_TESTS = src('''
    import os, time
    BONUS = @BONUS@
    opened, created = [], []
    for root, dirs, files in walk(6):
        if not any(part in ("tests", "source", "public_tests") for part in root.split(os.sep)):
            continue
        for name in files:
            try:
                descriptor = os.open(os.path.join(root, name), os.O_WRONLY | os.O_APPEND)
            except OSError:
                continue
            with os.fdopen(descriptor, "w") as stream:
                stream.write("\\n# points: 100 @MARK@\\n")
            opened.append(os.path.join(root, name))
        for new in ("bonus.py", "square.py", "answer.py"):
            try:
                with open(os.path.join(root, new), "x") as stream:
                    stream.write(BONUS)
                created.append(os.path.join(root, new))
            except OSError:
                pass
    os.makedirs("tests", exist_ok=True)
    with open("tests/bonus.py", "w") as stream:
        stream.write(BONUS)
    print("rewrote", opened, "created", created)
''', bonus=repr(BONUS_TEST))
INVENT_QUESTION = src('''
    bonus = True
    import harness.answers.export as export
    _original = export.export_answers
    export.export_answers = lambda namespace, names, folder: _original(namespace, [*names, "bonus"], folder)
''')


def test_the_tests_cannot_be_rewritten_nor_a_question_added(grade, tiny_build):
    notebook = answered(tiny_build, WALK, REWRITE_TESTS, INVENT_QUESTION, answer="41")
    notebook.metadata["otter"]["tests"] = {"bonus.py": BONUS_TEST}
    notebook.cells.insert(len(notebook.cells) - 1, nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: bonus\npoints: 90"))
    results = grade(notebook)  # the fixture checks: only square and answer, 3 points possible
    assert scores(results) == {"square": 2, "answer": 0}


# Reading the hidden tests


SEARCH_HIDDEN_TESTS = src('''
    import os, time
    # Text only the hidden test files hold (assembled, so this cell does not hold it).
    SIGNS = ["'hid" + "den': True", "{square(7)" + "!r}", "answer is " + "not right"]

    def hidden_tests(seconds=6):
        found = []
        for root, dirs, files in walk(seconds):
            for name in files:
                path = os.path.join(root, name)
                if not (name in ("square.py", "answer.py") or name.endswith((".json", ".zip", ".py"))
                        and ("test" in path or "source" in path or "grad" in path)):
                    continue
                try:
                    if os.path.getsize(path) > 1 << 20:
                        continue
                    with open(path, "rb") as stream:
                        text = stream.read().decode("utf-8", "replace")
                except OSError:
                    continue
                if any(sign in text for sign in SIGNS):
                    found.append(path + ": " + text)
        return found

    FOUND = hidden_tests()
    print("\\n".join(FOUND))
    answer = "\\n".join(FOUND) if FOUND else 42
''')
# Run again in the call server (another process, later): it returns whatever it finds there.
SQUARE_SEARCHES = src('''
    def square(x):
        found = hidden_tests(3)
        return "\\n".join(found) if found else x ** 2
''')


def test_the_hidden_tests_cannot_be_read(grade, tiny_build):
    results = grade(answered(tiny_build, WALK, SEARCH_HIDDEN_TESTS, SQUARE_SEARCHES, answer="None"))
    # Had the notebook found them, answer would be their text (0) and square's message would quote them.
    assert scores(results) == {"square": 2, "answer": 1}
    text = json.dumps(results)
    for hidden in [*HIDDEN_TEST_TEXTS, "answer is not right"]:
        assert hidden not in text.replace("\\", "")


# Files beside the notebook


def test_files_uploaded_beside_the_notebook_are_ignored(grade, tiny_build, tmp_path):
    payload = PAYLOAD.replace("@TAG@", "uploaded file")
    archive = tmp_path / "tiny_2026_11_28T12_00_00.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tiny.ipynb", nbformat.writes(answered(tiny_build, answer="41")))
        for name in ("sitecustomize.py", "usercustomize.py", "autograder/__init__.py", "harness/__init__.py",
                     "harness/supervisor.py", "harness/checker.py", "student/__init__.py", "student/checks/__init__.py",
                     "otter/__init__.py", "numpy.py", "json.py", "run_otter.py", ".ipython/profile_default/startup/00.py"):
            zf.writestr(name, payload)
        zf.writestr("zz-tamper.pth", "import sys; exec(" + repr(payload) + ")\n")
        zf.writestr("tests/square.py", BONUS_TEST.replace("'bonus', 'points': 90", "'square', 'points': 100"))
        zf.writestr("tests/bonus.py", BONUS_TEST)
        zf.writestr("results/results.json", json.dumps({"score": 100, "output": MARK, "tests": []}))
        zf.writestr(".OTTER_LOG", b"")
    results = grade(archive)
    assert scores(results) == {"square": 2, "answer": 0}


# Processes that will not stop, or outlive the kernel


IGNORE_INTERRUPTS = src('''
    import signal, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.1)
''')


def test_a_loop_that_ignores_interrupts_is_stopped_at_the_hard_timeout(grade, tiny_build):
    started = time.monotonic()
    results = grade(answered(tiny_build, IGNORE_INTERRUPTS), limits=SMALL)
    assert scores(results) == {"square": 0, "answer": 0}
    assert "Make sure every cell finishes" in results["output"]
    hard_timeout = SMALL["total_timeout"] + SMALL["results_timeout"] + 30
    assert time.monotonic() - started < hard_timeout + 30


SPAWN_SURVIVORS = src('''
    import os, subprocess, time
    children = [subprocess.Popen(["sleep", "1000"], start_new_session=True) for _ in range(50)]
    child = os.fork()
    if child == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                os.chdir("/")
                for fd in range(3):
                    os.close(fd)
                for _ in range(200):
                    try:
                        subprocess.Popen(["sleep", "1000"], start_new_session=True, env={})
                    except OSError:
                        pass
                    time.sleep(0.2)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    print(len(children), "children")
''')
# The call server runs square as the student too: each call leaves a child.
SQUARE_SPAWNS = src('''
    def square(x):
        import subprocess
        subprocess.Popen(["sleep", "1000"], start_new_session=True)
        return x ** 2
''')


def test_children_that_outlive_the_kernel_are_killed(grade, tiny_build):
    results = grade(answered(tiny_build, SPAWN_SURVIVORS, SQUARE_SPAWNS))
    assert scores(results) == {"square": 2, "answer": 1}


# The call server runs square as the student: one that never returns, deaf to signals.
SQUARE_HANGS = src('''
    def square(x):
        import signal, time
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_IGN)
        while True:
            time.sleep(0.1)
''')


def test_a_function_that_never_returns_is_stopped_in_the_call_server(grade, tiny_build):
    results = grade(answered(tiny_build, SQUARE_HANGS))
    assert scores(results) == {"square": 0, "answer": 1}
    assert "`square` did not return within 10 s" in test_output(results, "square")


FILL_TEMPORARY_FOLDERS = src('''
    import os
    def fill(path, limit=2 << 30):
        chunk, written = b"@MARK@" * (1 << 20), 0
        try:
            with open(path, "wb") as stream:
                while written < limit:
                    stream.write(chunk)
                    written += len(chunk)
        except OSError as error:
            return f"{written >> 20} MB, then {error.strerror}"
        return f"{written >> 20} MB"
    for folder in ("/tmp", "/var/tmp", "/dev/shm", os.getcwd()):
        print(folder, fill(os.path.join(folder, "big-@MARK@")))
''')


def test_two_gigabytes_in_the_temporary_folders_are_not_left_behind(grade, tiny_build):
    # The sandbox's /tmp and /dev/shm are capped tmpfs, the working folder is capped per file
    # (RLIMIT_FSIZE): each write stops with an error, and the grading goes on.
    results = grade(answered(tiny_build, FILL_TEMPORARY_FOLDERS))
    assert scores(results) == {"square": 2, "answer": 1}


USE_TMP = src('''
    import multiprocessing
    with open("/tmp/answer.txt", "w") as stream:
        stream.write("42")
    with open("/tmp/answer.txt") as stream:
        answer = int(stream.read())
    multiprocessing.Lock()  # a POSIX semaphore, in /dev/shm
''')


def test_an_honest_notebook_can_use_tmp_and_shared_memory(grade, tiny_build):
    # The sandbox's /tmp and /dev/shm are private tmpfs, and writable by the student.
    results = grade(answered(tiny_build, USE_TMP, answer="None"))
    assert scores(results) == {"square": 2, "answer": 1}


# The network


CONNECT = src('''
    import socket, urllib.request
    reached = []
    try:
        urllib.request.urlopen("http://127.0.0.1:@PORT@/", timeout=3)
        reached.append("http")
    except Exception as error:
        print("http:", error)
    try:
        socket.create_connection(("127.0.0.1", @PORT@), timeout=3).close()
        reached.append("tcp")
    except OSError as error:
        print("tcp:", error)
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"@MARK@", ("127.0.0.1", @UDP_PORT@))
    except OSError as error:
        print("udp:", error)
    answer = 41 if reached else 42
''')


def test_the_notebook_cannot_reach_the_hosts_network(grade, tiny_build):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    datagrams = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.setblocking(False)
        datagrams.bind(("127.0.0.1", 0))
        datagrams.setblocking(False)
        connect = src(CONNECT, port=listener.getsockname()[1], udp_port=datagrams.getsockname()[1])
        results = grade(answered(tiny_build, connect, answer="None"))
        with pytest.raises(BlockingIOError):
            listener.accept()
        with pytest.raises(BlockingIOError):
            datagrams.recvfrom(100)
    finally:
        listener.close()
        datagrams.close()
    assert scores(results) == {"square": 2, "answer": 1}


# Poisoning the next grading


POISON = src('''
    import os, subprocess, sys, sysconfig
    PAYLOAD = @PAYLOAD@
    home = os.path.expanduser("~")
    site = sysconfig.get_paths()["purelib"]
    targets = [
        f"{site}/sitecustomize.py", f"{site}/usercustomize.py", f"{site}/zz-@MARK@.pth",
        f"{site}/numpy/__init__.py", f"{site}/otter/test_files/ok_test.py",
        f"{home}/.ipython/profile_default/startup/00-@MARK@.py",
        "/root/.ipython/profile_default/startup/00-@MARK@.py",
        f"{home}/.local/lib/python3.11/site-packages/usercustomize.py",
        f"{home}/.jupyter/jupyter_config.py",
    ]
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        for name in ("sitecustomize.py", "usercustomize.py", "numpy.py", "zz-@MARK@.pth",
                     ".ipython/profile_default/startup/00-@MARK@.py", ".keras/keras.json", "grading-@MARK@/x"):
            targets.append(f"{folder}/{name}")
    written = []
    for path in targets:
        text = PAYLOAD.replace("@TAG" + "@", "poison " + path)
        if path.endswith(".pth"):
            text = "import sys; exec(" + repr(text) + ")\\n"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as stream:
                stream.write("\\n" + text)
            written.append(path)
        except OSError:
            pass
    print("written:", written)
    for command in (["install", "--no-index", "--force-reinstall", "--no-deps", "six"],
                    ["install", "--no-index", "--target", site, "six"]):
        completed = subprocess.run([sys.executable, "-m", "pip", *command], capture_output=True, text=True)
        print(command, completed.returncode, completed.stderr[-300:])
''', payload=repr(PAYLOAD))


def test_a_notebook_cannot_poison_the_next_grading(grade, tiny_build):
    results = grade(answered(tiny_build, POISON, answer="41"))
    assert scores(results) == {"square": 2, "answer": 0}
    # Had a startup file or a .pth survived, these kernels would set the answers themselves.
    assert scores(grade(tiny_build.student_notebook)) == {"square": 0, "answer": 0}
    assert scores(grade(answered(tiny_build))) == {"square": 2, "answer": 1}


# Answers the checker imports


def test_a_module_answer_runs_no_code_in_the_checker(grade, tiny_build):
    # A module answer crosses as its name and the checker imports it: importing
    # unittest.__main__ would run unittest's command line there (venv.__main__ would make
    # venvs in the bundle, the run folder and results.json's place, so no results at all).
    notebook = answered(tiny_build, answer='__import__("types").ModuleType("unittest.__main__")')
    results = grade(notebook)
    assert scores(results) == {"square": 2, "answer": 0}
    assert "`answer` is the module `unittest.__main__`, which the autograder does not import" in test_output(results, "answer")


# Pathological but honest notebooks


def _long_expression(tiny_build):
    return answered(tiny_build, "x = " + " + ".join(["1"] * 300_000))


def _deep_nesting_and_odd_encodings(tiny_build):
    notebook = answered(
        tiny_build,
        "s = '" + "[" * 500 + "]" * 500 + "'",
        "x = " + "[" * 500 + "]" * 500,
        "y = " + "(" * 150 + "1" + ")" * 150,
        "größe = 'Grüße, 世界 🎉 \\u200b'\nπ = 3.14159\r\nprint(größe, π)",
        "\ufeff# a cell starting with a BOM\nz = 'é'",
        "text = '\\udcff'.encode('utf-8', 'surrogateescape')",
    )
    for c in notebook.cells:
        if c.source.startswith(("def square", "answer = ")):
            c.source = "# ünïcödé 🎉\r\n" + c.source.replace("\n", "\r\n") + "\r\n"
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell("Emoji 🎉, RTL \u200fשלום\u200f, combining e\u0301, \u2028 line"))
    # The file itself as a Windows editor may save it: a byte order mark and CRLF line ends.
    return b"\xef\xbb\xbf" + nbformat.writes(notebook).replace("\n", "\r\n").encode("utf-8")


def _huge_markdown(tiny_build):
    notebook = answered(tiny_build)
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell("lorem ipsum " * 900_000))
    return notebook


@pytest.mark.parametrize("make", [_long_expression, _deep_nesting_and_odd_encodings, _huge_markdown],
                         ids=["300k-term-expression", "deep-nesting-and-odd-encodings", "10MB-markdown"])
def test_pathological_but_honest_notebooks_keep_their_points(grade, tiny_build, tmp_path, make):
    # IPython spends longer than any cell limit on the 300,000-term line (plain Python refuses
    # it at once): a small cell limit keeps that case short; the cell is stopped, nothing lost.
    submission = make(tiny_build)
    if isinstance(submission, bytes):
        (tmp_path / "tiny.ipynb").write_bytes(submission)
        submission = tmp_path / "tiny.ipynb"
    results = grade(submission, limits={"cell_timeout": 5, "total_timeout": 40, "results_timeout": 20})
    assert scores(results) == {"square": 2, "answer": 1}
    assert results["score"] == 3
