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
