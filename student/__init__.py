"""What runs in the student's kernel: the MNIST loader (``student.mnist``) and the check
library (``student.checks``) that the notebook's tests call.

It ships beside the student notebook and in the bundle, where the sandboxed kernel and the
trusted checker each import their own copy. Checking answers and packaging a submission
are otter's ``grader.check`` and ``grader.export`` cells in the notebook.
"""
