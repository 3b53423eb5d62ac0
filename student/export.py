"""The submission export: otter's zip, plus a PDF of the hand-graded questions, printed by Chromium.

Fixes two otter 7.0 behaviours of ``grader.export``: its PDF goes through LaTeX (pandoc and
xelatex, which few students have), and when no PDF can be made it stops with a traceback.
Here the PDF takes otter's other route, its filtered notebook (the cells between
``<!-- BEGIN QUESTION -->`` and ``<!-- END QUESTION -->``, which ``instructor build`` places
around each hand-graded question and the outputs it refers to) rendered with otter's HTML
template and printed by Chromium through Playwright. Without Chromium the zip is still
written and the student is told in one sentence how to add the PDF.

The PDF is for the people who grade; the autograder never reads it.

Before any of that, two guards otter does not have: the export refuses a saved file that is
not what the kernel ran (``student.session``), and it runs the saved file the grader's way and
lists what would fail there (``student.presubmit``). That run replaces otter's
``run_tests``, which re-ran every cell, demonstrations included, and printed "All test
cases passed!" for public tests that only check an answer's form.
"""

import concurrent.futures
import html
import os
import shutil
import tempfile
from pathlib import Path

PDF_HELP = (
    "to add it, install Chromium (`python -m playwright install chromium`, or your system's "
    "`chromium` package) and run this cell again"
)
# Debian and Ubuntu name the browser chromium; Google's build and macOS's are found by Playwright.
SYSTEM_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class NoPDFEngine(Exception):
    """No Chromium to print the PDF with; the message says which were looked for."""


def export_submission(grader, notebook: str, *, pdf: bool = True, files=(), **otter_options) -> Path | None:
    """Write the submission zip with otter's ``grader.export``, with the manual questions' PDF in it.

    Returns the PDF's path, or None when there is none (the reason is printed, the zip written).
    """
    if getattr(type(grader), "_grading_mode", False):
        return None  # otter's grader.export does nothing while the autograder runs the notebook; nor does this
    import nbformat

    from .session import stale_reason

    saved = nbformat.read(notebook, as_version=4)
    reason = stale_reason(saved)
    if reason:
        _show(Refusal(reason))
        return None
    if otter_options.pop("run_tests", True):
        _show(PresubmitReport(_presubmit_problems(Path(notebook), saved)))
    pdf_path = None
    if pdf:
        try:
            pdf_path = manual_questions_pdf(Path(notebook), pdf_name(notebook))
        except NoPDFEngine as error:
            print(f"Your zip has no PDF of your hand-graded answers: {error}; {PDF_HELP}.")
        except Exception as error:  # noqa: BLE001 - the zip must still be written
            print(f"Your zip has no PDF of your hand-graded answers ({type(error).__name__}: {error}); {PDF_HELP}.")
    extra = [*files, *([str(pdf_path)] if pdf_path else [])]
    grader.export(notebook, pdf=False, files=extra, run_tests=False, **otter_options)
    if pdf_path:
        _show_link(pdf_path)
    return pdf_path


def pdf_name(notebook: str) -> Path:
    """Where the PDF of ``notebook``'s hand-graded questions goes: beside it, so the zip keeps it.

    Example:
    >>> pdf_name("neural-networks.ipynb")
    PosixPath('neural-networks-graded-by-hand.pdf')
    """
    path = Path(notebook)
    return path.with_name(f"{path.stem}-graded-by-hand.pdf")


def manual_questions_pdf(notebook: Path, destination: Path) -> Path:
    """Print ``notebook``'s hand-graded regions (otter's filtering, one page break per region) to a PDF."""
    import nbconvert
    from otter.export.exporters.base_exporter import TEMPLATE_DIR
    from otter.export.exporters.via_html import PDFViaHTMLExporter

    filtered = PDFViaHTMLExporter.load_notebook(str(notebook), filtering=True, pagebreaks=True)
    # otter's own exporters replace nbconvert's class trait ``extra_template_basedirs`` with a
    # plain list (otter/export/exporters/via_html.py), after which passing it to a constructor
    # fails; set on the instance, before the template is chosen, it works either way.
    exporter = nbconvert.HTMLExporter()
    exporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    exporter.template_name = "via_html"
    page, _ = exporter.from_notebook_node(filtered)
    destination.write_bytes(html_to_pdf(page))
    return destination


def html_to_pdf(page: str) -> bytes:
    """``page`` printed to PDF by Chromium, in a thread of its own.

    Playwright's synchronous API refuses to run where an event loop is running, as in a
    Jupyter kernel; a fresh thread has none.
    """
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        source = Path(folder) / "manual.html"
        source.write_text(page, encoding="utf-8")
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(_print_with_chromium, source).result()


def system_browser(names=SYSTEM_BROWSERS, which=shutil.which) -> str | None:
    """The first of ``names`` on the PATH.

    Example:
    >>> system_browser(["nope", "chromium"], which={"chromium": "/usr/bin/chromium"}.get)
    '/usr/bin/chromium'
    >>> system_browser(["nope"], which=lambda name: None) is None
    True
    """
    return next((found for found in map(which, names) if found), None)


def _print_with_chromium(source: Path) -> bytes:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise NoPDFEngine("Playwright is not installed (pip install -r requirements.txt)") from error
    with sync_playwright() as playwright:
        # Playwright's own Chromium (the documented install) first, then the system's.
        browser_path = playwright.chromium.executable_path
        if not os.path.isfile(browser_path):
            browser_path = system_browser()
        if browser_path is None:
            raise NoPDFEngine(f"no Chromium found (neither Playwright's nor one of {', '.join(SYSTEM_BROWSERS)})")
        browser = playwright.chromium.launch(executable_path=browser_path)
        try:
            page = browser.new_page()
            page.goto(source.as_uri(), wait_until="load")
            return page.pdf(print_background=True, format="Letter")
        finally:
            browser.close()


def _show_link(pdf_path: Path) -> None:
    from IPython.display import HTML, display

    name = html.escape(str(pdf_path))
    display(HTML(
        f'<p>The PDF of your hand-graded answers, as the graders will see it (it is in the zip too): '
        f'<a href="{name}" target="_blank">{name}</a></p>'
    ))


class Refusal:
    """The export's refusal of a stale save: one large, plain message, in HTML and as text."""

    def __init__(self, reason: str):
        self.text = (
            f"Not exported: your saved notebook is not what you ran ({reason}). "
            "Save it (Ctrl+S, or Cmd+S on a Mac), then run this cell again."
        )

    def __repr__(self):
        return self.text

    def _repr_html_(self):
        return (
            '<div class="export-refused" style="font-size: 1.5em; padding: 0.8em; border: 3px solid #c62828; '
            f'border-radius: 6px;">{html.escape(self.text)}</div>'
        )


class PresubmitReport:
    """What running the saved notebook the grader's way found, before the zip is made."""

    def __init__(self, problems: list[str]):
        self.problems = problems

    def __repr__(self):
        if not self.problems:
            return "Your saved notebook runs the way the grader runs it, with no errors in graded cells."
        return "\n".join(["Before you upload: run the way the grader runs it, your saved notebook has problems:",
                          *(f"- {problem}" for problem in self.problems)])

    def _repr_html_(self):
        if not self.problems:
            return f"<p>{html.escape(repr(self))}</p>"
        items = "".join(f"<li>{html.escape(problem)}</li>" for problem in self.problems)
        return (
            '<div class="presubmit-problems" style="padding: 0.6em; border: 2px solid #ef6c00; border-radius: 6px;">'
            "<p><strong>Before you upload:</strong> run the way the grader runs it (demonstration cells skipped, "
            f"top to bottom, in a fresh kernel), your saved notebook has problems:</p><ul>{items}</ul>"
            "<p>The zip below is made anyway; fix these, save, and run this cell again to replace it.</p></div>"
        )


def _presubmit_problems(notebook: Path, saved) -> list[str]:
    from IPython import get_ipython

    from .presubmit import answer_names, check_saved_notebook, problems, session_values, skipped_assignments

    shell = get_ipython()
    in_session = session_values(shell.user_ns if shell else {}, answer_names(saved))
    print("Running your saved notebook the way the grader will, to check it before you upload…", flush=True)
    return problems(check_saved_notebook(notebook, saved), in_session, skipped_assignments(saved))


def _show(report) -> None:
    from IPython.display import display

    display(report)
