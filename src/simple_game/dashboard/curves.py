"""Training curves: any logged column of a run against agent steps or wall time, smoothed.

``progress.csv`` is SB3's log (one row per dump: ``rollout/ep_rew_mean``, ``train/loss`` ...)
and ``eval.csv`` ours (one row per evaluation: ``mean_score``, ``std_score`` ...). Both carry
the two clocks a learner compares runs by: agent steps (one action in one env, the budget
the config sets) and wall time (what a run costs, which differs across machines and
backends even for the same steps).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simple_game.dashboard.files import Table

PROGRESS, EVAL = "progress.csv", "eval.csv"
STEPS, WALL = "agent steps", "wall time (s)"
X_COLUMNS = {  # (log, x axis) -> the column holding that clock
    (PROGRESS, STEPS): "time/total_timesteps",
    (PROGRESS, WALL): "time/time_elapsed",
    (EVAL, STEPS): "timesteps",
    (EVAL, WALL): "wall_time_s",
}
DEFAULT_METRICS = ((PROGRESS, "rollout/ep_rew_mean"), (EVAL, "mean_score"))


@dataclass(frozen=True)
class Metric:
    """One column of one of a run's two logs."""

    log: str  # PROGRESS or EVAL
    column: str

    @property
    def label(self) -> str:
        return f"{self.column} ({self.log})"

    def x_column(self, axis: str) -> str:
        return X_COLUMNS[(self.log, axis)]


def metrics_of(tables: Iterable[tuple[str, Table]]) -> list[Metric]:
    """Every column any of the ``(log, table)`` pairs has, clocks excluded; defaults first."""
    clocks = set(X_COLUMNS.values())
    found: dict[Metric, None] = {}
    for log, table in tables:
        for column in table.columns:
            if column not in clocks:
                found[Metric(log, column)] = None
    ordered = [Metric(log, column) for log, column in DEFAULT_METRICS if Metric(log, column) in found]
    return ordered + sorted((m for m in found if m not in ordered), key=lambda m: (m.log != EVAL, m.column))


def series(table: Table, metric: Metric, axis: str = STEPS) -> tuple[list[float], list[float]]:
    """``(xs, ys)`` of ``metric`` against the clock ``axis``: rows missing either left out, sorted by x."""
    x_name = metric.x_column(axis)
    if x_name not in table.columns or metric.column not in table.columns:
        return [], []
    pairs = [
        (x, y)
        for x, y in zip(table.columns[x_name], table.columns[metric.column], strict=True)
        if not (math.isnan(x) or math.isnan(y) or math.isinf(y))
    ]
    pairs.sort(key=lambda p: p[0])
    return [p[0] for p in pairs], [p[1] for p in pairs]


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Trailing moving average over ``window`` points (1: as logged).

    Episode returns are noisy from one dump to the next; averaging the last few points shows the
    trend. The first points average over what exists so far, so the curve starts where the
    data starts instead of ``window`` points later.
    """
    if window <= 1 or len(values) == 0:
        return list(values)
    data = np.asarray(values, dtype=float)
    sums = np.cumsum(np.insert(data, 0, 0.0))
    idx = np.arange(1, len(data) + 1)
    start = np.maximum(0, idx - window)
    return list((sums[idx] - sums[start]) / (idx - start))


def curves_frame(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], window: int = 1) -> pd.DataFrame:
    """A long table ``run, x, value`` of several runs' curves, each smoothed by ``window``."""
    parts = [
        pd.DataFrame({"run": name, "x": list(xs), "value": smooth(ys, window)})
        for name, (xs, ys) in curves.items()
        if len(xs)
    ]
    if not parts:
        return pd.DataFrame({"run": [], "x": [], "value": []})
    return pd.concat(parts, ignore_index=True)
