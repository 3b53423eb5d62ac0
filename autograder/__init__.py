"""Checks and helpers that the autograder's otter test cases call inside students' notebooks."""
