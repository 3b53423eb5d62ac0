"""The grading harness: ships only in the Gradescope bundle, never to students."""
