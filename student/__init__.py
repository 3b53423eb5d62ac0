"""What runs in the student's kernel: the MNIST loader (``student.mnist``) and the check
library (``student.checks``) that the notebook's tests call.

It ships beside the student notebook and in the bundle, where the sandboxed kernel and the
trusted checker each import their own copy. Checking answers and packaging a submission
are otter's ``grader.check`` and ``grader.export`` cells in the notebook.
"""

import os
import warnings

# TensorFlow's C++ code logs at import (CPU instruction notices, oneDNN) straight to the
# kernel's stderr, which Jupyter shows as a red block that looks like an error. It reads this
# variable once, when it is first imported; the notebook imports this package before Keras,
# so setting it here is early enough. Level 2 keeps TensorFlow's errors; a value the student
# set is kept.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# otter's export (grader.export with run_tests, otter.check.utils.grade_zip_file) re-runs the
# notebook in a kernel of its own and shows that process's whole stderr as a red
# RuntimeWarning. ipykernel logs "Kernel is running over TCP without encryption" there at every
# start: a notice about a kernel on the student's own machine that they can do nothing about.
# Only a stderr that holds nothing else is silenced; any other output still shows.
warnings.filterwarnings(
    "ignore", message=r"\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption\.[^\n]*\s*\Z",
    category=RuntimeWarning,
)
