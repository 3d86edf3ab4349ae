"""``experiments.md``: the lab notebook's results table, one row per finished run.

Only the lines between the two marker comments belong to the tools; notes written around them
are kept byte for byte. ``simple-game train`` appends a row when a run ends
(:func:`append_experiment_row`); ``simple-game report`` rebuilds the whole table from the runs
under ``runs/`` (:func:`update_experiments_md`), keeping the rows of runs it cannot see, so the
log never shrinks.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simple_game.errors import SimpleGameError
from simple_game.fsio import atomic_write_text, locked
from simple_game.runs import RunRecord

RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
RESULTS_HEADER = (
    "| date | experiment | algo | game | steps | eval score (mean ± std) | wall time | run dir |\n"
    "|---|---|---|---|---|---|---|---|\n"
)
# Statuses that get a row in the results table. "running" and "failed" runs have no
# meaningful final score; an interrupted run (Ctrl-C) did real work, so it is listed, marked.
TABLE_STATUSES = ("finished", "interrupted")
EXPERIMENTS_TEMPLATE = f"""# Experiments

The log of experiments run with simple-game. Every finished run appends a row to the results
table (`python -m simple_game.report` rebuilds the rows of the runs under `runs/` and keeps the
others). Write your own notes in the Notes section: tools never touch it.

## Notes

## Results

{RESULTS_START}
{RESULTS_HEADER}{RESULTS_END}
"""


def format_results_row(summary: dict[str, Any]) -> str:
    """One Markdown table row for a finished run's summary."""
    mean, std = summary.get("final_eval_mean"), summary.get("final_eval_std")
    score = f"{mean:.1f} ± {std:.1f}" if isinstance(mean, (int, float)) and isinstance(std, (int, float)) else "n/a"
    wall = summary.get("wall_time_s") or 0.0
    date = str(summary.get("finished_at") or summary.get("started_at") or "")[:16].replace("T", " ")
    cells = [
        date,
        summary.get("experiment", ""),
        summary.get("algo", ""),
        summary.get("game", ""),
        f"{int(summary.get('steps_done') or 0):,}",
        score,
        _format_duration(float(wall)),
        summary.get("run_dir", ""),
    ]
    return "| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |"


def _format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def append_experiment_row(experiments_md: Path, summary: dict[str, Any]) -> None:
    """Add a row to the results table of ``experiments.md``, creating the file if needed."""
    experiments_md = Path(experiments_md)
    with locked(experiments_md):
        text = experiments_md.read_text(encoding="utf-8") if experiments_md.exists() else EXPERIMENTS_TEMPLATE
        if RESULTS_END not in text:
            # A hand-edited file without markers: add a fresh results section at the end.
            text = text.rstrip("\n") + f"\n\n## Results\n\n{RESULTS_START}\n{RESULTS_HEADER}{RESULTS_END}\n"
        head, _, tail = text.rpartition(RESULTS_END)
        if not head.endswith("\n"):
            head += "\n"
        atomic_write_text(experiments_md, head + format_results_row(summary) + "\n" + RESULTS_END + tail)


# --------------------------------------------------------------------------------------------
# Rebuilding the whole table (``simple-game report``)
# --------------------------------------------------------------------------------------------


def format_row(summary: dict[str, Any], run_dir: str) -> str:
    """One results-table row, in the same format ``simple-game train`` appends."""
    row = dict(summary, run_dir=run_dir)
    if summary.get("status") == "interrupted":
        row["experiment"] = f"{summary.get('experiment') or Path(run_dir).name} (interrupted)"
    return format_results_row(row) + "\n"


def build_table(runs: Sequence[RunRecord], relative_to: Path, kept_rows: Sequence[str] = ()) -> str:
    """Header plus one row per finished (or interrupted) run and each kept row, oldest first."""
    dated: list[tuple[str, str]] = [(_row_date(row), row) for row in kept_rows]
    for run in runs:
        if run.summary.get("status") not in TABLE_STATUSES:
            continue
        try:
            run_dir = os.path.relpath(run.path.resolve(), relative_to.resolve())
        except ValueError:  # different drive on Windows
            run_dir = str(run.path)
        row = format_row(run.summary, Path(run_dir).as_posix())
        dated.append((_row_date(row), row))
    dated.sort(key=lambda pair: pair[0])  # stable: same-minute rows keep their order
    return RESULTS_HEADER + "".join(row for _, row in dated)


def _row_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _row_date(row: str) -> str:
    return _row_cells(row)[0]


def rows_to_keep(text: str, runs: Sequence[RunRecord], relative_to: Path) -> list[str]:
    """Rows of the current table whose run is not among ``runs`` (so cannot be rebuilt).

    A run whose summary.json is broken cannot be rebuilt either: its row is kept as written.
    """
    if RESULTS_START not in text or RESULTS_END not in text:
        return []
    body = text.split(RESULTS_START, 1)[1].split(RESULTS_END, 1)[0]
    header_first_line = RESULTS_HEADER.splitlines()[0]
    readable = [run for run in runs if run.summary_error is None]
    scanned = {run.path.resolve() for run in readable}
    # Folder names carry a timestamp, so the name alone also identifies a run (a table
    # written from another working directory has other relative paths).
    scanned_names = {run.path.name for run in readable}
    kept = []
    for line in body.splitlines():
        line = line.rstrip("\r")
        if not line.startswith("|") or line == header_first_line or set(line) <= set("|-: "):
            continue
        run_dir = _row_cells(line)[-1]
        if run_dir and (Path(run_dir).name in scanned_names or (relative_to / run_dir).resolve() in scanned):
            continue  # rebuilt from its summary.json (or left out while it runs / if it failed)
        kept.append(line + "\n")
    return kept


def replace_between_markers(text: str, table: str, md_path: Path) -> str:
    """Return ``text`` with everything between the two marker lines replaced by ``table``.

    Only the bytes strictly between the end of the start-marker line and the beginning
    of the end-marker line change, so notes above and below stay exactly as written
    (including Windows line endings, which the table then uses too).
    """
    starts, ends = text.count(RESULTS_START), text.count(RESULTS_END)
    how_to_fix = (
        f"put the two lines '{RESULTS_START}' and '{RESULTS_END}' (once each, start first) "
        "under '## Results' where the table should go"
    )
    if starts == 0 or ends == 0:
        missing = RESULTS_START if starts == 0 else RESULTS_END
        raise SimpleGameError(f"{md_path} has no '{missing}' marker: {how_to_fix}, or pass --no-table")
    if starts > 1 or ends > 1:
        raise SimpleGameError(f"{md_path} has the results markers more than once: {how_to_fix}")
    start = text.index(RESULTS_START)
    end = text.index(RESULTS_END)
    if end < start:
        raise SimpleGameError(f"{md_path}: '{RESULTS_END}' comes before '{RESULTS_START}': {how_to_fix}")
    newline = "\r\n" if "\r\n" in text else "\n"
    body_start = text.find("\n", start)
    if body_start == -1 or body_start > end:  # both markers on one line
        raise SimpleGameError(f"{md_path}: the results markers must be on separate lines: {how_to_fix}")
    body_start += 1
    body_end = text.rfind("\n", 0, end) + 1  # start of the end-marker line
    if text[body_end:end].strip():
        raise SimpleGameError(f"{md_path}: '{RESULTS_END}' must be on a line of its own: {how_to_fix}")
    return text[:body_start] + table.replace("\n", newline) + text[body_end:]


def update_experiments_md(md_path: Path, runs: Sequence[RunRecord]) -> int:
    """Rebuild the results table in ``md_path``; returns the number of rows written."""
    md_path = Path(md_path)
    if md_path.exists():
        try:
            with md_path.open(encoding="utf-8", newline="") as fh:  # newline="": CRLF notes stay CRLF
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise SimpleGameError(f"cannot read {md_path}: {exc}") from None
    else:
        text = EXPERIMENTS_TEMPLATE
    table = build_table(runs, md_path.parent, rows_to_keep(text, runs, md_path.parent))
    new_text = replace_between_markers(text, table, md_path)
    if not md_path.exists() or new_text != text:
        atomic_write_text(md_path, new_text)  # a crash leaves the old file or the new one, never notes cut off
    return table.count("\n") - 2
