"""Helpers for the resume tests: a run "killed" right after one of its checkpoints, and its logs.

:func:`killed_after` copies a finished run and turns the copy into what ``kill -9`` right after
the checkpoint at ``step`` leaves behind: ``latest`` names that checkpoint, the later ones are
gone, and ``summary.json`` still says ``running`` with no end fields. Deterministic, unlike a
signal sent while a run is training.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from tiny_runs import run_quiet

END_KEYS = ("wall_time_s", "fps", "session_fps", "final_eval_mean", "final_eval_std", "best_eval_mean")


def killed_after(run: Path, dest: Path, step: int) -> Path:
    shutil.copytree(run, dest)
    checkpoints = dest / "checkpoints"
    for path in checkpoints.glob("step_*.zip"):
        if int(path.stem[5:]) > step:
            path.unlink()
    (checkpoints / "latest").write_text(f"step_{step}.zip\n")
    summary = json.loads((dest / "summary.json").read_text())
    for key in (*END_KEYS, "best_eval_std", "finished_at"):
        summary.pop(key, None)
    summary.update(status="running", steps_done=step, run_dir=str(dest))
    (dest / "summary.json").write_text(json.dumps(summary, indent=2))
    return dest


def progress_rows(run: Path) -> list[dict[str, str]]:
    """``progress.csv``'s rows (those with a step): ``rows[n:]`` are a resumed session's when it had n before."""
    with open(run / "progress.csv", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r.get("time/total_timesteps")]


def resume(run: Path, budget: int, *extra: str) -> tuple[list[dict[str, str]], str]:
    """``train --resume run --set total_timesteps=budget``: the session's progress.csv rows and its stdout."""
    n_before = len(progress_rows(run))
    proc = run_quiet(
        "simple_game.train", "--resume", str(run), "--no-progress", "--set", f"total_timesteps={budget}", *extra
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return progress_rows(run)[n_before:], proc.stdout


def logged(rows: list[dict[str, str]], key: str) -> list[tuple[int, float]]:
    """``(step, value)`` of every row where ``key`` was logged."""
    return [(int(r["time/total_timesteps"]), float(r[key])) for r in rows if r.get(key) not in (None, "")]
