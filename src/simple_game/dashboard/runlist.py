"""The runs under a folder, each with what the dashboard can say about it and short warnings.

Runs are found by :func:`simple_game.runs.find_runs` (one place decides what a run directory
is). A run that is still being written, has no evaluation yet, or has a broken
``summary.json`` is listed like any other, with a one-line warning for each problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from simple_game.dashboard.files import Stamp, stamp
from simple_game.runlock import trainer_of
from simple_game.runs import RunRecord, find_runs


def runs_signature(runs_dir: Path) -> tuple[tuple[str, Optional[Stamp], bool, bool], ...]:
    """What changes when the listing must be read again: each folder's summary and logs appearing.

    Only ``stat`` calls (a few hundred for 200 runs, milliseconds), no file is opened.
    """
    try:
        entries = sorted(e.name for e in os.scandir(runs_dir) if e.is_dir())
    except OSError:
        return ()
    found = []
    for name in entries:
        path = Path(runs_dir) / name
        logs = (path / "progress.csv").exists() or (path / "eval.csv").exists()
        found.append((name, stamp(path / "summary.json"), logs, (path / "config.yaml").exists()))
    return tuple(found)


def list_runs(runs_dir: Path) -> list[RunRecord]:
    """Every run under ``runs_dir``, oldest first (``[]`` when the folder does not exist)."""
    return find_runs(Path(runs_dir))


def run_warnings(run: RunRecord) -> list[str]:
    """Short warnings about what this run lacks; the run is still shown."""
    warnings = []
    if run.summary_error is not None:
        warnings.append(f"summary.json is broken ({_short(run.summary_error)})")
    if not run.directory.config_path.is_file():
        warnings.append("no config.yaml")
    if not run.directory.eval_csv.is_file():
        warnings.append("no evaluations yet (no eval.csv)")
    if not run.directory.progress_csv.is_file():
        warnings.append("no progress.csv yet")
    if run.summary.get("status") == "running" and trainer_of(run.path) is None:
        # kill -9, an out-of-memory kill or a power cut leave no time to write "interrupted"
        warnings.append(
            "summary.json says running but no process trains it: it was killed; "
            + ("train --resume continues it" if run.directory.latest_checkpoint() else "before its first checkpoint")
        )
    return warnings


def _short(message: str, limit: int = 120) -> str:
    text = message.replace(str(Path.home()), "~")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_row(run: RunRecord) -> dict[str, Any]:
    """One line of a runs table: what the summary says, blanks where it says nothing."""
    s = run.summary
    steps, budget = s.get("steps_done"), s.get("total_timesteps")
    return {
        "run": run.path.name,
        "experiment": run.base_name,
        "algo": s.get("algo"),
        "game": s.get("game"),
        "seed": s.get("seed"),
        "status": s.get("status") or ("broken summary" if run.summary_error else "no summary yet"),
        "steps": steps,
        "budget": budget,
        "started": s.get("started_at"),
    }


def by_name(runs: list[RunRecord]) -> dict[str, RunRecord]:
    """Runs by folder name (folder names are unique under one runs folder)."""
    return {run.path.name: run for run in runs}
