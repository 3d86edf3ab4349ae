"""``experiments.md``: the lab notebook's results table (one row per finished run) and studies table.

Only the lines between two marker comments belong to the tools; notes written around them
are kept byte for byte. ``simple-game train`` appends a row when a run ends
(:func:`append_experiment_row`); ``simple-game report`` rebuilds the whole table from the runs
under ``runs/`` (:func:`update_experiments_md`), keeping the rows of runs it cannot see, so the
log never shrinks. It also rebuilds the studies table (:class:`Study`: one row per experiment
with 2+ seeds, final scores as IQM with a bootstrap interval, median and IQR), between its own
markers under ``## Studies``, added at the end of the file the first time there is a study.
Which file is the log: :func:`default_log_path`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Optional

from simple_game.errors import SimpleGameError
from simple_game.fsio import atomic_write_text, locked
from simple_game.pooling import SeedGroup, final_score
from simple_game.runs import RunRecord
from simple_game.stats import FinalScores, summarize_final_scores

RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
RESULTS_HEADER = (
    "| date | experiment | algo | game | steps | eval score (mean ± std) | wall time | run dir |\n"
    "|---|---|---|---|---|---|---|---|\n"
)
STUDIES_START = "<!-- studies:start -->"
STUDIES_END = "<!-- studies:end -->"
STUDIES_HEADER = (
    "| experiment | algo | game | budget | seeds | final eval IQM [95% CI] | median (IQR) | per-seed final eval |\n"
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


def default_log_path(runs_root: Path) -> Path:
    """The experiment log that runs under ``runs_root`` write their rows to.

    The rule: with the repository's own runs folder (``./runs``, the default of every command)
    the log is the repository's ``experiments.md`` in the current working directory, the lab
    notebook that is committed with the code. With any other runs folder (``--runs-dir
    ../scratch/runs``, ``/data/runs``) it is ``<runs-dir>/experiments.md``, inside that folder:
    scratch runs never add rows to the repository's log, and never write next to an unrelated
    folder (``../scratch/experiments.md``).
    """
    runs_root = Path(runs_root)
    if runs_root.resolve() == (Path.cwd() / "runs").resolve():
        return Path("experiments.md")
    return runs_root / "experiments.md"


@contextlib.contextmanager
def _log_lock(md_path: Path) -> Iterator[None]:
    """Hold the log's advisory lock while its table is read and rewritten.

    Two runs finishing together, or a run finishing while ``report`` rebuilds the table, must
    not lose each other's row. The lock file sits next to the log; while the log's folder does
    not exist there is no log to lose rows of, and nothing to lock.
    """
    if not md_path.parent.is_dir():
        yield
        return
    with locked(md_path):
        yield


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
    """Add a row to the results table of ``experiments.md``, creating the file if needed.

    A row of the same run folder already in the table (written when the run was interrupted
    before it was resumed, or by a ``report`` that saw it finish) is replaced: one row per run.
    """
    experiments_md = Path(experiments_md)
    with _log_lock(experiments_md):
        text = experiments_md.read_text(encoding="utf-8") if experiments_md.exists() else EXPERIMENTS_TEMPLATE
        if RESULTS_END not in text:
            # A hand-edited file without markers: add a fresh results section at the end.
            text = text.rstrip("\n") + f"\n\n## Results\n\n{RESULTS_START}\n{RESULTS_HEADER}{RESULTS_END}\n"
        head, _, tail = text.rpartition(RESULTS_END)
        head = _without_row_of(head, Path(str(summary.get("run_dir", ""))).name)
        if not head.endswith("\n"):
            head += "\n"
        atomic_write_text(experiments_md, head + format_results_row(summary) + "\n" + RESULTS_END + tail)


def _without_row_of(head: str, run_name: str) -> str:
    """``head`` (the text up to the end marker) without the table rows whose run dir is ``run_name``."""
    if not run_name or RESULTS_START not in head:
        return head
    before, _, body = head.rpartition(RESULTS_START)
    lines = body.splitlines(keepends=True)
    kept = [line for line in lines if not (_is_row(line) and Path(_row_cells(line)[-1]).name == run_name)]
    return before + RESULTS_START + "".join(kept)


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


def _is_row(line: str, header: str = RESULTS_HEADER) -> bool:
    """A data row of the table with ``header`` (not the header, not the ``|---|`` line)."""
    line = line.strip()
    return line.startswith("|") and line != header.splitlines()[0] and not set(line) <= set("|-: ")


def rows_to_keep(text: str, runs: Sequence[RunRecord], relative_to: Path) -> list[str]:
    """Rows of the current table that :func:`build_table` will not rebuild from ``runs``.

    Kept: rows of runs not under the runs folder (deleted, moved, another machine), of runs
    whose summary.json is broken, and of runs that were not finished when they were scanned
    (a run that finished since then appended its row; it must not be lost).
    """
    if RESULTS_START not in text or RESULTS_END not in text:
        return []
    body = text.split(RESULTS_START, 1)[1].split(RESULTS_END, 1)[0]
    rebuilt = [run for run in runs if run.summary_error is None and run.summary.get("status") in TABLE_STATUSES]
    rebuilt_paths = {run.path.resolve() for run in rebuilt}
    # Folder names carry a timestamp, so the name alone also identifies a run (a table
    # written from another working directory has other relative paths).
    rebuilt_names = {run.path.name for run in rebuilt}
    kept = []
    for line in body.splitlines():
        line = line.rstrip("\r")
        if not _is_row(line):
            continue
        run_dir = _row_cells(line)[-1]
        if run_dir and (Path(run_dir).name in rebuilt_names or (relative_to / run_dir).resolve() in rebuilt_paths):
            continue  # rebuilt from its summary.json
        kept.append(line + "\n")
    return kept


class Section(NamedTuple):
    """A table of the log: its two markers, the heading it sits under, its name in messages."""

    start: str
    end: str
    heading: str
    kind: str


RESULTS = Section(RESULTS_START, RESULTS_END, "## Results", "results")
STUDIES = Section(STUDIES_START, STUDIES_END, "## Studies", "studies")


def replace_between_markers(text: str, table: str, md_path: Path, section: Section = RESULTS) -> str:
    """Return ``text`` with everything between the two marker lines of ``section`` replaced by ``table``.

    Only the bytes strictly between the end of the start-marker line and the beginning
    of the end-marker line change, so notes above and below stay exactly as written
    (including Windows line endings, which the table then uses too).
    """
    start_marker, end_marker = section.start, section.end
    starts, ends = text.count(start_marker), text.count(end_marker)
    how_to_fix = (
        f"put the two lines '{start_marker}' and '{end_marker}' (once each, start first) "
        f"under '{section.heading}' where the table should go"
    )
    if starts == 0 or ends == 0:
        missing = start_marker if starts == 0 else end_marker
        raise SimpleGameError(f"{md_path} has no '{missing}' marker: {how_to_fix}, or pass --no-table")
    if starts > 1 or ends > 1:
        raise SimpleGameError(f"{md_path} has the {section.kind} markers more than once: {how_to_fix}")
    start = text.index(start_marker)
    end = text.index(end_marker)
    if end < start:
        raise SimpleGameError(f"{md_path}: '{end_marker}' comes before '{start_marker}': {how_to_fix}")
    newline = "\r\n" if "\r\n" in text else "\n"
    body_start = text.find("\n", start)
    if body_start == -1 or body_start > end:  # both markers on one line
        raise SimpleGameError(f"{md_path}: the {section.kind} markers must be on separate lines: {how_to_fix}")
    body_start += 1
    body_end = text.rfind("\n", 0, end) + 1  # start of the end-marker line
    if text[body_end:end].strip():
        raise SimpleGameError(f"{md_path}: '{end_marker}' must be on a line of its own: {how_to_fix}")
    return text[:body_start] + table.replace("\n", newline) + text[body_end:]


def update_experiments_md(md_path: Path, runs: Sequence[RunRecord], studies: Optional[Sequence[Study]] = None) -> int:
    """Rebuild the results table in ``md_path`` (and the studies table, given ``studies``); returns the results rows.

    The log's lock is held from reading the file to replacing it, so a run that appends its
    row meanwhile waits, and its row is in the file this rebuild reads (or comes after it).
    """
    md_path = Path(md_path)
    with _log_lock(md_path):
        text = _read_log(md_path) if md_path.exists() else EXPERIMENTS_TEMPLATE
        table = build_table(runs, md_path.parent, rows_to_keep(text, runs, md_path.parent))
        new_text = replace_between_markers(text, table, md_path)
        if studies is not None:
            new_text = _with_studies(new_text, studies, md_path)
        if not md_path.exists() or new_text != text:
            atomic_write_text(md_path, new_text)  # a crash leaves the old file or the new one, never notes cut off
    return table.count("\n") - 2


def _read_log(md_path: Path) -> str:
    try:
        with md_path.open(encoding="utf-8", newline="") as fh:  # newline="": CRLF notes stay CRLF
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise SimpleGameError(f"cannot read {md_path}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Studies: the seeds of one experiment, summarised (``simple-game report``)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Study:
    """The seeds of one experiment (a :class:`~simple_game.pooling.SeedGroup` of 2+ runs) and their final scores.

    A run's final score is its last evaluation's ``mean_score`` (:func:`~simple_game.pooling.final_score`);
    ``summary`` (:func:`~simple_game.stats.summarize_final_scores`) is ``None`` while fewer than
    two runs have one.
    """

    group: SeedGroup
    per_seed: tuple[tuple[Any, Optional[float], str], ...]  # (seed, final score or None, status note), by seed
    summary: Optional[FinalScores]

    @property
    def seed_scores(self) -> str:
        """``0: 11.0, 1: 12.0 (interrupted), 2: no evaluation yet``"""
        return ", ".join(
            f"{seed}: {'no evaluation yet' if score is None else f'{score:.1f}'}{note}"
            for seed, score, note in self.per_seed
        )

    def line(self) -> str:
        """What ``report`` prints: ``ppo_pong x3: final eval IQM 12.3 [95% CI 10.1, 14.0], median ...``"""
        head = f"{self.group.label} x{len(self.group.runs)}: final eval"
        if self.summary is None:
            scored = sum(score is not None for _, score, _ in self.per_seed)
            return f"{head}: no IQM yet ({scored} of {len(self.per_seed)} runs evaluated, 2 needed); per seed: " + (
                self.seed_scores
            )
        return f"{head} IQM {self.summary.iqm_text}, median {self.summary.median_text}; per seed: {self.seed_scores}"

    def row(self) -> str:
        """The study's row in the studies table."""
        budget = self.group.budget
        cells = [
            self.group.label,
            self.group.algo,
            self.group.game,
            "?" if budget is None else f"{budget:,}",
            len(self.group.runs),
            "n/a" if self.summary is None else self.summary.iqm_text,
            "n/a" if self.summary is None else self.summary.median_text,
            self.seed_scores,
        ]
        return "| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |"


def study_of(group: SeedGroup) -> Study:
    """The final scores of ``group``'s runs, by seed, and their summary (reads each run's eval.csv)."""
    found = [(seed, final_score(run), _status_note(run)) for seed, run in zip(group.seeds, group.runs, strict=True)]
    found.sort(key=lambda entry: (0, entry[0], "") if isinstance(entry[0], int) else (1, 0, str(entry[0])))
    scores = [score for _, score, _ in found if score is not None]
    return Study(group, tuple(found), summarize_final_scores(scores))


def studies_of(groups: Sequence[SeedGroup]) -> list[Study]:
    """One :class:`Study` per group of two or more runs, in the groups' order."""
    return [study_of(group) for group in groups if len(group.runs) > 1]


def _status_note(run: RunRecord) -> str:
    """`` (interrupted)`` for a run that did not finish: its last evaluation is not at the full budget."""
    status = run.summary.get("status")
    return "" if status == "finished" else f" ({status or 'no summary.json'})"


def _with_studies(text: str, studies: Sequence[Study], md_path: Path) -> str:
    """``text`` with its studies table rebuilt; the section is added when missing and there is a study.

    Rows of experiments that are not among ``studies`` (their runs deleted or moved) are kept,
    like the results table keeps rows: the log never shrinks.
    """
    if STUDIES_START not in text and STUDIES_END not in text:
        if not studies:
            return text
        text = _add_studies_section(text)
    labels = {study.group.label for study in studies}
    body = text.split(STUDIES_START, 1)[1].split(STUDIES_END, 1)[0] if STUDIES_START in text else ""
    kept = [
        line.rstrip("\r") + "\n"
        for line in body.splitlines()
        if _is_row(line, STUDIES_HEADER) and _row_cells(line)[0] not in labels
    ]
    table = STUDIES_HEADER + "".join(kept) + "".join(study.row() + "\n" for study in studies)
    return replace_between_markers(text, table, md_path, STUDIES)


def _add_studies_section(text: str) -> str:
    """Empty studies markers under an existing ``## Studies`` heading, else in a new section at the end."""
    newline = "\r\n" if "\r\n" in text else "\n"
    markers = f"{STUDIES_START}{newline}{STUDIES_END}{newline}"
    heading = re.search(r"^## Studies[ \t]*\r?$", text, flags=re.MULTILINE)
    if heading is None:
        ending = "" if not text or text.endswith("\n") else newline
        return f"{text}{ending}{newline}## Studies{newline}{newline}{markers}"
    cut = heading.end() + (1 if text[heading.end() : heading.end() + 1] == "\n" else 0)
    rest = text[cut:]
    gap = newline if rest and not rest.startswith(("\n", "\r\n")) else ""  # one blank line before the notes
    return text[:cut] + ("" if cut > heading.end() else newline) + newline + markers + gap + rest
