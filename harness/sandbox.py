"""Run the student's code as an unprivileged user, in a sandbox when the machine allows one.

Three levels, best first (``detect``):

- ``bwrap``: bubblewrap gives the process its own PID, network and IPC namespaces (no
  network), a read-only view of the system, the Python environment and the parts of the
  bundle students have anyway, a private size-capped ``/tmp``, and one writable folder. As
  root it also drops to the ``otter-student`` user inside, so the files it writes belong to
  that user.
- ``user``: no namespaces (Gradescope's Docker container forbids them), but the code runs
  as ``otter-student`` with process and file-size limits; the bundle's secrets are made
  unreadable to it (``lock_bundle``) and its leftovers are swept by user id.
- ``none``: the grader's own user and machine. Only with an explicit ``--no-sandbox``.

Whatever the level, ``StudentProcess`` ends with no process of the student left: bubblewrap's
PID namespace dies with its first process, and a dedicated user's processes are killed by id.
"""

import collections
import os
import pwd
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .layout import STUDENT_USER

STUDENT_UID = 61000
"""The student user's id; gradings that run at once each take the next free id after it."""
PARALLEL_GRADINGS = 64
USERADD_COMMAND = [
    "useradd", "--system", "--uid", str(STUDENT_UID), "--user-group", "--no-create-home",
    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", STUDENT_USER,
]
"""How setup.sh (on Gradescope) and the local runner create the student user."""
_LOCKS = Path("/run/otter-grading")

SANDBOX_ENV = "GRADING_SANDBOX"
"""``require`` (locally: bubblewrap or refuse), ``best`` (Gradescope: bubblewrap, else the
student user alone), ``user`` (the student user alone, as in a container that forbids
namespaces: for testing that level), ``none``."""

MAX_PROCESSES = 1024  # TensorFlow alone runs ~100 threads; threads count as processes
MAX_FILE_BYTES = 1 << 30
TMP_BYTES = 1 << 30
LOG_BYTES = 1 << 20
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
_SHARED_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


class SandboxError(Exception):
    """No sandbox of the level asked for can run here; the message says what to do."""


@dataclass(frozen=True)
class Sandbox:
    """How to run student code on this machine.

    Example:
    >>> Sandbox("none").wrap(["python", "-V"], readable=[], writable=Path("/tmp/w"))
    ['python', '-V']
    """

    level: str
    uid: int | None = None
    gid: int | None = None
    lock: object = field(default=None, compare=False, repr=False)
    """Held while this sandbox is in use: no other grading takes the same user id."""

    @property
    def dedicated_user(self) -> bool:
        """Whether the student's processes can be recognised (and killed) by their user id."""
        return self.uid is not None

    def wrap(self, command: list[str], *, readable: list[Path], writable: Path) -> list[str]:
        """``command`` wrapped to run sandboxed, seeing ``readable`` and writing only ``writable``."""
        if self.level == "none":
            return command
        drop = []
        if self.uid is not None:
            drop = [
                "setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            ]
        if self.level == "user":
            return drop + command
        return _bwrap_arguments(readable, writable, as_root=self.uid is not None) + drop + command

    def limit_resources(self) -> None:
        """Process and file-size limits, for ``preexec_fn`` (they pass through setpriv and bwrap)."""
        if self.dedicated_user:
            # Counted per user: only meaningful when the user runs nothing else.
            resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def give_folder(self, folder: Path) -> None:
        """Make ``folder`` the student's own (private to them and to the grader)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.uid is not None:
            os.chown(folder, self.uid, self.gid)
        folder.chmod(0o700)

    def start(self, command: list[str], *, env: dict, readable: list[Path], writable: Path, **popen) -> subprocess.Popen:
        """Start ``command`` as the student, sandboxed; stop it with ``stop`` (which also sweeps)."""
        return subprocess.Popen(
            self.wrap(command, readable=readable, writable=writable),
            env=env, cwd=writable, preexec_fn=self.limit_resources, start_new_session=True, **popen,
        )

    def run(self, command: list[str], *, env: dict, readable: list[Path], writable: Path, timeout: float,
            log: Path) -> "Finished":
        """Run ``command`` as the student to its end or to ``timeout``; nothing of it outlives this call.

        The last ``LOG_BYTES`` of its output go to ``log``, for the instructor only: the
        grader never reads it, and the student cannot make it big.
        """
        process = self.start(command, env=env, readable=readable, writable=writable,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        tail = _Tail(process.stdout)
        tail.start()
        try:
            process.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        self.stop(process)
        tail.join(timeout=10)  # every writer is dead: the pipe is closed
        log.write_bytes(tail.text())
        return Finished(process.returncode, timed_out)

    def stop(self, process: subprocess.Popen) -> None:
        """Kill ``process`` with everything it started, then sweep the student user's leftovers."""
        try:
            # bubblewrap's PID namespace dies with it; without one, its session goes first.
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.kill()
        process.wait()
        self.sweep()

    def sweep(self) -> None:
        """Kill every process of the student user and remove its files from shared temp folders."""
        if not self.dedicated_user:
            return
        import psutil

        deadline = time.monotonic() + 10
        while True:
            survivors = [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == self.uid]
            if not survivors or time.monotonic() > deadline:
                break
            for process in survivors:
                try:
                    process.send_signal(signal.SIGKILL)
                except psutil.Error:
                    pass
            time.sleep(0.05)
        for folder in _SHARED_TMP_DIRS:
            _remove_owned_by(Path(folder), self.uid)


class _Tail(threading.Thread):
    """Reads a pipe to its end, keeping only the last ``LOG_BYTES``."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self._stream, self._chunks, self._size = stream, collections.deque(), 0

    def run(self):
        for chunk in iter(lambda: self._stream.read1(65536), b""):
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size - len(self._chunks[0]) >= LOG_BYTES:
                self._size -= len(self._chunks.popleft())
        self._stream.close()

    def text(self) -> bytes:
        return b"".join(self._chunks)[-LOG_BYTES:]


@dataclass(frozen=True)
class Finished:
    """How a student process ended: its exit status (negative: killed by that signal), or timed out."""

    returncode: int
    timed_out: bool


def detect(requirement: str = "require") -> Sandbox:
    """The best sandbox this machine gives, held to ``requirement`` (see ``SANDBOX_ENV``).

    Raises ``SandboxError`` when ``requirement`` is ``require`` and bubblewrap cannot run.
    """
    if requirement not in ("require", "best", "user", "none"):
        raise SandboxError(f"{SANDBOX_ENV} must be require, best, user or none, not {requirement!r}")
    if requirement == "none":
        return Sandbox("none")
    uid = gid = lock = None
    if os.geteuid() == 0:
        ensure_student_user()
        uid, lock = _reserve_student_id()
        gid = uid
    if requirement != "user" and _bwrap_works(as_root=uid is not None):
        return Sandbox("bwrap", uid, gid, lock)
    if requirement == "require":
        raise SandboxError(
            "bubblewrap (bwrap) cannot run here, so student code cannot be sandboxed: install it "
            "(Debian/Ubuntu: sudo apt-get install bubblewrap) and allow user namespaces, or grade "
            "with --no-sandbox only for notebooks you trust."
        )
    if uid is None:
        raise SandboxError("grading needs root (to run the student's code as another user) or bubblewrap")
    _require_reachable_python()
    return Sandbox("user", uid, gid, lock)


def _require_reachable_python() -> None:
    """Without bubblewrap the student user runs this Python in place: it must reach it."""
    executable = Path(sys.executable)
    for folder in {*executable.parents, *executable.resolve().parents}:
        if not folder.stat().st_mode & stat.S_IXOTH:
            raise SandboxError(
                f"the student user cannot reach this Python ({sys.executable}): {folder} is closed to other "
                f"users; open it for passing through with 'chmod o+x {folder}' (the bundle's setup.sh does this "
                "for /root)"
            )


def ensure_student_user() -> None:
    """Create the student user if it does not exist (root only), so that ``ps`` names it."""
    try:
        pwd.getpwnam(STUDENT_USER)
    except KeyError:
        completed = subprocess.run(USERADD_COMMAND, capture_output=True, text=True)
        if completed.returncode != 0 and "already exists" not in completed.stderr:
            raise SandboxError(f"could not create the user {STUDENT_USER}: {completed.stderr.strip()}")


def _reserve_student_id():

    """A user id no other grading on this machine is using, and the lock that holds it.

    Each grading kills every process of its student id when it ends; two gradings at once
    (``instructor validate``, batch grading) must therefore never share one.
    """
    import fcntl

    _LOCKS.mkdir(mode=0o700, exist_ok=True)
    for uid in range(STUDENT_UID, STUDENT_UID + PARALLEL_GRADINGS):
        try:
            owner = pwd.getpwuid(uid).pw_name
        except KeyError:
            owner = None
        if owner not in (None, STUDENT_USER):
            continue
        lock = open(_LOCKS / f"{uid}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return uid, lock
    raise SandboxError(f"{PARALLEL_GRADINGS} gradings are already running on this machine; wait for one to end")


def lock_bundle(bundle_root: Path, readable: list[Path]) -> None:
    """Make ``bundle_root`` unreadable to other users except the ``readable`` paths (root only).

    Needed where no bubblewrap hides the bundle: the tests must stay out of the student's sight.
    """
    for folder, dirs, files in os.walk(bundle_root):
        for name in [*dirs, *files]:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~0o077)
    bundle_root.chmod(0o711)
    for path in readable:
        for parent in path.parents:
            parent.chmod(parent.stat().st_mode | 0o011)  # passing through, not listing
        if not path.exists():
            continue
        for folder, dirs, files in os.walk(path):
            Path(folder).chmod(0o755)
            for name in files:
                Path(folder, name).chmod(0o644)
        if path.is_file():
            path.chmod(0o644)


def _bwrap_arguments(readable: list[Path], writable: Path, *, as_root: bool) -> list[str]:
    namespaces = (
        ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if as_root  # a user namespace would leave no room to switch to the student user inside
        else ["--unshare-all"]
    )
    arguments = ["bwrap", "--die-with-parent", "--new-session", *namespaces]
    for directory in _SYSTEM_DIRS:
        path = Path(directory)
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), directory]
        elif path.is_dir():
            arguments += ["--ro-bind", directory, directory]
    arguments += ["--proc", "/proc", "--dev", "/dev"]
    for shared in ("/tmp", "/dev/shm"):  # private to this sandbox, writable as on any machine
        arguments += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", shared]
    python = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent.parent}
    for path in [*sorted(python), *(p for p in readable if p.exists())]:
        arguments += [*_open_parents(path), "--ro-bind", str(path), str(path)]
    arguments += [*_open_parents(writable), "--bind", str(writable), str(writable), "--chdir", str(writable)]
    return arguments


def _open_parents(path: Path) -> list[str]:
    # bubblewrap makes the folders leading to a mount point private to root (like /root):
    # the student user must be able to pass through them.
    arguments = []
    for parent in reversed(path.parents[:-1]):
        if str(parent) not in _SYSTEM_DIRS:
            arguments += ["--perms", "0755", "--dir", str(parent)]
    return arguments


def _bwrap_works(*, as_root: bool) -> bool:
    if shutil.which("bwrap") is None:
        return False
    with tempfile.TemporaryDirectory(prefix="bwrap-probe-") as probe:
        command = _bwrap_arguments([], Path(probe), as_root=as_root) + ["true"]
        try:
            return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


def _remove_owned_by(folder: Path, uid: int) -> None:
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        try:
            if entry.lstat().st_uid != uid:
                continue
            if stat.S_ISDIR(entry.lstat().st_mode):
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink()
        except OSError:
            pass
