"""Score statistics, defined once: every mean, spread and robust summary the project reports.

An RL score is a noisy number: one game of Breakout can end at 2 or at 40 with the same agent.
So a score is always reported with how many games it came from and how far they spread.
``std`` is the population standard deviation (``numpy.std``'s default), as SB3's own
``evaluate_policy`` reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Optional

import numpy as np


@dataclass(frozen=True)
class ScoreSummary:
    """Mean, spread and range of a set of game scores."""

    n: int
    mean: float
    std: float
    median: float
    min: float
    max: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(scores: Sequence[float]) -> Optional[ScoreSummary]:
    """The summary of ``scores``, or ``None`` when there are none."""
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        return None
    return ScoreSummary(
        n=int(values.size),
        mean=float(values.mean()),
        std=float(values.std()),
        median=float(np.median(values)),
        min=float(values.min()),
        max=float(values.max()),
    )


def whole_number(x: float) -> float | int:
    """Atari scores are whole numbers: store them as ints when they are."""
    x = float(x)
    return int(x) if x.is_integer() else x


Curve = tuple[Sequence[float], Sequence[float]]  # (steps, scores), steps ascending


def aggregate_seeds(
    curves: Sequence[Curve], points: int = 200
) -> Optional[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Median and interquartile range of several seeds' curves on one common step grid.

    Why median and IQR and not mean and std: with 3-5 seeds, one seed that collapses or
    takes off drags the mean far from what a typical run does, and mean ± std can even
    extend below the worst run. The median is what a typical seed achieves, and the band
    between the 25th and 75th percentile shows how much seeds disagree without being
    blown up by a single outlier (see Henderson et al. 2018, "Deep RL that Matters", and
    Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice").

    Seeds log at different steps, so each curve is linearly interpolated onto a shared
    grid. The grid only covers steps that *every* seed reached: we never invent data by
    extrapolating a shorter run. Returns (grid, median, q25, q75) as numpy arrays, or
    None when the curves do not overlap.
    """
    curves = [(xs, ys) for xs, ys in curves if len(xs) > 0]
    if not curves:
        return None
    lo = max(xs[0] for xs, _ in curves)
    hi = min(xs[-1] for xs, _ in curves)
    if hi < lo:
        return None
    grid = np.linspace(lo, hi, points) if hi > lo else np.array([lo])
    stacked = np.stack([np.interp(grid, np.asarray(xs), np.asarray(ys)) for xs, ys in curves])
    q25, median, q75 = np.percentile(stacked, [25, 50, 75], axis=0)
    return grid, median, q25, q75
