"""The sweeps table of ``experiments.md``: one row per sweep under ``<runs>/sweeps/``, from its ``sweep.json``.

``simple-game report`` rebuilds it between ``<!-- sweeps:start -->`` and ``<!-- sweeps:end -->``
under ``## Sweeps`` (added at the end of the log the first time there is a sweep), like the
results and studies tables: notes around it stay byte for byte, and rows of sweeps whose
folder is gone are kept. Reads only what ``sweep`` wrote, so it needs no Optuna.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from simple_game.experiment_log import EXPERIMENTS_TEMPLATE, Section, replace_between_markers
from simple_game.fsio import atomic_write_text, locked

SWEEPS = Section("<!-- sweeps:start -->", "<!-- sweeps:end -->", "## Sweeps", "sweeps")
SWEEPS_HEADER = (
    "| sweep | objective | trials (complete / pruned / failed) | best score | best values | best config | report |\n"
    "|---|---|---|---|---|---|---|\n"
)


def sweep_summaries(runs_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every readable ``<runs_dir>/sweeps/*/sweep.json``, by folder name (a broken one is skipped)."""
    found = []
    for path in sorted(Path(runs_dir).glob("sweeps/*/sweep.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("study"):
            found.append((path.parent, data))
    return found


def sweep_row(folder: Path, summary: dict[str, Any], relative_to: Path) -> str:
    counts = summary.get("counts") or {}
    best = summary.get("best") or {}
    values = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (best.get("params") or {}).items()
    )
    where = Path(os.path.relpath(folder.resolve(), relative_to.resolve())).as_posix()
    cells = [
        summary["study"],
        f"{summary.get('metric', 'final')} eval, {summary.get('direction', 'maximize')}",
        f"{counts.get('complete', 0)} / {counts.get('pruned', 0)} / {counts.get('fail', 0)}",
        f"{best['value']:g} (trial {best.get('number')})" if isinstance(best.get("value"), (int, float)) else "n/a",
        values or "n/a",
        f"{where}/best.yaml" if best else "n/a",
        f"{where}/sweep.md",
    ]
    return "| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |"


def update_sweeps_table(md_path: Path, runs_dir: Path) -> int:
    """Rebuild the sweeps table of ``md_path`` from ``runs_dir``; returns how many sweeps it lists.

    Nothing is written while there is no sweep and no table yet.
    """
    md_path = Path(md_path)
    summaries = sweep_summaries(runs_dir)
    with locked(md_path) if md_path.parent.is_dir() else contextlib.nullcontext():
        text = md_path.read_text(encoding="utf-8") if md_path.exists() else EXPERIMENTS_TEMPLATE
        if SWEEPS.start not in text and SWEEPS.end not in text:
            if not summaries:
                return 0
            ending = "" if text.endswith("\n") else "\n"
            text = f"{text}{ending}\n{SWEEPS.heading}\n\n{SWEEPS.start}\n{SWEEPS.end}\n"
        rows = {summary["study"]: sweep_row(folder, summary, md_path.parent) for folder, summary in summaries}
        body = text.split(SWEEPS.start, 1)[1].split(SWEEPS.end, 1)[0] if SWEEPS.start in text else ""
        kept = [line.strip() for line in body.splitlines() if _row_study(line) not in (None, *rows)]
        table = SWEEPS_HEADER + "".join(f"{line}\n" for line in kept + list(rows.values()))
        new_text = replace_between_markers(text, table, md_path, SWEEPS)
        if new_text != text or not md_path.exists():
            atomic_write_text(md_path, new_text)
    return len(kept) + len(rows)


def _row_study(line: str) -> str | None:
    """The sweep a data row of the table is about (``None`` for the header, the rule and other lines)."""
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    if not line.strip().startswith("|") or cells[0] in ("sweep", "") or set(cells[0]) <= set("-: "):
        return None
    return cells[0]
