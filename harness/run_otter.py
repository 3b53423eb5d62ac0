"""Gradescope's ``run_autograder`` runs this file; the build puts it at the bundle's root.

It replaces otter's generated ``run_otter.py`` (which runs the tests inside the student's
kernel) with ``harness.supervisor``. The folder is found from this file's own place, so
the same bundle grades in ``/autograder`` and in a local copy.
"""

import sys
from pathlib import Path

AUTOGRADER_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(AUTOGRADER_DIR / "source" / "files"))

from harness.supervisor import main  # noqa: E402

if __name__ == "__main__":
    main(AUTOGRADER_DIR)
