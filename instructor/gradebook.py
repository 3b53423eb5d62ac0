"""What ``instructor grade-all`` writes about a class: ``gradebook.csv``, ``summary.md``, ``grades.png``.

- ``gradebook.csv`` (pandas): one row per student: ``Name``, ``SID``, ``Email``, the submission
  and its time, each question's points, ``Total Score``, ``Max Points``, ``Status`` (graded,
  failed, missing), ``Reason`` (why failed or missing; for a graded one, the grader's notices,
  such as a cell stopped at the time limit), the earlier submissions not graded, and the
  results.json. Points are empty, not 0, where nothing was graded.
- ``summary.md``: per question the mean, the share of full marks and of zeros, then the most
  common failure messages with the number of students who got each.
- ``grades.png`` (matplotlib, Agg): a histogram of totals and, per question, the share of
  students with full, partial and no marks.
"""

import re
from collections import defaultdict
from pathlib import Path

from harness.results import question_scores, scored_tests

IDENTITY = ["Name", "SID", "Email", "Submission", "Submitted At"]
TRAILING = ["Total Score", "Max Points", "Status", "Reason", "Earlier Submissions", "Results"]
TOP_MESSAGES = 10

# A failed case or a note in a question's output (harness/results.py, _question_output).
_FAILED_CASE = re.compile(r"^- ❌ (?:public check|hidden test) \d+ \([^)]*\): (.+)$", re.MULTILINE)
_NOTE = re.compile(r"^- ⚠️ (.+)$", re.MULTILINE)
_NOTICE = re.compile(r"^\*\*(.+)\*\*$", re.MULTILINE)
# What every question says when the notebook never reached the tests (harness/checker.py): the
# notice above it says why, and is counted instead.
_NOT_GRADED = "not graded (see the message above)"
NOTEBOOK = "(notebook)"
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")


def write_all(report, outdir: Path) -> None:
    """``gradebook.csv``, ``summary.md`` and ``grades.png`` for ``report`` (a ``grade_all.ClassReport``)."""
    frame = gradebook_frame(report.rows)
    frame.to_csv(outdir / "gradebook.csv", index=False, float_format="%g")
    (outdir / "summary.md").write_text(summary_markdown(report), encoding="utf-8")
    plot(report.rows, outdir / "grades.png")


def questions(rows) -> list[tuple[str, float]]:
    """``(name, max points)`` of every question in the graded results, in notebook order."""
    found = {}
    for row in rows:
        for test in scored_tests(row.outcome.results or {}):
            found.setdefault(test["name"], test["max_score"])
    return list(found.items())


def gradebook_frame(rows):
    """The gradebook as a pandas DataFrame, one row per student, columns as the module says."""
    import pandas as pd

    names = [name for name, _ in questions(rows)]
    records = []
    for row in rows:
        results = row.outcome.results or {}
        points = question_scores(results)
        records.append({
            "Name": row.student.name,
            "SID": row.student.sid,
            "Email": row.student.email,
            "Submission": row.submission.label,
            "Submitted At": row.submission.submitted_at,
            **{name: points.get(name) for name in names},
            "Total Score": results.get("score") if results else None,
            "Max Points": sum(t["max_score"] for t in scored_tests(results)) if results else None,
            "Status": row.outcome.status,
            "Reason": row.outcome.reason,
            "Earlier Submissions": " ".join(row.earlier),
            "Results": row.results_file,
        })
    frame = pd.DataFrame.from_records(records, columns=IDENTITY + names + TRAILING)
    for column in names + ["Total Score", "Max Points"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def question_stats(rows, with_total: bool = True) -> list[dict]:
    """Per question and for the total: mean, share of full marks, share of zeros, over graded students.

    Example:
    >>> from types import SimpleNamespace as S
    >>> graded = lambda *scores: S(outcome=S(status="graded", results={"score": sum(scores), "tests": [
    ...     {"name": n, "score": s, "max_score": 2} for n, s in zip("ab", scores)]}))
    >>> [(s["name"], s["mean"], s["full"], s["zero"]) for s in question_stats([graded(2, 0), graded(1, 0)])]
    [('a', 1.5, 0.5, 0.0), ('b', 0.0, 0.0, 1.0), ('total', 1.5, 0.0, 0.0)]
    """
    graded = [row.outcome.results for row in rows if row.outcome.status == "graded" and row.outcome.results]
    stats = []
    for name, maximum in questions(rows):
        scores = [t["score"] for r in graded for t in scored_tests(r) if t["name"] == name]
        stats.append(_stats(name, maximum, scores))
    if graded and with_total:
        possible = sum(maximum for _, maximum in questions(rows))
        stats.append(_stats("total", possible, [r["score"] for r in graded]))
    return stats


def _stats(name, maximum, scores) -> dict:
    count = len(scores)
    return {
        "name": name, "max": maximum, "count": count,
        "mean": sum(scores) / count if count else None,
        "full": sum(abs(s - maximum) < 1e-9 for s in scores) / count if count else None,
        "zero": sum(s == 0 for s in scores) / count if count else None,
    }


def failure_messages(rows) -> list[tuple[int, str, str]]:
    """``(students, question, message)``, most students first: what the checks told the graded students.

    The grader's notices about the whole notebook (a cell stopped at its time limit, a file that is
    no notebook) count under the question ``(notebook)``.
    A message shared by several students counts once per student. Messages that differ only in
    numbers, each seen once (a student's own value), are merged, the numbers that differ shown as "…".

    Example:
    >>> from types import SimpleNamespace as S
    >>> def graded(message):
    ...     out = f"**q**: 0 / 1 points\\n\\n- ❌ hidden test 1 (1 pt): {message}"
    ...     return S(outcome=S(status="graded", results={"tests": [{"name": "q", "output": out}]}))
    >>> rows = [graded("expected 16, got 32"), graded("expected 16, got 32"), graded("expected 16, got 8"),
    ...         graded("expected 16, got 4"), graded("x is not defined")]
    >>> failure_messages(rows)
    [(2, 'q', 'expected 16, got 32'), (2, 'q', 'expected 16, got …'), (1, 'q', 'x is not defined')]
    """
    students: dict[tuple[str, str], set[int]] = defaultdict(set)
    order = {}
    for index, row in enumerate(rows):
        if row.outcome.status != "graded" or not row.outcome.results:
            continue
        for notice in notices(row.outcome.results):
            students[(NOTEBOOK, notice)].add(index)
        for test in row.outcome.results.get("tests", []):
            order.setdefault(test["name"], len(order))
            output = str(test.get("output", ""))
            for message in _FAILED_CASE.findall(output) + _NOTE.findall(output):
                if message.strip() != _NOT_GRADED:
                    students[(test["name"], message.strip())].add(index)
    # Merge the one-off variants of a message that differ only in numbers.
    templates: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (question, message), who in students.items():
        if len(who) == 1:
            templates[(question, _NUMBER.sub("\0", message))].append(message)
    for (question, template), variants in templates.items():
        if len(variants) < 2:
            continue
        who = set().union(*(students.pop((question, v)) for v in variants))
        students[(question, _merge(template, variants))] |= who
    ranked = sorted(students.items(), key=lambda item: (-len(item[1]), order.get(item[0][0], -1), item[0][1]))
    return [(len(who), question, message) for (question, message), who in ranked]


def notices(results: dict) -> list[str]:
    """The bold notices at the top of a results.json's output: why the notebook stopped, was refused...

    Example:
    >>> notices({"output": "**Cell 3 ran past the time limit.**\\n\\nPublic checks: ..."})
    ['Cell 3 ran past the time limit.']
    """
    return _NOTICE.findall(str(results.get("output", "")).split("Public checks", 1)[0])


def _merge(template: str, variants: list[str]) -> str:
    """``template`` with each number that all ``variants`` share, "…" where they differ."""
    columns = list(zip(*(_NUMBER.findall(v) for v in variants)))
    pieces = template.split("\0")
    merged = [pieces[0]]
    for values, piece in zip(columns, pieces[1:]):
        merged.append((values[0] if len(set(values)) == 1 else "…") + piece)
    return "".join(merged)


def summary_markdown(report) -> str:
    rows = report.rows
    graded, failed, missing = (report.count(s) for s in ("graded", "failed", "missing"))
    lines = [
        f"# Class summary: {report.bundle.name}",
        "",
        f"{len(rows)} students: **{graded} graded, {failed} failed, {missing} missing**. "
        f"Bundle sha256 `{report.bundle_sha256[:12]}`; {report.graded_now} graded in this run, "
        f"{report.reused} reused from an earlier run with the same bundle, {report.jobs} at a time.",
        "",
        "## Points per question",
        "",
    ]
    stats = question_stats(rows)
    if stats:
        lines += [f"Over the {graded} graded students.", "",
                  "| question | points | mean | full marks | zero |", "|---|---:|---:|---:|---:|"]
        for s in stats:
            name = "**total**" if s is stats[-1] and graded else f"`{s['name']}`"
            lines.append(f"| {name} | {s['max']:g} | {_number(s['mean'])} | {_share(s['full'])} | {_share(s['zero'])} |")
    else:
        lines.append("No submission was graded.")
    lines += ["", "## Most common failure messages", ""]
    messages = failure_messages(rows)
    if messages:
        for students, question, message in messages[:TOP_MESSAGES]:
            where = "whole notebook" if question == NOTEBOOK else f"`{question}`"
            lines.append(f"- **{students} student{'s' if students != 1 else ''}** · {where}: {message}")
        if len(messages) > TOP_MESSAGES:
            more = len(messages) - TOP_MESSAGES
            lines.append(f"- … and {more} less common message{'s' if more != 1 else ''} (each student's are in their results.json)")
    else:
        lines.append("None: every graded check passed." if graded else "None (nothing graded).")
    problems = [row for row in rows if row.outcome.status != "graded"]
    if problems:
        lines += ["", "## Not graded", "", "| student | submission | status | reason |", "|---|---|---|---|"]
        for row in problems:
            who = row.student.name + (f" ({row.student.sid})" if row.student.sid else "")
            lines.append(f"| {_cell(who)} | {_cell(row.submission.label)} | {row.outcome.status} | {_cell(row.outcome.reason)} |")
    notes = [row for row in rows if row.outcome.status == "graded" and row.outcome.reason]
    if notes:
        lines += ["", "## Graded with a notice", ""]
        lines += [f"- {_cell(row.student.name)} ({_cell(row.submission.label)}): {_cell(row.outcome.reason)}" for row in notes]
    if report.ignored:
        lines += ["", f"Ignored in the submissions folder (not a notebook or zip): {', '.join(report.ignored)}."]
    return "\n".join(lines) + "\n"


def _number(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _share(value) -> str:
    return "" if value is None else f"{value:.0%}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def plot(rows, path: Path) -> None:
    """``grades.png``: histogram of totals; per question, the shares of full, partial and zero marks."""
    import numpy as np
    from matplotlib.figure import Figure

    stats = question_stats(rows, with_total=False)
    graded = [row.outcome.results for row in rows if row.outcome.status == "graded" and row.outcome.results]
    possible = sum(maximum for _, maximum in questions(rows))
    figure = Figure(figsize=(11, max(3.5, 1.2 + 0.45 * len(stats))), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.2])
    if graded:
        totals = [r["score"] for r in graded]
        whole = possible <= 40 and float(possible).is_integer() and all(float(t).is_integer() for t in totals)
        if whole:  # one bar per point
            left.hist(totals, bins=np.arange(-0.5, possible + 1.5, 1), color="#4c72b0", edgecolor="white")
            left.set_xticks(range(0, int(possible) + 1, max(1, int(possible) // 10)))
            left.set_xlim(-0.5, possible + 0.5)
        else:
            left.hist(totals, bins=20, range=(0, possible or 1), color="#4c72b0", edgecolor="white")
        left.yaxis.get_major_locator().set_params(integer=True)
    else:
        left.text(0.5, 0.5, "no graded submissions", ha="center", va="center", transform=left.transAxes)
    left.set_title(f"Total points ({len(graded)} graded)")
    left.set_xlabel(f"points (of {possible:g})")
    left.set_ylabel("students")
    if stats and graded:
        labels = [s["name"] for s in stats][::-1]
        full = np.array([s["full"] or 0 for s in stats][::-1])
        zero = np.array([s["zero"] or 0 for s in stats][::-1])
        partial = 1 - full - zero
        y = np.arange(len(stats))
        right.barh(y, full, color="#55a868", label="full marks")
        right.barh(y, partial, left=full, color="#dd8452", label="partial")
        right.barh(y, zero, left=full + partial, color="#c44e52", label="zero")
        for position, s in zip(y, stats[::-1]):
            right.text(1.01, position, f"mean {s['mean']:.2f}/{s['max']:g}", va="center", fontsize=9)
        right.set_yticks(y, labels)
        right.set_xlim(0, 1.3)
        right.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0", "25%", "50%", "75%", "100%"])
        right.legend(loc="upper center", bbox_to_anchor=(0.4, -0.08), ncol=3, fontsize=8, frameon=False)
    else:
        right.text(0.5, 0.5, "no graded submissions", ha="center", va="center", transform=right.transAxes)
    right.set_title("Students per question")
    figure.savefig(path, dpi=100)
