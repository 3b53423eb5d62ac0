"""Answers that are code: the trusted side calls the student's functions through proxies.

A function cannot cross as data. The checker holds a ``StudentFunction`` for each; calling
it sends the arguments, as data, to a call server that runs as the student, in the same
sandbox as the notebook (``harness.answers.serve``), and returns the result decoded under
the same strict types. Every comparison and verdict stays on the trusted side; a result
that is not data, a crash or a call past its time limit raises an error with a message
for the student.
"""

import json
import selectors
import sys
import time

from .answers.codec import BadData, NotData, decode, encode

CALL_TIMEOUT = 10.0
CALLS_BUDGET = 120.0
"""All calls of one grading together: the checker must finish well within its own limit."""
MAX_GENERATOR_ITEMS = 10_000
MAX_REPLY_BYTES = 64 << 20


class StudentCodeError(Exception):
    """The student's function failed, ran too long, or returned something that is not data."""


class CallServer:
    """One sandboxed student process that runs the student's functions on request.

    ``start`` is a callable returning a ``subprocess.Popen`` with pipes (the sandbox's),
    ``stop`` ends it; the server is restarted after a call that timed out or crashed it.
    """

    def __init__(self, start, stop, timeout: float = CALL_TIMEOUT, budget: float = CALLS_BUDGET):
        self._start, self._stop, self._timeout = start, stop, timeout
        self._deadline = time.monotonic() + budget
        self._budget = budget
        self._process = None

    def call(self, name: str, args: tuple, kwargs: dict):
        request = {
            "name": name,
            "args": encode(list(args), name="an argument"),
            "kwargs": encode(dict(kwargs), name="an argument"),
            "max_items": MAX_GENERATOR_ITEMS,
        }
        reply = self._exchange(json.dumps(request) + "\n", name)
        return _result(name, reply)

    def close(self) -> None:
        if self._process is not None:
            self._stop(self._process)
            self._process = None

    def _exchange(self, line: str, name: str) -> dict:
        timeout = min(self._timeout, self._deadline - time.monotonic())
        if timeout <= 0:
            raise StudentCodeError(
                f"`{name}` was not run: your functions used up the {self._budget:g} s the autograder gives them in all"
            )
        if self._process is None or self._process.poll() is not None:
            self._process = self._start()
        try:
            self._process.stdin.write(line.encode())
            self._process.stdin.flush()
            raw = _read_line(self._process.stdout, timeout)
        except (BrokenPipeError, TimeoutError) as error:
            self.close()
            if isinstance(error, TimeoutError):
                raise StudentCodeError(f"`{name}` did not return within {max(timeout, 1):.0f} s") from None
            raise StudentCodeError(f"`{name}` stopped the process running it") from None
        if raw is None:
            self.close()
            raise StudentCodeError(f"`{name}` stopped the process running it")
        try:
            reply = json.loads(raw)
        except ValueError:
            self.close()
            raise StudentCodeError(f"`{name}` gave a reply the autograder cannot read") from None
        if not isinstance(reply, dict) or len(reply) < 1:
            raise StudentCodeError(f"`{name}` gave a reply the autograder cannot read")
        return reply


class StudentFunction:
    """Stands for the student's function ``name`` in the tests' namespace.

    Example:
    >>> StudentFunction("square", server=None)
    <student function square>
    """

    def __init__(self, name: str, server: CallServer):
        self.__name__ = name
        self._server = server

    def __call__(self, *args, **kwargs):
        return self._server.call(self.__name__, args, kwargs)

    def __repr__(self):
        return f"<student function {self.__name__}>"


def _result(name: str, reply: dict):
    try:
        if "value" in reply:
            return decode(reply["value"])
        if "generator" in reply:
            return iter(decode(reply["generator"]))
    except (BadData, NotData, TypeError, ValueError):
        raise StudentCodeError(f"`{name}` returned a value the autograder cannot read") from None
    if isinstance(reply.get("error"), str):
        raise StudentCodeError(f"`{name}` raised {reply['error'][:500]}")
    if isinstance(reply.get("not_data"), str):
        raise StudentCodeError(f"`{name}` returned something that is not data: {reply['not_data'][:500]}")
    raise StudentCodeError(f"`{name}` gave a reply the autograder cannot read")


def _read_line(stream, timeout: float) -> bytes | None:
    """One line from ``stream`` within ``timeout`` s and ``MAX_REPLY_BYTES``; None at its end."""
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    chunks, size = [], 0
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise TimeoutError
            chunk = stream.read(65536)  # an unbuffered pipe: whatever has arrived
            if not chunk:
                return None
            chunks.append(chunk)
            size += len(chunk)
            if b"\n" in chunk:
                return b"".join(chunks).split(b"\n", 1)[0]
            if size > MAX_REPLY_BYTES:
                raise TimeoutError
    finally:
        selector.close()


def start_command(answers_folder: str) -> list[str]:
    """The call server's command line (run as the student, in the sandbox)."""
    # -P: the student's folder (its working directory) must not come first on the path.
    return [sys.executable, "-P", "-m", "harness.answers.serve", answers_folder]

