"""What a student runs: the MNIST loader their notebook imports (``student.mnist``).

Checking answers and packaging a submission are otter's ``grader.check`` and
``grader.export`` cells in the notebook; the checks they run live in ``autograder.checks``.
"""
