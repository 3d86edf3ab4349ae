"""``experiments.md``: the lab notebook's results table, one row per finished run.

Only the lines between the two marker comments belong to the tools; notes written around them
are kept byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simple_game.fsio import atomic_write_text, locked

RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
RESULTS_HEADER = "| date | experiment | algo | game | steps | eval score (mean ± std) | wall time | run dir |\n|---|---|---|---|---|---|---|---|\n"
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
