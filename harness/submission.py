"""Find, check and isolate the one notebook a student submitted.

Gradescope hands the autograder whatever the student uploaded: a notebook, the zip that
the notebook's export cell makes, or anything else. Each problem becomes a
:class:`SubmissionError` whose message tells the student what to upload instead.
"""

import json
import shutil
import zipfile
import zlib
from pathlib import Path

import nbformat

from .limits import GradingLimits

_WHAT_TO_UPLOAD = "Upload your .ipynb file, or the .zip that the last cell of the notebook (grader.export) creates."


class SubmissionError(Exception):
    """The submission cannot be graded; the message is written for the student."""


def isolate_notebook(submission_dir: Path, limits: GradingLimits) -> Path:
    """Leave ``submission_dir`` holding only the student's notebook, outputs cleared.

    Everything else the student uploaded is removed: otter copies the bundle's support
    files (checks, data loader, MNIST) into this folder only where a file of that name
    is missing, so a submission must not be able to bring its own.

    Example:
    >>> isolate_notebook(Path("/autograder/submission"), GradingLimits())  # doctest: +SKIP
    PosixPath('/autograder/submission/neural-networks.ipynb')
    """
    name, raw = _find_notebook(submission_dir, limits)
    notebook = _parse_notebook(name, raw)
    for entry in list(submission_dir.iterdir()):
        _remove(entry)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    destination = submission_dir / Path(name).name
    nbformat.write(notebook, destination)
    return destination


def _find_notebook(submission_dir: Path, limits: GradingLimits) -> tuple[str, bytes]:
    files = [
        p for p in submission_dir.rglob("*")
        if p.is_file() and not {".ipynb_checkpoints", "__MACOSX"} & set(p.relative_to(submission_dir).parts)
    ]
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    zips = [p for p in files if p.suffix == ".zip"]
    if len(notebooks) > 1:
        names = ", ".join(sorted(str(p.relative_to(submission_dir)) for p in notebooks))
        raise SubmissionError(f"Your submission has {len(notebooks)} notebooks ({names}); upload exactly one.")
    if notebooks:
        return notebooks[0].name, _read_capped(notebooks[0], limits)
    if len(zips) == 1:
        return _notebook_from_zip(zips[0], limits)
    if len(zips) > 1:
        names = ", ".join(sorted(p.name for p in zips))
        raise SubmissionError(f"Your submission has {len(zips)} zip files ({names}) and no notebook. {_WHAT_TO_UPLOAD}")
    found = ", ".join(sorted(p.name for p in files)) or "nothing"
    raise SubmissionError(f"No notebook found in your submission (it contains {found}). {_WHAT_TO_UPLOAD}")


def _read_capped(path: Path, limits: GradingLimits) -> bytes:
    size = path.stat().st_size
    _check_size(path.name, size, limits)
    return path.read_bytes()


def _check_size(name: str, size: int, limits: GradingLimits) -> None:
    if size > limits.max_notebook_bytes:
        raise SubmissionError(
            f"{name} is {size / 1e6:.0f} MB; the autograder accepts notebooks up to "
            f"{limits.max_notebook_bytes / 1e6:.0f} MB. Large outputs (images, long printouts) "
            "make it big: in Jupyter choose Kernel > Restart Kernel and Clear Outputs of All Cells, "
            "save, and upload again."
        )


def _notebook_from_zip(path: Path, limits: GradingLimits) -> tuple[str, bytes]:
    if not zipfile.is_zipfile(path):
        raise SubmissionError(f"{path.name} is not a valid zip file. {_WHAT_TO_UPLOAD}")
    with zipfile.ZipFile(path) as archive:
        members = [
            info
            for info in archive.infolist()
            if info.filename.endswith(".ipynb")
            and not info.is_dir()
            and ".ipynb_checkpoints" not in info.filename
            and not info.filename.startswith("__MACOSX/")
        ]
        if not members:
            raise SubmissionError(f"{path.name} contains no notebook (.ipynb). {_WHAT_TO_UPLOAD}")
        if len(members) > 1:
            names = ", ".join(sorted(m.filename for m in members))
            raise SubmissionError(f"{path.name} contains {len(members)} notebooks ({names}); it must contain exactly one.")
        member = members[0]
        # The size in the zip's directory can lie; read one byte past the cap to catch that.
        _check_size(member.filename, member.file_size, limits)
        try:
            with archive.open(member) as stream:
                raw = stream.read(limits.max_notebook_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
            raise SubmissionError(
                f"{member.filename} in {path.name} cannot be read ({error}): the zip is damaged or encrypted. "
                f"Make the zip again with the notebook's last cell, or upload the .ipynb itself."
            ) from None
        _check_size(member.filename, len(raw), limits)
        return Path(member.filename).name, raw


def _parse_notebook(name: str, raw: bytes) -> nbformat.NotebookNode:
    if not raw.strip():
        raise SubmissionError(f"{name} is empty (0 bytes of notebook). Save the notebook in Jupyter, then upload it again.")
    try:
        content = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SubmissionError(
            f"{name} is not a Jupyter notebook: it is not valid JSON ({error}). It may have been "
            "edited as text or saved incompletely; download it again from Jupyter (File > Download) and upload that."
        ) from error
    if not isinstance(content, dict) or "cells" not in content or "nbformat" not in content:
        raise SubmissionError(
            f"{name} is JSON but not a Jupyter notebook (no 'cells' or 'nbformat'). Upload the .ipynb you worked in."
        )
    try:
        notebook = nbformat.from_dict(content)
        notebook = nbformat.convert(notebook, 4)
        nbformat.validate(notebook)
    except Exception as error:
        raise SubmissionError(f"{name} is not a valid Jupyter notebook ({str(error).splitlines()[0]}). Upload the .ipynb you worked in.") from error
    return notebook


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
