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


# --------------------------------------------------------------------------------------------
# Final scores of several seeds: interquartile mean with a bootstrap interval, median and IQR
# --------------------------------------------------------------------------------------------

Scores = Sequence[float] | np.ndarray  # final scores, one per run
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0  # a fixed seed: the same runs always give the same interval (and the same experiments.md)
CONFIDENCE = 0.95


def _trimmed_means(samples: np.ndarray) -> np.ndarray:
    """The IQM of each row of ``samples`` (shape ``(..., n)``): see :func:`interquartile_mean`."""
    n = samples.shape[-1]
    cut = n // 4  # int(0.25 * n), as scipy.stats.trim_mean cuts
    return np.sort(samples, axis=-1)[..., cut : n - cut].mean(axis=-1)


def interquartile_mean(scores: Scores) -> float:
    """The interquartile mean (IQM): the mean of the middle half of the scores.

    Agarwal et al. 2021 ("Deep RL at the Edge of the Statistical Precipice") recommend it over
    the mean (one outlier seed moves it little) and the median (it uses half the runs, not
    one, so it varies less between studies). Computed as rliable computes it,
    ``scipy.stats.trim_mean(scores, 0.25)``: sort, drop ``k = floor(n / 4)`` scores at each
    end, average the ``n - 2k`` left. No fractional weights at the quartiles, so with 2 or 3
    seeds nothing is dropped and the IQM is the plain mean; with 5, the lowest and highest go.
    """
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        raise ValueError("the interquartile mean of no scores is undefined")
    return float(_trimmed_means(values))


def bootstrap_interval(
    scores: Scores,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the IQM over runs.

    Each of ``resamples`` resamples draws ``n`` runs from the ``n`` runs with replacement
    (``numpy.random.default_rng(seed).integers``) and takes its IQM; the interval is the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles of those IQMs
    (``numpy.percentile``, linear). It says how much the IQM would move with other seeds of
    the same experiment; with few seeds it is wide, which is the honest answer.
    """
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        raise ValueError("no scores to bootstrap")
    rng = np.random.default_rng(seed)
    iqms = _trimmed_means(values[rng.integers(0, values.size, size=(resamples, values.size))])
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(iqms, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class FinalScores:
    """What the final scores of ``n`` seeds of one experiment say, robustly."""

    n: int
    iqm: float
    ci_low: float  # percentile bootstrap interval of the IQM
    ci_high: float
    median: float
    q25: float  # the interquartile range is q25 to q75 (numpy.percentile, linear)
    q75: float
    confidence: float = CONFIDENCE

    @property
    def iqm_text(self) -> str:
        """``12.3 [95% CI 10.1, 14.0]``"""
        return f"{self.iqm:.1f} [{self.confidence:.0%} CI {self.ci_low:.1f}, {self.ci_high:.1f}]"

    @property
    def median_text(self) -> str:
        """``12.0 (IQR 11.0-13.5)``; ``-20.0 (IQR -21.0 to -19.5)`` when a minus sign would blur the dash."""
        dash = " to " if self.q25 < 0 else "-"
        return f"{self.median:.1f} (IQR {self.q25:.1f}{dash}{self.q75:.1f})"


def summarize_final_scores(
    scores: Scores, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> Optional[FinalScores]:
    """IQM with its bootstrap interval, median and IQR of ``scores``; ``None`` for fewer than 2.

    One run has no spread to speak of: an interval from one score would claim a certainty
    that one seed cannot give.
    """
    values = np.asarray(scores, dtype=float)
    if values.size < 2:
        return None
    low, high = bootstrap_interval(values, resamples=resamples, seed=seed)
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    return FinalScores(int(values.size), interquartile_mean(values), low, high, float(median), float(q25), float(q75))
