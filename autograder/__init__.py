"""What runs where grading happens, shipped in the Gradescope bundle (and beside the student
notebook, whose public tests call ``checks``): the checks, and the grading entry point."""
