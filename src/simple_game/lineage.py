"""The chain of runs behind a shipped agents folder, drawn as one learning curve.

A skilled agent trained on a small machine is often the work of several runs: one trains from
scratch, the next warm-starts (``init_from:``) from an agent the first shipped, and so on.
Each run's logs start at zero, so no single ``progress.csv`` shows how the agent learned. A
folder made by ``simple-game agents ship`` keeps the logs of every run in the chain (the newest
at the top, the others in ``earlier/<run>/``) and lists the runs in order in ``agents.json``;
this module joins them: run k's steps start where its warm start's agent had been trained to
(``summary.json``'s ``init_from.step``), and its hours where run k-1 had trained to at that
step. The part of a run after the step the next one branched from is not part of the chain
(its agent went no further); it is drawn faint.

    simple-game agents curve agents/breakout --out docs/images/breakout_chain.png
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
from matplotlib.figure import Figure

from simple_game.agents import shipping
from simple_game.errors import SimpleGameError
from simple_game.plots import TRAIN_X, TRAIN_Y, read_csv_columns, save_png, steps_axis
from simple_game.runs import RunDirectory
from simple_game.skill_curve import TIME_X, steps_before

# A tier is reached on a shorter window (milestones.window, 20 games) than SB3's ep_rew_mean
# (100 games), so a star can sit above the line: a lucky run of 20 games.
TRAIN_LABEL = "training: mean of the last 100 whole games (ep_rew_mean)"
TIER_LABEL = "tier reached: mean of the last milestones.window games"


@dataclass(frozen=True)
class Segment:
    """One run of the chain: its progress.csv rows, and where it starts on the chain's axes."""

    run: str
    logs: RunDirectory
    steps: list[float]  # this run's own steps, one per progress.csv row
    seconds: list[float]  # its training seconds at each row
    score: list[float]  # its training score at each row (NaN until a game ended)
    steps_before: int  # the chain's steps before this run's first one
    hours_before: float  # the chain's training hours before this run's first step
    branched_at: Optional[int]  # this run's own step the next run started from (None: the last run)


@dataclass(frozen=True)
class Tier:
    """A shipped ``skill_level_K`` on the chain's axes."""

    level: int
    steps: int
    hours: float


def read_index(folder: Path) -> dict[str, Any]:
    """The folder's ``agents.json``, which must list the runs behind it."""
    index = shipping.read_index(folder)
    if not index:
        raise SimpleGameError(f"{folder}: no {shipping.INDEX_NAME} (not a folder made by `simple-game agents ship`)")
    if not isinstance(index.get("runs"), list) or not index["runs"]:
        raise SimpleGameError(
            f"{folder / shipping.INDEX_NAME}: no 'runs' list (ship it again with this version to record its runs)"
        )
    return index


def _progress(logs: RunDirectory) -> tuple[list[float], list[float], list[float]]:
    """(own steps, training seconds, training score) of every row; the score is NaN until a game ended."""
    cols = read_csv_columns(logs.progress_csv, required=(TRAIN_X, TIME_X))
    score_col = cols.get(TRAIN_Y) or [float("nan")] * len(cols[TRAIN_X])
    rows = [r for r in zip(cols[TRAIN_X], cols[TIME_X], score_col, strict=True) if r[0] == r[0] and r[1] == r[1]]
    if not rows:
        raise SimpleGameError(f"{logs.progress_csv}: no rows yet")
    steps, seconds, score = (list(c) for c in zip(*rows, strict=True))
    return steps, seconds, score


def read_chain(folder: Path, index: dict[str, Any]) -> list[Segment]:
    """The folder's runs (``index["runs"]``, in training order), each placed on the chain's steps and hours."""
    runs: list[str] = [str(r) for r in index["runs"]]
    logs = [RunDirectory(folder / "earlier" / r) for r in runs[:-1]] + [RunDirectory(folder)]
    for run, d in zip(runs, logs, strict=True):
        if not d.progress_csv.is_file():
            raise SimpleGameError(f"{folder}: the logs of run {run} are missing ({d.progress_csv})")
    starts = [steps_before(d) for d in logs]
    segments: list[Segment] = []
    hours_before = 0.0
    for i, (run, d) in enumerate(zip(runs, logs, strict=True)):
        branched = starts[i + 1] - starts[i] if i + 1 < len(runs) else None
        if branched is not None and branched < 0:
            raise SimpleGameError(
                f"{folder}: run {runs[i + 1]} starts at step {starts[i + 1]:,}, before run {run} ({starts[i]:,})"
            )
        steps, seconds, score = _progress(d)
        segments.append(Segment(run, d, steps, seconds, score, starts[i], hours_before, branched))
        if branched is not None:
            hours_before += float(np.interp(branched, steps, seconds)) / 3600
    return segments


def chain_tiers(index: dict[str, Any], segments: list[Segment]) -> list[Tier]:
    """Every shipped ``skill_level_K``, at the chain's steps and hours where it was saved."""
    by_run = {s.run: s for s in segments}
    tiers = []
    for agent in index.get("agents") or []:
        name, source = str(agent.get("name", "")), str(agent.get("source", ""))
        segment = by_run.get(source.split("/", 1)[0])
        if not name.startswith("skill_level_") or segment is None or agent.get("step") is None:
            continue
        hours = segment.hours_before + float(agent.get("wall_time_s") or 0.0) / 3600
        tiers.append(Tier(int(name.rsplit("_", 1)[1]), segment.steps_before + int(agent["step"]), hours))
    return sorted(tiers, key=lambda t: t.level)


def _draw_segment(by_steps: Any, by_hours: Any, seg: Segment, first: bool) -> None:
    """One run's training line (faint after the step the next run branched from) and its evaluations."""
    steps, seconds, score = seg.steps, seg.seconds, seg.score
    cut = len(steps) if seg.branched_at is None else int(np.searchsorted(steps, seg.branched_at, side="right"))
    for ax, x0, x in (
        (by_steps, seg.steps_before, [s + seg.steps_before for s in steps]),
        (by_hours, seg.hours_before, [seg.hours_before + t / 3600 for t in seconds]),
    ):
        ax.plot(x[:cut], score[:cut], color="tab:blue", alpha=0.85, label=TRAIN_LABEL if first else None)
        ax.plot(x[cut:], score[cut:], color="tab:blue", alpha=0.2)
        if not first:
            ax.axvline(x0, color="tab:green", lw=0.6, alpha=0.6)
    if not seg.logs.eval_csv.is_file():
        return
    evals = read_csv_columns(seg.logs.eval_csv, required=("timesteps", "mean_score"))
    kept = [
        (at, mean)
        for at, mean in zip(evals["timesteps"], evals["mean_score"], strict=True)
        if seg.branched_at is None or at <= seg.branched_at
    ]
    if kept:
        at, mean = (list(c) for c in zip(*kept, strict=True))
        hours = [seg.hours_before + h / 3600 for h in np.interp(at, steps, seconds)]
        label = "evaluation: 10 whole games, greedy, epsilon 0.05" if first else None
        by_steps.plot([a + seg.steps_before for a in at], mean, "o", color="tab:orange", ms=4, label=label)
        by_hours.plot(hours, mean, "o", color="tab:orange", ms=4)


def _draw_tiers(ax: Any, tiers: list[Tier], thresholds: list[float], by_steps: bool) -> None:
    for threshold in thresholds:
        ax.axhline(threshold, color="grey", ls="--", lw=0.8)
    for k, tier in enumerate(t for t in tiers if t.level <= len(thresholds)):
        x, y = (tier.steps if by_steps else tier.hours), thresholds[tier.level - 1]
        ax.plot([x], [y], "*", color="tab:red", ms=12, label=TIER_LABEL if k == 0 and by_steps else None)
        ax.annotate(f"tier {tier.level}", (x, y), textcoords="offset points", xytext=(5, 4))
    ax.grid(alpha=0.3)


def plot_chain(folder: Path, index: dict[str, Any], thresholds: list[float], out: Path, title: str) -> list[Tier]:
    """Training and evaluation score of the whole chain against steps and hours; writes ``out`` (PNG).

    ``index``: the folder's :func:`read_index`."""
    segments = read_chain(folder, index)
    tiers = chain_tiers(index, segments)
    fig = Figure(figsize=(11, 4.2))
    by_steps, by_hours = fig.subplots(1, 2, sharey=True)
    for n, seg in enumerate(segments):
        _draw_segment(by_steps, by_hours, seg, first=n == 0)
    _draw_tiers(by_steps, tiers, thresholds, by_steps=True)
    _draw_tiers(by_hours, tiers, thresholds, by_steps=False)
    steps_axis(by_steps)
    by_steps.set_xlabel("agent steps, whole chain (green: a run warm-started from the one before)")
    by_hours.set_xlabel("wall-clock hours of training, whole chain (each run's clock)")
    by_steps.set_ylabel("score per game (raw)")
    by_steps.legend(loc="lower right", fontsize=8)
    fig.suptitle(title, fontsize=10)
    save_png(fig, out)
    return tiers


def describe(tiers: list[Tier], thresholds: list[float]) -> list[str]:
    """One line per tier: ``tier 2 (>= 150): 6,051,952 steps, 15.2 h of training``."""
    lines = []
    for t in tiers:
        bar = f" (>= {thresholds[t.level - 1]:g})" if t.level <= len(thresholds) else ""
        lines.append(f"tier {t.level}{bar}: {t.steps:,} steps, {t.hours:.1f} h of training")
    return lines
