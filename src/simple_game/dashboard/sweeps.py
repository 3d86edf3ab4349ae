"""Sweeps for the dashboard: what ``simple-game sweep`` left in ``<runs>/sweeps/<study>/``.

A sweep trains trials (each a normal run with some config keys drawn by Optuna) and keeps its
results in three files beside them (docs/sweeps.md): ``sweep.json`` (counts, the best trial and
its values, parameter importances), ``sweep.md`` (the trials table: state, score, values,
evaluations, run) and ``best.yaml``. The dashboard reads those files, never the Optuna storage:
opening a study database can write to it (schema upgrades, heartbeats), and the dashboard
writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from simple_game.dashboard.files import read_json_object

SWEEP_JSON, SWEEP_MD, BEST_YAML = "sweep.json", "sweep.md", "best.yaml"


def find_sweeps(runs_dir: Path) -> list[Path]:
    """Sweep folders: ``<runs>/sweeps/*/``, or ``runs_dir`` itself (or its children) when it is one."""
    runs_dir = Path(runs_dir)
    candidates = [runs_dir, *sorted((runs_dir / "sweeps").glob("*/")), *sorted(runs_dir.glob("*/"))]
    return list(dict.fromkeys(p for p in candidates if (p / SWEEP_JSON).is_file()))


@dataclass
class Sweep:
    """One sweep as its files describe it; ``problems`` says what could not be read."""

    path: Path
    summary: dict[str, Any] = field(default_factory=dict)
    trials: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.summary.get("study") or self.path.name)

    @property
    def best(self) -> Optional[dict[str, Any]]:
        best = self.summary.get("best")
        return best if isinstance(best, dict) else None


def _cell(text: str) -> Any:
    """A table cell as a number when it is one (``2``, ``0.02748``), else the text."""
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def parse_trials_table(markdown: str) -> list[dict[str, Any]]:
    """The rows of the ``| trial | state | ...`` table of a ``sweep.md``, as dicts."""
    lines = markdown.splitlines()
    start = next((i for i, line in enumerate(lines) if line.replace(" ", "").startswith("|trial|state|")), None)
    if start is None:
        return []
    head = [c.strip() for c in lines[start].strip().strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip().startswith("|"):
            break
        cells = [c for c in line.strip().strip("|").split("|")]
        if len(cells) == len(head):
            rows.append({name: _cell(cell) for name, cell in zip(head, cells, strict=True)})
    return rows


def read_sweep(folder: Path) -> Sweep:
    """A sweep folder's summary and trials table; a missing or broken file is a problem, not an error."""
    sweep = Sweep(Path(folder))
    summary, problem = read_json_object(sweep.path / SWEEP_JSON)
    if summary is None:
        sweep.problems.append(str(problem))
    else:
        sweep.summary = summary
    try:
        sweep.trials = parse_trials_table((sweep.path / SWEEP_MD).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        sweep.problems.append(f"{SWEEP_MD}: cannot be read ({exc})")
    return sweep


def trials_frame(sweep: Sweep) -> pd.DataFrame:
    """The trials as a table; a column mixing numbers and text (``2``, ``(4)`` for a pruned trial) stays text."""
    frame = pd.DataFrame(sweep.trials)
    for column in frame.columns:
        if frame[column].map(type).nunique() > 1:
            frame[column] = frame[column].astype(str)
    return frame


def best_rows(sweep: Sweep) -> list[dict[str, Any]]:
    """The best trial's values, one row per tuned key (as text: ``128``, ``0.02748``, ``lin_0.0003``)."""
    best = sweep.best or {}
    params = best.get("params") if isinstance(best.get("params"), dict) else {}
    return [
        {"parameter": key, "value": f"{value:.4g}" if isinstance(value, float) else str(value)}
        for key, value in (params or {}).items()
    ]


def headline(sweep: Sweep) -> str:
    """``2 of 2 trials finished (1 complete, 1 pruned); final score, maximize; best: trial 0, score 2``"""
    s = sweep.summary
    counts: dict[str, Any] = s["counts"] if isinstance(s.get("counts"), dict) else {}
    done = sum(int(counts.get(k, 0)) for k in ("complete", "pruned"))
    parts = [f"{done} of {s.get('target_trials', '?')} trials finished"]
    detail = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    if detail:
        parts[0] += f" ({detail})"
    parts.append(f"{s.get('metric', '?')} evaluation score, {s.get('direction', '?')}")
    best = sweep.best
    parts.append(f"best: trial {best.get('number')}, score {best.get('value'):g}" if best else "no complete trial yet")
    return "; ".join(parts)
