"""``instructor grade-all`` through the real pipeline, with the tiny fixture assignment: a folder
class and a Gradescope export, the gradebook, the summary, the chart, resuming, and bad input."""

import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner

from instructor.cli import main
from instructor.grade_all import Submission, _previous
from test_grading import answered, write

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def grade_all(*args: str):
    return CliRunner().invoke(main, ["grade-all", *map(str, args)], catch_exceptions=False)


def corrupt(archive: Path, marker: bytes) -> None:
    """Change one byte of a stored member's data (found by ``marker``) so its CRC no longer matches."""
    raw = bytearray(archive.read_bytes())
    position = raw.index(marker)
    raw[position] ^= 0x20
    archive.write_bytes(bytes(raw))


def marked(tiny_build, marker: str):
    return answered(tiny_build, f"# {marker}")


@pytest.fixture(scope="module")
def folder_class(tiny_build, tmp_path_factory) -> Path:
    """alice full marks, bob partial, carol blank, dave not a notebook, erin an unreadable zip
    member, frank an empty folder, gina a zip with two notebooks, and a file that is no submission."""
    folder = tmp_path_factory.mktemp("class")
    write(answered(tiny_build), folder / "alice.ipynb")
    write(answered(tiny_build, answer="41"), folder / "bob.ipynb")
    shutil.copyfile(tiny_build.student_notebook, folder / "carol.ipynb")
    (folder / "dave.ipynb").write_bytes(b"\x00\xff not a notebook")
    with zipfile.ZipFile(folder / "erin.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("tiny.ipynb", nbformat.writes(marked(tiny_build, "erin-marker")))
    corrupt(folder / "erin.zip", b"erin-marker")
    (folder / "frank").mkdir()
    with zipfile.ZipFile(folder / "gina.zip", "w") as archive:
        archive.writestr("tiny.ipynb", nbformat.writes(answered(tiny_build)))
        archive.writestr("backup/tiny.ipynb", nbformat.writes(answered(tiny_build)))
    (folder / "notes.txt").write_text("not a submission")
    return folder


METADATA = """\
submission_1002:
  :submitters:
  - :name: Ann Lee
    :sid: '1001'
    :email: ann@example.edu
  :created_at: 2026-11-03 10:00:00.000000000 -08:00
  :score: !ruby/object:BigDecimal 18:0.3E1
  :history: []
submission_1001:
  :submitters:
  - :name: Ann Lee
    :sid: '1001'
    :email: ann@example.edu
  :created_at: 2026-11-01 09:00:00.000000000 -08:00
  :score: !ruby/object:BigDecimal 18:0.2E1
submission_1003:
  :submitters:
  - :name: Ben Ode
    :sid: '1003'
    :email: ben@example.edu
  :created_at: 2026-11-02 12:00:00.000000000 -08:00
submission_1004:
  :submitters:
  - :name: Cy Park
    :sid: '1004'
    :email: cy@example.edu
  :created_at: 2026-11-02 13:00:00.000000000 -08:00
submission_1005:
  :submitters:
  - :name: Dee Ray
    :sid: '1005'
    :email: dee@example.edu
  :created_at: 2026-11-02 14:00:00.000000000 -08:00
submission_1006:
  :submitters:
  - :name: Eve Fox
    :sid: '1006'
    :email: eve@example.edu
  - :name: Gus Hill
    :sid: '1007'
    :email: gus@example.edu
  :created_at: 2026-11-02 15:00:00.000000000 -08:00
"""


@pytest.fixture(scope="module")
def export_zip(tiny_build, tmp_path_factory) -> Path:
    """Gradescope's export: Ann submitted twice (the later one, listed first, has full marks),
    Ben's folder has two notebooks, Cy's has no files, Dee's notebook cannot be read, and Eve and
    Gus submitted the blank notebook together, as the notebook's export zip."""
    root = "assignment_4242_export/"
    path = tmp_path_factory.mktemp("gradescope") / "assignment_4242_export.zip"
    student_zip = tmp_path_factory.mktemp("upload") / "tiny_2026_11_02T15_00_00.zip"
    with zipfile.ZipFile(student_zip, "w") as archive:
        archive.write(tiny_build.student_notebook, "tiny.ipynb")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(root + "submission_metadata.yml", METADATA)
        archive.writestr(root + "submission_1002/tiny.ipynb", nbformat.writes(answered(tiny_build)))
        archive.writestr(root + "submission_1001/tiny.ipynb", nbformat.writes(answered(tiny_build, answer="41")))
        archive.writestr(root + "submission_1003/tiny.ipynb", nbformat.writes(answered(tiny_build)))
        archive.writestr(root + "submission_1003/old/tiny-copy.ipynb", nbformat.writes(answered(tiny_build)))
        archive.writestr(root + "submission_1005/tiny.ipynb", nbformat.writes(marked(tiny_build, "dee-marker")))
        archive.write(student_zip, root + "submission_1006/" + student_zip.name)
        archive.writestr(f"__MACOSX/{root}._submission_metadata.yml", b"\0")
    corrupt(path, b"dee-marker")
    return path


@pytest.fixture(scope="module")
def folder_run(tiny_build, folder_class, tmp_path_factory):
    outdir = tmp_path_factory.mktemp("out") / "class"
    result = grade_all(folder_class, "--bundle", tiny_build.bundle, "-o", outdir)
    return result, outdir


@pytest.fixture(scope="module")
def export_run(tiny_build, export_zip, tmp_path_factory):
    outdir = tmp_path_factory.mktemp("out") / "gradescope"
    result = grade_all(export_zip, "--bundle", tiny_build.bundle, "-o", outdir)
    return result, outdir


def gradebook(outdir: Path) -> pd.DataFrame:
    return pd.read_csv(outdir / "gradebook.csv", dtype=str, keep_default_na=False).set_index("Name")


def test_a_folder_class_gets_a_gradebook_row_per_student(folder_run):
    result, outdir = folder_run
    assert result.exit_code == 0, result.output
    book = gradebook(outdir)
    assert list(book.reset_index().columns) == [
        "Name", "SID", "Email", "Submission", "Submitted At", "square", "answer", "Total Score", "Max Points",
        "Status", "Reason", "Earlier Submissions", "Results",
    ]
    assert list(book.index) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    points = book[["square", "answer", "Total Score", "Status"]].agg(" ".join, axis=1).to_dict()
    assert points == {
        "alice": "2 1 3 graded", "bob": "2 0 2 graded", "carol": "0 0 0 graded", "dave": "0 0 0 graded",
        "erin": "   failed", "frank": "   missing", "gina": "   failed",
    }
    assert "not valid JSON" in book.loc["dave", "Reason"]
    assert book.loc["erin", "Reason"].startswith("unreadable zip member: erin.zip/tiny.ipynb (Bad CRC-32")
    assert book.loc["frank", "Reason"] == "frank/ is empty"
    assert book.loc["gina", "Reason"].startswith("2 notebooks in gina.zip (backup/tiny.ipynb, tiny.ipynb): not graded")
    assert book.loc["alice", "Results"] == "results/alice/results.json"
    assert json.loads((outdir / "results/alice/results.json").read_text())["score"] == 3
    assert "graded 4, failed 2, missing 1 (7 students; 4 graded now, 0 already graded" in result.stdout
    assert "ignored (not a notebook or zip): notes.txt" in result.stdout
    assert "grading 4 submission(s)" in result.stderr


def test_the_summary_has_per_question_figures_and_the_common_failures(folder_run):
    _, outdir = folder_run
    summary = (outdir / "summary.md").read_text()
    assert "7 students: **4 graded, 2 failed, 1 missing**" in summary
    assert "| `square` | 2 | 1.00 | 50% | 50% |" in summary
    assert "| `answer` | 1 | 0.25 | 25% | 75% |" in summary
    assert "| **total** | 3 | 1.25 | 25% | 50% |" in summary
    messages = summary.split("## Most common failure messages")[1].split("##")[0].strip().splitlines()
    assert messages[0] == "- **2 students** · `answer`: answer is not right"
    assert "- **1 student** · `square`: square(7) should be 49, got None" in messages
    assert any(m.startswith("- **1 student** · whole notebook: dave.ipynb is not a Jupyter notebook") for m in messages)
    assert not any("see the message above" in m for m in messages)
    assert "| erin | erin.zip | failed | unreadable zip member" in summary


def test_the_chart_is_a_png(folder_run):
    _, outdir = folder_run
    assert (outdir / "grades.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_second_run_grades_nothing_and_a_changed_submission_only_it(tiny_build, folder_class, folder_run):
    _, outdir = folder_run
    results = sorted(outdir.glob("results/*/results.json"))
    assert [p.parent.name for p in results] == ["alice", "bob", "carol", "dave"]
    stamps = {p: p.stat().st_mtime_ns for p in results}
    again = grade_all(folder_class, "--bundle", tiny_build.bundle, "-o", outdir)
    assert again.exit_code == 0, again.output
    assert "(7 students; 0 graded now, 4 already graded with this bundle" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in results} == stamps

    write(answered(tiny_build), folder_class / "bob.ipynb")  # bob resubmits, fixed
    changed = grade_all(folder_class, "--bundle", tiny_build.bundle, "-o", outdir)
    assert "(7 students; 1 graded now, 3 already graded" in changed.stdout
    assert gradebook(outdir).loc["bob", "Total Score"] == "3"
    assert {p: p.stat().st_mtime_ns for p in results if p.parent.name != "bob"} == {
        p: s for p, s in stamps.items() if p.parent.name != "bob"}


def test_a_grading_with_another_bundle_is_not_reused(folder_class, folder_run):
    _, outdir = folder_run
    record = json.loads((outdir / "results/alice/grading.json").read_text())
    alice = Submission("alice", "alice.ipynb", folder_class / "alice.ipynb")
    assert _previous(outdir, alice, record["bundle_sha256"]) is not None
    assert _previous(outdir, alice, "0" * 64) is None


def test_a_gradescope_export_grades_each_students_latest_submission(export_run):
    result, outdir = export_run
    assert result.exit_code == 0, result.output
    book = gradebook(outdir)
    assert list(book.index) == ["Ann Lee", "Ben Ode", "Cy Park", "Dee Ray", "Eve Fox", "Gus Hill"]
    ann = book.loc["Ann Lee"]
    assert (ann["SID"], ann["Email"], ann["Submission"], ann["Earlier Submissions"]) == (
        "1001", "ann@example.edu", "submission_1002", "submission_1001")
    assert ann["Submitted At"].startswith("2026-11-03T10:00:00")
    assert (ann["Total Score"], ann["Status"]) == ("3", "graded")
    assert not (outdir / "results" / "submission_1001").exists()
    assert book.loc["Ben Ode", "Status"] == "failed"
    assert book.loc["Ben Ode", "Reason"].startswith("2 notebooks (old/tiny-copy.ipynb, tiny.ipynb): not graded")
    assert (book.loc["Cy Park", "Status"], book.loc["Cy Park", "Reason"]) == (
        "missing", "no files for submission_1004 in the export")
    assert book.loc["Dee Ray", "Status"] == "failed"
    assert book.loc["Dee Ray", "Reason"].startswith("unreadable in the export: submission_1005/tiny.ipynb (Bad CRC-32")
    for member in ("Eve Fox", "Gus Hill"):  # a group submission, graded once
        assert (book.loc[member, "Submission"], book.loc[member, "Total Score"]) == ("submission_1006", "0")
    assert "graded 3, failed 2, missing 1 (6 students; 2 graded now, 0 already graded" in result.stdout
    for line in ("failed: Ben Ode (submission_1003): 2 notebooks", "missing: Cy Park (submission_1004)",
                 "failed: Dee Ray (submission_1005): unreadable in the export"):
        assert line in result.stdout


def test_force_regrades(tiny_build, export_zip, export_run):
    _, outdir = export_run
    results = outdir / "results" / "submission_1002" / "results.json"
    before = results.stat().st_mtime_ns
    forced = grade_all(export_zip, "--bundle", tiny_build.bundle, "-o", outdir, "--force", "--jobs", "2")
    assert forced.exit_code == 0, forced.output
    assert "(6 students; 2 graded now, 0 already graded" in forced.stdout
    assert results.stat().st_mtime_ns > before


@pytest.mark.parametrize("case, message", [
    ("missing", "not found: give a folder of notebooks or zips, or Gradescope's export zip"),
    ("notebook", "is a single file: give a folder of notebooks or zips"),
    ("plain-zip", "has no submission_metadata.yml: give Gradescope's export zip as downloaded"),
    ("empty", "no submissions in"),
    ("bad-bundle", "is not an autograder zip; build one with: instructor build"),
])
def test_bad_input_is_one_line_without_a_traceback(tiny_build, tmp_path, case, message):
    bundle = tiny_build.bundle
    submissions = tmp_path / "class"
    if case == "notebook":
        submissions = write(answered(tiny_build), tmp_path / "alice.ipynb")
    elif case == "plain-zip":
        submissions = tmp_path / "alice.zip"
        with zipfile.ZipFile(submissions, "w") as archive:
            archive.writestr("tiny.ipynb", nbformat.writes(answered(tiny_build)))
    elif case == "empty":
        submissions.mkdir()
    elif case == "bad-bundle":
        submissions.mkdir()
        bundle = tmp_path / "bundle.zip"
        bundle.write_text("not a zip")
    result = CliRunner().invoke(main, ["grade-all", str(submissions), "--bundle", str(bundle), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith("Error: ") and message in result.output
    assert "Traceback" not in result.output
