"""Answers cross from the student's kernel to the trusted side as data, never as code.

- ``export`` runs inside the student's kernel: it writes ``answers.json`` (data values,
  through ``codec``), Keras models as ``.keras`` files, and the student's functions into
  ``callables.dill``, which only a sandboxed student process (``serve``) ever opens;
- ``load`` runs on the trusted side: it reads ``answers.json`` and the models, strictly.
"""
