"""What runs in the student's kernel, in every assignment: the check library
(``student.checks``) that the notebook's tests call, the notebook's ``grader``
(``student.notebook``: otter's, with honest check wording) and its export cell
(``student.export``, with the stale-save guard ``student.session`` and the pre-submit run
``student.presubmit``).

It ships beside the student notebook and in the bundle, where the sandboxed kernel and the
trusted checker each import their own copy.
"""

import os

# TensorFlow's C++ code logs at import (CPU instruction notices, oneDNN) straight to the
# kernel's stderr, which Jupyter shows as a red block that looks like an error. It reads this
# variable once, when it is first imported; the notebook imports this package before Keras,
# so setting it here is early enough. Level 2 keeps TensorFlow's errors; a value the student
# set is kept.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
