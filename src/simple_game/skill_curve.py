"""Time to skill: when a run reached each skill tier, in agent steps and in wall-clock hours.

A tier is reached the first time the mean raw score of the last ``milestones.window`` whole
training games reaches its threshold (:class:`~simple_game.callbacks.milestones.MilestoneCallback`);
its checkpoint ``skill_level_<k>.zip`` records the step and the run's training time up to it
(``wall_time_s``, which a resume carries on). The figure puts the training and evaluation
scores against both axes, since "how many steps" says how sample-efficient the recipe is and
"how many hours" what it costs on this machine.

A run warm-started from another agent (``init_from:``) began with that agent's training behind
it: its steps axis and tier steps count the agent's steps too (``summary.json`` records them),
while its hours are this run's own.

``simple-game report --skill-curves`` draws it for every run it reports that sets
``milestones.thresholds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
from matplotlib.figure import Figure

from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.errors import SimpleGameError
from simple_game.plots import TRAIN_X, TRAIN_Y, read_csv_columns, save_png, steps_axis
from simple_game.runs import RunDirectory

TIME_X = "time/time_elapsed"


@dataclass(frozen=True)
class TierReach:
    """One skill tier: its threshold, and when it was reached (``None`` while it is not)."""

    level: int
    threshold: float
    step: Optional[int] = None
    hours: Optional[float] = None
    mean: Optional[float] = None
    steps_before: int = 0  # a warm start's: the steps of the agent the run began from

    @property
    def total_steps(self) -> Optional[int]:
        """Agent steps to the tier, the warm start's included."""
        return None if self.step is None else self.step + self.steps_before


def steps_before(run: RunDirectory) -> int:
    """The training steps of the agent a warm-started run began from (0 for a run from scratch)."""
    record = run.read_summary().get("init_from") or {}
    step = record.get("step") if isinstance(record, dict) else None
    return int(step) if isinstance(step, int) else 0


def tiers_reached(run: RunDirectory, thresholds: list[float], before: Optional[int] = None) -> list[TierReach]:
    """Each tier of ``thresholds`` with the step and hours its checkpoint records.

    ``before``: :func:`steps_before` when the caller has it already (read from the run otherwise)."""
    tiers, before = [], steps_before(run) if before is None else before
    for level, threshold in enumerate(thresholds, start=1):
        path = run.skill_path(level)
        if not path.is_file():
            tiers.append(TierReach(level, threshold, steps_before=before))
            continue
        meta = read_checkpoint_metadata(path)
        wall = meta.get("wall_time_s")
        tiers.append(
            TierReach(
                level,
                threshold,
                int(meta["step"]) if meta.get("step") is not None else None,
                float(wall) / 3600 if wall is not None else None,
                meta.get("rolling_mean_score"),
                before,
            )
        )
    return tiers


def _hours_at(steps: list[float], seconds: list[float], at: list[float]) -> list[float]:
    """Training hours at each step of ``at``, interpolated on progress.csv's (steps, elapsed) rows."""
    return list(np.interp(at, steps, seconds) / 3600)


def plot_skill_curve(run: RunDirectory, thresholds: list[float], out: Path, title: str) -> list[TierReach]:
    """Score against steps and against hours, tiers marked; writes ``out`` (PNG) atomically."""
    if not run.progress_csv.is_file():
        raise SimpleGameError(f"{run.path}: no progress.csv yet")
    cols = read_csv_columns(run.progress_csv, required=(TRAIN_X, TIME_X))
    rows = [(s, t, y) for s, t, y in zip(cols[TRAIN_X], cols[TIME_X], cols.get(TRAIN_Y, []), strict=False)]
    rows = [r for r in rows if r[2] == r[2]]  # NaN: no whole game had ended yet
    if not rows:
        raise SimpleGameError(f"{run.progress_csv}: no training score yet")
    steps, seconds, score = (list(c) for c in zip(*rows, strict=True))
    evals = read_csv_columns(run.eval_csv, required=("timesteps", "mean_score")) if run.eval_csv.is_file() else {}
    before = steps_before(run)
    tiers = tiers_reached(run, thresholds, before)

    fig = Figure(figsize=(11, 4.2))
    by_steps, by_hours = fig.subplots(1, 2, sharey=True)
    for ax, x_train, x_of in (
        (by_steps, [s + before for s in steps], lambda at: [a + before for a in at]),
        (by_hours, [t / 3600 for t in seconds], lambda at: _hours_at(steps, seconds, at)),
    ):
        ax.plot(x_train, score, color="tab:blue", alpha=0.8, label="training: mean of recent whole games")
        if evals.get("timesteps"):
            ax.plot(x_of(evals["timesteps"]), evals["mean_score"], "o-", color="tab:orange", label="evaluation")
        for tier in tiers:
            ax.axhline(tier.threshold, color="grey", ls="--", lw=0.8)
            if tier.step is not None:
                x = tier.total_steps if ax is by_steps else (tier.hours or _hours_at(steps, seconds, [tier.step])[0])
                ax.plot([x], [tier.threshold], "*", color="tab:red", ms=12)
                ax.annotate(f"tier {tier.level}", (x, tier.threshold), textcoords="offset points", xytext=(5, 4))
        ax.grid(alpha=0.3)
    steps_axis(by_steps)
    if before:
        by_steps.axvline(before, color="tab:green", lw=0.8)
        by_steps.set_xlabel(f"agent steps (from {before:,}: the agent this run was warm-started from)")
    by_hours.set_xlabel("wall-clock hours of training" + (" (this run's)" if before else ""))
    by_steps.set_ylabel("score per game (raw)")
    by_steps.legend(loc="upper left", fontsize=8)
    fig.suptitle(title, fontsize=10)
    save_png(fig, out)
    return tiers


def describe(tiers: list[TierReach]) -> list[str]:
    lines = []
    for t in tiers:
        if t.step is None:
            lines.append(f"tier {t.level} (>= {t.threshold:g}): not reached yet")
        else:
            head, hours = f"tier {t.level} (>= {t.threshold:g})", f"{t.hours:.1f} h" if t.hours is not None else "? h"
            if t.steps_before:
                lines.append(
                    f"{head}: {t.total_steps:,} steps ({t.steps_before:,} of the agent it started from + "
                    f"{t.step:,} here), {hours} of training in this run"
                )
            else:
                lines.append(f"{head}: {t.step:,} steps, {hours} of training")
    return lines


def thresholds_of(config: Optional[dict[str, Any]]) -> list[float]:
    """A run's ``milestones.thresholds``, from its config as a dict (empty when it sets none)."""
    milestones = (config or {}).get("milestones") or {}
    return [float(x) for x in milestones.get("thresholds") or []]
