"""The ``instructor`` command: build an assignment, grade submissions, validate the autograder."""

from pathlib import Path

import click

from .assignment import AssignmentSpecError, ExternalFileError
from .build import BuildError, build_assignment
from .grade import GradingError, grade_submission, score_table
from .grade_all import GradeAllError, grade_all as grade_class
from .fixtures import FixtureError
from .mutants import ReferenceNotFull, mutant_table, run_mutants
from .validate import built_assignment, make_fixtures, outcome_table, validate as validate_submissions

# Errors whose message already says what went wrong and what to do: every command shows them
# as click's one "Error: ..." line with exit status 1, never as a traceback. FileNotFoundError
# is a path given on the command line (or one the command needs) that is not there; the
# sandbox's refusal reaches here as GradingRefused (a GradingError) from the bundle's grader.
KNOWN_ERRORS = (BuildError, AssignmentSpecError, GradingError, GradeAllError, ExternalFileError, FileNotFoundError, FixtureError,
                ReferenceNotFull)


NO_SANDBOX = click.option(
    "--no-sandbox", is_flag=True,
    help="Run student code without bubblewrap, as this user, with the network on. Only for notebooks you trust.",
)


def _sandbox(no_sandbox: bool) -> str:
    if not no_sandbox:
        return "require"
    click.echo(
        "warning: --no-sandbox: each notebook runs as you, with your rights and the network: it can read and "
        "change your files, reach the network, and leave processes running.",
        err=True,
    )
    return "none"


class _Commands(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KNOWN_ERRORS as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Commands)
def main():
    """Build, grade and validate otter-format assignments (see README.md)."""


@main.command()
@click.argument("assignment_dir", type=click.Path(path_type=Path))
@click.option("--dist", "dist_root", type=click.Path(path_type=Path), default=Path("dist"), show_default=True,
              help="Folder for generated files.")
@click.option("--data", "data", multiple=True, metavar="NAME=PATH",
              help="Where an external file the assignment.yml declares is, e.g. mnist.npz=../data/mnist.npz "
                   "(default: the file's own finder, e.g. MNIST_NPZ or Keras's cache).")
@click.option("--no-self-test", is_flag=True, help="Skip otter's self-test of the solution.")
def build(assignment_dir, dist_root, data, no_self_test):
    """Build the student notebook and the Gradescope bundle from ASSIGNMENT_DIR's master notebook."""
    paths = {}
    for item in data:
        name, separator, path = item.partition("=")
        if not separator or not name or not path:
            raise click.BadParameter(f"{item!r} is not NAME=PATH", param_hint="--data")
        paths[name] = Path(path)
    result = build_assignment(assignment_dir, dist_root, paths, self_test=not no_self_test)
    click.echo(f"student notebook:   {result.student_notebook}")
    click.echo(f"Gradescope bundle:  {result.bundle}")
    click.echo(f"solution notebook:  {result.solution_notebook}")
    manual = sum((result.manual_points or {}).values())
    click.echo(
        f"points:             {result.auto_points:g} auto-graded + {manual:g} graded by hand = "
        f"{result.auto_points + manual:g}"
    )
    for question, points in (result.manual_points or {}).items():
        click.echo(f"graded by hand:     {question} ({points:g} points): grade it on Gradescope (README, 'Hand-graded questions')")
    for question, names in result.derived_answers.items():
        click.echo(
            f"{question}: the grader exports {', '.join(names) or 'nothing'} (read by its tests; "
            "name the answers with 'answers: [...]' in its BEGIN QUESTION cell to choose)"
        )


@main.command()
@click.argument("submission", type=click.Path(path_type=Path))
@click.option("--bundle", type=click.Path(path_type=Path), required=True,
              help="The autograder zip from 'instructor build'.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Also copy results.json here.")
@click.option("--cell-timeout", type=float, default=None, help="Seconds one cell may run (default: the bundle's).")
@click.option("--total-timeout", type=float, default=None, help="Seconds for the whole notebook (default: the bundle's).")
@NO_SANDBOX
def grade(submission, bundle, output, cell_timeout, total_timeout, no_sandbox):
    """Grade SUBMISSION (a notebook or the student's export zip) as Gradescope would.

    The student's code runs in a bubblewrap sandbox as an unprivileged user.
    """
    overrides = {k: v for k, v in {"cell_timeout": cell_timeout, "total_timeout": total_timeout}.items() if v is not None}
    try:
        results = grade_submission(bundle, submission, output, overrides, sandbox=_sandbox(no_sandbox))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{submission}:")
    click.echo(score_table(results))


@main.command()
@click.argument("assignment_dir", type=click.Path(path_type=Path))
@click.option("--dist", "dist_root", type=click.Path(path_type=Path), default=Path("dist"), show_default=True,
              help="Where 'instructor build' put the assignment.")
@click.option("--jobs", type=int, default=2, show_default=True, help="Submissions graded at once.")
@click.option("--write-fixtures", is_flag=True,
              help="Only make the fixture notebooks (in DIST/<name>/fixtures/) from the current build; grade nothing.")
@click.option("--mutants", is_flag=True,
              help="Instead of the fixtures, grade wrong variants of the solution; list those that keep full marks.")
@click.option("--fail-on-survivors", is_flag=True, help="With --mutants: exit with status 1 if a mutant keeps full marks.")
@NO_SANDBOX
def validate(assignment_dir, dist_root, jobs, write_fixtures, mutants, fail_on_survivors, no_sandbox):
    """Make the fixtures declared in ASSIGNMENT_DIR/submissions/expected.yml from the current build,
    grade them with the built bundle; fail on any unexpected score."""
    if write_fixtures:
        made = make_fixtures(assignment_dir, dist_root)
        click.echo(f"{len(made)} fixtures written to {next(iter(made.values()))[0].parent}" if made else "no fixtures declared")
        return
    if mutants:
        _validate_mutants(assignment_dir, dist_root, jobs, fail_on_survivors, _sandbox(no_sandbox))
        return
    outcomes = validate_submissions(assignment_dir, dist_root, jobs, sandbox=_sandbox(no_sandbox))
    click.echo(outcome_table(outcomes))
    mismatches = [o.submission for o in outcomes if not o.matches]
    if mismatches:
        raise click.ClickException(f"{len(mismatches)} submission(s) scored other than expected: {', '.join(mismatches)}")
    click.echo(f"all {len(outcomes)} submissions scored as expected")


def _validate_mutants(assignment_dir, dist_root, jobs, fail_on_survivors, sandbox):
    outcomes, unmutated = run_mutants(built_assignment(assignment_dir, dist_root), jobs, sandbox)
    click.echo(mutant_table(outcomes))
    if unmutated:
        click.echo(f"no mutants for: {', '.join(unmutated)} (only numbers, sets of constants and Sequential models are mutated)")
    survivors = [o.label for o in outcomes if not o.killed]
    summary = f"{len(outcomes) - len(survivors)} of {len(outcomes)} mutants lost points"
    if not survivors:
        click.echo(f"{summary}: every one was noticed")
    elif fail_on_survivors:
        raise click.ClickException(f"{summary}; {len(survivors)} kept full marks (tests too weak): {', '.join(survivors)}")
    else:
        click.echo(f"{summary}; {len(survivors)} kept full marks (tests too weak?): {', '.join(survivors)}")


SHOWN_PROBLEMS = 20


@main.command("grade-all")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--bundle", type=click.Path(path_type=Path), required=True,
              help="The autograder zip from 'instructor build'.")
@click.option("--output", "-o", "outdir", type=click.Path(path_type=Path), required=True,
              help="Folder for the results, gradebook.csv, summary.md and grades.png.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded at once (default: the cores, as far as memory allows about 1 GB each).")
@click.option("--force", is_flag=True, help="Regrade submissions already graded with this bundle.")
@NO_SANDBOX
def grade_all(submissions, bundle, outdir, jobs, force, no_sandbox):
    """Grade a whole class: SUBMISSIONS is a folder of notebooks or zips (one per student) or
    Gradescope's "Export Submissions" zip.

    Each submission is graded as 'instructor grade' does, several at once. A second run reuses
    what was graded with the same bundle. Writes OUTDIR/results/<submission>/results.json,
    gradebook.csv, summary.md and grades.png.
    """
    report = grade_class(submissions, bundle, outdir, jobs, force, sandbox=_sandbox(no_sandbox))
    problems = [row for row in report.rows if row.outcome.status != "graded"]
    for row in problems[:SHOWN_PROBLEMS]:
        click.echo(f"{row.outcome.status}: {row.student.name} ({row.submission.label}): {row.outcome.reason}")
    if len(problems) > SHOWN_PROBLEMS:
        click.echo(f"... and {len(problems) - SHOWN_PROBLEMS} more not graded: see summary.md")
    if report.ignored:
        click.echo(f"ignored (not a notebook or zip): {', '.join(report.ignored)}")
    click.echo(
        f"graded {report.count('graded')}, failed {report.count('failed')}, missing {report.count('missing')} "
        f"({len(report.rows)} students; {report.graded_now} graded now, {report.reused} already graded with this "
        f"bundle, {report.seconds:.0f} s)"
    )
    for name in ("gradebook.csv", "summary.md", "grades.png"):
        click.echo(f"{name + ':':<15}{outdir / name}")
