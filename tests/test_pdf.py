"""Hand-graded questions: the export's PDF (printed by Chromium), the student notebook's notes,
and their entries in results.json, with the small fixture assignment ``tests/fixtures/manual``."""

import shutil
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest

from instructor.grade import grade_submission
from student.export import export_submission, pdf_name

from conftest import REPO

ANSWER = "A parabola, opening upwards."


@pytest.fixture(scope="module")
def manual_build(tmp_path_factory, mnist_npz):
    from instructor.build import build_assignment

    return build_assignment(REPO / "tests" / "fixtures" / "manual", tmp_path_factory.mktemp("dist"))


def student_copy(build, folder: Path) -> Path:
    """The student folder as handed out, in ``folder``, with both questions answered."""
    shutil.copytree(build.student_notebook.parent, folder)
    path = folder / build.student_notebook.name
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.source == "answer = ...":
            cell.source = "answer = 42"
        elif "otter_answer_cell" in cell.metadata.get("tags", []) and cell.cell_type == "markdown":
            cell.source = ANSWER
    nbformat.write(notebook, path)
    return path


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def pdf_image_count(pdf: Path) -> int:
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    return len(listing.splitlines()) - 2  # a two-line header, then one line per image


def test_build_counts_points_and_tells_students_how_manual_questions_are_graded(manual_build):
    assert manual_build.auto_points == 1
    assert manual_build.manual_points == {"shape": 2}
    cells = nbformat.read(manual_build.student_notebook, as_version=4).cells
    prompt = next(c for c in cells if "Question: shape" in c.source)
    assert "Graded by hand (2 points)" in prompt.source and "PDF" in prompt.source
    export = next(c for c in cells if "export_submission" in c.source)
    assert 'export_submission(grader, "manual.ipynb")' in export.source
    with zipfile.ZipFile(manual_build.bundle) as bundle:
        assert bundle.read("manual_questions.json").decode().split() == ["{", '"shape":', "2", "}"]


def test_the_export_cell_zips_a_pdf_of_the_manual_question_with_its_plot(manual_build, tmp_path):
    from nbclient import NotebookClient

    notebook_path = student_copy(manual_build, tmp_path / "student")
    notebook = nbformat.read(notebook_path, as_version=4)
    # As a student does: run every cell, save, then run the export cell.
    export_index = next(i for i, c in enumerate(notebook.cells) if "export_submission" in c.source)
    export_cell = notebook.cells.pop(export_index)
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
    nbformat.write(notebook, notebook_path)
    notebook.cells.append(export_cell)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(notebook_path.parent)}}).execute()

    shown = " ".join(str(output.get("data", output.get("text", ""))) for output in notebook.cells[-1].outputs)
    assert "manual-graded-by-hand.pdf" in shown and "no PDF" not in shown
    (archive,) = notebook_path.parent.glob("manual_*.zip")
    with zipfile.ZipFile(archive) as zipped:
        assert {"manual.ipynb", "manual-graded-by-hand.pdf"} <= set(zipped.namelist())
        pdf = tmp_path / "from-zip.pdf"
        pdf.write_bytes(zipped.read("manual-graded-by-hand.pdf"))
    text = " ".join(pdf_text(pdf).split())
    assert "Question: shape" in text
    assert ANSWER in text
    assert "This plot is what the next question is about." in text
    assert "Not part of any question" not in text  # otter's filtering keeps the marked cells only
    assert "Assign the answer to everything" not in text
    assert pdf_image_count(pdf) >= 1  # the plot


def test_without_chromium_the_zip_is_still_written_and_says_how_to_add_the_pdf(
    manual_build, tmp_path, monkeypatch, capsys
):
    import otter

    notebook_path = student_copy(manual_build, tmp_path / "student")
    no_browsers = tmp_path / "no-browsers"
    no_browsers.mkdir()
    monkeypatch.chdir(notebook_path.parent)
    monkeypatch.setenv("PATH", str(no_browsers))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(no_browsers))

    grader = otter.Notebook(notebook_path.name)
    assert export_submission(grader, notebook_path.name, export_path="submission.zip") is None

    printed = [line for line in capsys.readouterr().out.splitlines() if "PDF" in line]
    assert printed == [
        "Your zip has no PDF of your hand-graded answers: no Chromium found (neither Playwright's nor one of "
        "chromium, chromium-browser, google-chrome, google-chrome-stable); to add it, install Chromium "
        "(`python -m playwright install chromium`, or your system's `chromium` package) and run this cell again."
    ]
    with zipfile.ZipFile(notebook_path.parent / "submission.zip") as zipped:
        assert "manual.ipynb" in zipped.namelist()
    assert not pdf_name(notebook_path.name).exists()


def test_results_list_the_manual_question_as_graded_by_hand(manual_build, tmp_path, results_validator):
    notebook_path = student_copy(manual_build, tmp_path / "student")
    results = grade_submission(manual_build.bundle, notebook_path, tmp_path / "results.json")
    results_validator(results)
    assert results["score"] == 1  # the autograder's points only
    answer, shape = results["tests"]
    assert (answer["name"], answer["score"], answer["max_score"]) == ("answer", 1, 1)
    assert shape == {**shape, "name": "shape: 2 points, graded by hand", "number": "2", "tags": ["graded by hand"]}
    assert not {"score", "max_score", "status"} & set(shape)  # Gradescope would show 0/2 as a failed test
    assert "come when your instructor publishes grades" in shape["output"]
    assert "Graded by hand, not in this score: `shape` (2 points)." in results["output"]


def test_neural_networks_pdf_holds_the_patterns_question_and_the_activation_plots(nn_dist):
    from otter.export.exporters.via_html import PDFViaHTMLExporter

    student = nn_dist / "neural-networks" / "student" / "neural-networks.ipynb"
    kept = PDFViaHTMLExporter.load_notebook(str(student), filtering=True, pagebreaks=True).cells
    sources = "\n".join(cell.source for cell in kept)
    assert "### Question: patterns" in sources and "Graded by hand (2 points)" in sources
    assert "_Type your answer here, replacing this text._" in sources
    plots = [c for c in kept if c.cell_type == "code"]
    assert len(plots) == 3 and all("plt.imshow" in c.source or "grid" in c.source for c in plots)
    assert "mlp_keras" not in sources  # auto-graded questions stay out of the PDF
