"""Comparing runs: evaluation curves overlaid, seeds of one experiment as median and IQR.

Which runs are seeds of one experiment is decided once, by :func:`simple_game.pooling.group_seeds`
(same base name, same config except run-only settings such as the seed). One seed is an
anecdote: an experiment's curve is the median over its seeds with the band between the 25th
and 75th percentile (:func:`simple_game.stats.aggregate_seeds`), and its final score the
interquartile mean with a bootstrap interval (:func:`simple_game.stats.summarize_final_scores`),
as ``simple-game report`` computes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

import pandas as pd

from simple_game.dashboard.curves import EVAL, STEPS, Metric, series
from simple_game.dashboard.files import Table
from simple_game.pooling import SeedGroup
from simple_game.stats import aggregate_seeds, summarize_final_scores

MEAN_SCORE = Metric(EVAL, "mean_score")


def final_score(table: Optional[Table]) -> Optional[float]:
    """The ``mean_score`` of the last evaluation (most steps; of two at one step the later row)."""
    xs, ys = _rows(table)
    if not xs:
        return None
    return max(zip(xs, range(len(xs)), ys, strict=True))[2]


def best_score(table: Optional[Table]) -> Optional[float]:
    _, ys = _rows(table)
    return max(ys) if ys else None


def _rows(table: Optional[Table]) -> tuple[list[float], list[float]]:
    if table is None or "timesteps" not in table.columns or "mean_score" not in table.columns:
        return [], []
    pairs = [
        (x, y)
        for x, y in zip(table.columns["timesteps"], table.columns["mean_score"], strict=True)
        if not (math.isnan(x) or math.isnan(y))
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]


@dataclass(frozen=True)
class GroupCurve:
    """One line of the comparison: a single run as logged, or seeds as median with ``low``-``high`` band."""

    label: str
    runs: tuple[str, ...]
    frame: pd.DataFrame  # columns x, value, low, high (low == high == value for a single run)
    note: str = ""

    @property
    def pooled(self) -> bool:
        return len(self.runs) > 1 and not self.note


def group_curves(groups: Sequence[SeedGroup], eval_tables: Mapping[str, Table]) -> list[GroupCurve]:
    """The evaluation curve of each experiment; runs without evaluations are left out."""
    out = []
    for group in groups:
        named = [(run.path.name, series(eval_tables[run.path.name], MEAN_SCORE, STEPS)) for run in group.runs]
        named = [(name, curve) for name, curve in named if curve[0]]
        if not named:
            continue
        if len(named) == 1:
            name, (xs, ys) = named[0]
            label = group.label if len(group.runs) == 1 else f"{group.label} ({name} only evaluated)"
            out.append(GroupCurve(label, (name,), _frame(xs, ys, ys, ys)))
            continue
        agg = aggregate_seeds([curve for _, curve in named])
        if agg is None:  # seeds that never overlap in steps are drawn one by one
            for name, (xs, ys) in named:
                out.append(GroupCurve(f"{group.label}: {name}", (name,), _frame(xs, ys, ys, ys), "no overlap"))
            continue
        grid, median, q25, q75 = agg
        label = f"{group.label} (median of {len(named)} seeds, IQR band)"
        out.append(GroupCurve(label, tuple(n for n, _ in named), _frame(grid, median, q25, q75)))
    return out


def _frame(xs: Any, value: Any, low: Any, high: Any) -> pd.DataFrame:
    return pd.DataFrame({"x": list(xs), "value": list(value), "low": list(low), "high": list(high)})


def curves_long(curves: Sequence[GroupCurve]) -> pd.DataFrame:
    """All group curves in one long table (``experiment`` column) for one chart."""
    if not curves:
        return pd.DataFrame({"experiment": [], "x": [], "value": [], "low": [], "high": []})
    return pd.concat([c.frame.assign(experiment=c.label) for c in curves], ignore_index=True)


def run_scores(groups: Sequence[SeedGroup], eval_tables: Mapping[str, Table]) -> list[dict[str, Any]]:
    """One row per run: its experiment, seed, evaluations, final and best score."""
    rows = []
    for group in groups:
        for run, seed in zip(group.runs, group.seeds, strict=True):
            table = eval_tables[run.path.name]
            rows.append(
                {
                    "run": run.path.name,
                    "experiment": group.label,
                    "algo": group.algo,
                    "game": group.game,
                    "seed": seed,
                    "status": run.summary.get("status", "no summary"),
                    "evaluations": len(_rows(table)[0]),
                    "final score": final_score(table),
                    "best score": best_score(table),
                }
            )
    return rows


def group_scores(groups: Sequence[SeedGroup], eval_tables: Mapping[str, Table]) -> list[dict[str, Any]]:
    """One row per experiment of 2+ runs: final scores as IQM [95% CI] and median (IQR)."""
    rows = []
    for group in groups:
        if len(group.runs) < 2:
            continue
        finals = [final_score(eval_tables[run.path.name]) for run in group.runs]
        scored = [s for s in finals if s is not None]
        summary = summarize_final_scores(scored)
        rows.append(
            {
                "experiment": group.label,
                "runs": len(group.runs),
                "evaluated": len(scored),
                "final IQM": summary.iqm_text if summary else "needs 2 evaluated runs",
                "final median": summary.median_text if summary else "",
                "per seed": ", ".join(
                    f"{seed}: {'-' if s is None else f'{s:.1f}'}" for seed, s in zip(group.seeds, finals, strict=True)
                ),
            }
        )
    return rows
