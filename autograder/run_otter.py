"""Gradescope's ``run_autograder`` runs this file; the build puts it at the bundle's root.

It replaces otter's generated ``run_otter.py`` (which calls otter's ``run_autograder``
directly) with ``autograder.gradescope``, which wraps otter's grading with submission
checks, time limits and a complete results.json. The folder is found from this file's own
place, so the same bundle grades in ``/autograder`` and in a local copy.
"""

import sys
from pathlib import Path

AUTOGRADER_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(AUTOGRADER_DIR / "source" / "files"))

from autograder.gradescope import main  # noqa: E402

if __name__ == "__main__":
    main(AUTOGRADER_DIR)
