"""``python -m harness.answers.serve FOLDER``: answer calls of the exported functions.

Runs as the student, in the sandbox (see :func:`harness.answers.export.serve_calls`). The
replies get private copies of stdin and stdout; the process's own stdin then reads nothing
and its stdout goes to stderr, so a function that prints or reads cannot corrupt a reply.
"""

import os
import sys
from pathlib import Path

from .export import serve_calls


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m harness.answers.serve FOLDER", file=sys.stderr)
        return 2
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    with open(os.devnull, "rb") as nothing:
        os.dup2(nothing.fileno(), 0)
    serve_calls(Path(argv[0]), requests, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
