"""Learning-curve plots of runs: the library side of ``simple-game report``.

Two figures come out of a run's logs:

- a learning curve per run: the training score (``rollout/ep_rew_mean`` from SB3's
  progress.csv) and the evaluation score (eval.csv, mean ± std over the evaluation games)
  against agent steps (``total_timesteps``: one action in one env, ``env.frame_skip`` frames);
- a comparison of several runs: one row of two panels (training score, evaluation score) per
  game, since scores of different games are not on one scale (Breakout's 0-30 would be a flat
  line under MsPacman's 250). Runs that are seeds of one experiment
  (:func:`simple_game.pooling.group_seeds`) are drawn as the median over seeds with an
  interquartile band (:func:`simple_game.stats.aggregate_seeds`);
- a figure per study (:mod:`simple_game.studies`): each variant's curves as median and IQR band,
  and its final scores as the interquartile mean with a 95% bootstrap interval, seeds as dots.

Figures are built with :class:`matplotlib.figure.Figure` and rendered by Agg, without pyplot:
no display is needed (servers, CI, SSH) and no global backend is switched under a notebook.
Only reads files that training already wrote, so it can run while training goes on.
"""

from __future__ import annotations

import csv
import io
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simple_game.errors import SimpleGameError
from simple_game.fsio import atomic_write_bytes
from simple_game.pooling import SeedGroup
from simple_game.runs import RunRecord
from simple_game.stats import Curve, FinalScores, aggregate_seeds

TRAIN_X, TRAIN_Y = "time/total_timesteps", "rollout/ep_rew_mean"
EVAL_X, EVAL_Y, EVAL_STD = "timesteps", "mean_score", "std_score"
DPI = 110


# --------------------------------------------------------------------------- reading the logs


def read_csv_columns(path: Path, required: tuple[str, ...] = ()) -> dict[str, list[float]]:
    """Read a CSV of numbers into ``{column: [values]}``; empty or non-numeric cells become NaN.

    SB3 writes one row per log dump, and a key that is not logged in that dump leaves an
    empty cell, so NaN is normal here; the plotting code simply skips those points.
    """
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns: dict[str, list[float]] = {name: [] for name in (reader.fieldnames or [])}
            for row in reader:
                for name in columns:
                    columns[name].append(_to_float(row.get(name)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SimpleGameError(f"cannot read {path}: {exc}") from None
    missing = [name for name in required if name not in columns]
    if missing:
        found = ", ".join(columns) or "none (empty file?)"
        raise SimpleGameError(
            f"cannot read {path}: no column {', '.join(repr(m) for m in missing)} (columns found: {found})"
        )
    return columns


def _to_float(cell: Any) -> float:
    try:
        return float(cell)
    except (TypeError, ValueError):
        return math.nan


def _xy(columns: dict[str, list[float]], x: str, *ys: str) -> list[list[float]]:
    """Columns x, *ys with every row that has a NaN in any of them dropped, sorted by x."""
    rows = [r for r in zip(columns[x], *(columns[y] for y in ys), strict=True) if not any(math.isnan(v) for v in r)]
    rows.sort(key=lambda r: r[0])
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(1 + len(ys))]


@dataclass
class Curves:
    """The two score curves of a run. Lists are empty when that data does not exist (yet)."""

    train_steps: list[float]
    train_score: list[float]
    eval_steps: list[float]
    eval_mean: list[float]
    eval_std: list[float]


def load_curves(run: RunRecord) -> Curves:
    """The training and evaluation curves of ``run``, from progress.csv and eval.csv."""
    train_steps: list[float] = []
    train_score: list[float] = []
    eval_steps: list[float] = []
    eval_mean: list[float] = []
    eval_std: list[float] = []
    progress = run.directory.progress_csv
    if progress.is_file() and progress.stat().st_size > 0:
        cols = read_csv_columns(progress, required=(TRAIN_X,))
        if TRAIN_Y in cols:  # absent until the first full episode has finished
            train_steps, train_score = _xy(cols, TRAIN_X, TRAIN_Y)
    evals = run.directory.eval_csv
    if evals.is_file() and evals.stat().st_size > 0:
        cols = read_csv_columns(evals, required=(EVAL_X, EVAL_Y))
        if EVAL_STD in cols:
            eval_steps, eval_mean, eval_std = _xy(cols, EVAL_X, EVAL_Y, EVAL_STD)
        else:
            eval_steps, eval_mean = _xy(cols, EVAL_X, EVAL_Y)
            eval_std = [0.0] * len(eval_mean)
    return Curves(train_steps, train_score, eval_steps, eval_mean, eval_std)


# --------------------------------------------------------------------------- figure helpers


def format_steps(steps: Any) -> str:
    """1500000 -> '1.5M', 250000 -> '250k': easier to compare at a glance than raw digits."""
    if steps is None:
        return "n/a"
    n = float(steps)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}"
    return str(int(n))


def steps_axis(ax: Any) -> None:
    """Label the x axis '2.5M' rather than '2500000' (or matplotlib's easy-to-miss '1e7')."""
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_steps(x) if x else "0"))
    ax.set_xlabel("agent steps")


def _score_axis(ax: Any, title: str) -> None:
    ax.set_title(title, fontsize=10)
    steps_axis(ax)
    ax.set_ylabel("score per episode")
    ax.grid(alpha=0.3)


def save_png(fig: Figure, path: Path) -> None:
    """Render ``fig`` to PNG and write it atomically (a crash never leaves half an image)."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, format="png")
    atomic_write_bytes(path, buffer.getvalue())


def _title(run: RunRecord) -> str:
    s = run.summary
    parts = [run.name]
    details = [str(s[k]) for k in ("algo", "game") if s.get(k)]
    if s.get("seed") is not None:
        details.append(f"seed {s['seed']}")
    if details:
        parts.append(" / ".join(details))
    return "\n".join(parts)


# --------------------------------------------------------------------------- one run


def plot_learning_curve(run: RunRecord, curves: Curves, out_path: Path) -> bool:
    """Plot training and evaluation score of one run; False when there is nothing to plot yet.

    Training score is the mean return of the last 100 training episodes. Evaluation score
    is measured separately, on full games, with the greedy/deterministic policy; the shaded
    band is ± one standard deviation over the evaluation episodes.
    """
    if not curves.train_steps and not curves.eval_steps:
        return False
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    if curves.train_steps:
        ax.plot(curves.train_steps, curves.train_score, color="tab:blue", alpha=0.8, label=f"training ({TRAIN_Y})")
    if curves.eval_steps:
        lo = [m - s for m, s in zip(curves.eval_mean, curves.eval_std, strict=True)]
        hi = [m + s for m, s in zip(curves.eval_mean, curves.eval_std, strict=True)]
        ax.plot(curves.eval_steps, curves.eval_mean, "o-", color="tab:orange", label="evaluation (mean ± std)")
        ax.fill_between(curves.eval_steps, lo, hi, color="tab:orange", alpha=0.2)
    _score_axis(ax, _title(run))
    ax.legend(loc="best", fontsize=8)
    save_png(fig, out_path)
    return True


# --------------------------------------------------------------------------- many runs


def _draw_group(ax: Any, group: SeedGroup, series: list[Curve], color: str) -> None:
    """One experiment on one panel: a single run as is, several seeds as median and IQR band."""
    name = f"{group.label} ({group.algo}"
    if len(series) == 1:
        xs, ys = series[0]
        ax.plot(xs, ys, color=color, label=f"{name}, 1 run)")
        return
    agg = aggregate_seeds(series)
    if agg is None:  # seeds do not overlap in steps: show them individually
        for j, (xs, ys) in enumerate(series):
            label = f"{name}, {len(series)} runs, no overlap)" if j == 0 else None
            ax.plot(xs, ys, color=color, alpha=0.6, label=label)
        return
    grid, median, q25, q75 = agg
    ax.plot(grid, median, color=color, label=f"{name}, median of {len(series)} runs, IQR band)")
    ax.fill_between(grid, q25, q75, color=color, alpha=0.2)


Pick = Callable[[Curves], Curve]


def _draw_panel(ax: Any, title: str, groups: Sequence[tuple[SeedGroup, list[Curves]]], pick: Pick) -> None:
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    drawn = False
    for i, (group, members) in enumerate(groups):
        series = [pick(c) for c in members if pick(c)[0]]
        if series:
            _draw_group(ax, group, series, colors[i % len(colors)])
            drawn = True
    _score_axis(ax, title)
    if drawn:
        ax.legend(loc="best", fontsize=7)
    else:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)


def comparison_figure(groups: Sequence[SeedGroup], curves: Mapping[Path, Curves]) -> Figure:
    """One row per game (sorted by name), two panels each: training score and evaluation score.

    Each line is one experiment (:class:`~simple_game.pooling.SeedGroup`), labelled with its
    name and algorithm; ``curves`` maps each run's folder to its :class:`Curves`.
    """
    games = sorted({g.game for g in groups})
    fig = Figure(figsize=(13, 4.6 * len(games)))
    axes = fig.subplots(len(games), 2, squeeze=False)
    for (train_ax, eval_ax), game in zip(axes, games, strict=True):
        row = [(g, [curves[r.path] for r in g.runs]) for g in groups if g.game == game]
        _draw_panel(train_ax, f"{game}: training score (rollout/ep_rew_mean)", row, _train_curve)
        _draw_panel(eval_ax, f"{game}: evaluation score (mean over eval episodes)", row, _eval_curve)
    return fig


def _train_curve(c: Curves) -> Curve:
    return c.train_steps, c.train_score


def _eval_curve(c: Curves) -> Curve:
    return c.eval_steps, c.eval_mean


def plot_comparison(groups: Sequence[SeedGroup], curves: Mapping[Path, Curves], out_path: Path) -> None:
    """Write :func:`comparison_figure` to ``out_path`` as a PNG.

    Runs that are seeds of one experiment are aggregated: the line is the median over seeds and
    the band the interquartile range. An experiment with one run is drawn as is.
    """
    save_png(comparison_figure(groups, curves), out_path)


# --------------------------------------------------------------------------- one study


@dataclass(frozen=True)
class StudyVariant:
    """One line of a study figure: a variant's runs (its seeds) and their final scores."""

    label: str
    curves: list[Curves]
    final: Optional[FinalScores]  # IQM with its bootstrap interval; None with fewer than 2 scored seeds
    per_seed: list[float]  # each seed's final evaluation score


def study_figure(title: str, variants: Sequence[StudyVariant]) -> Figure:
    """Training and evaluation curves (median of the seeds, IQR band) and the final scores (IQM, 95% CI).

    The right panel has one row per variant, in the series' order from the top: each seed's final
    evaluation as a grey dot, the interquartile mean as a diamond (the variant's colour) with its percentile
    bootstrap interval as the bar (:func:`simple_game.stats.summarize_final_scores`).
    """
    fig = Figure(figsize=(16, 4.8))
    train_ax, eval_ax, final_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.2, 1.2, 1]})
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, pick, what in ((train_ax, _train_curve, "training score"), (eval_ax, _eval_curve, "evaluation score")):
        for i, variant in enumerate(variants):
            series = [pick(c) for c in variant.curves if pick(c)[0]]
            if series:
                _draw_band(ax, variant.label, series, colors[i % len(colors)])
        _score_axis(ax, what)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=7)
        else:
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
    _draw_final_scores(final_ax, variants, colors)
    # A series' description can be a paragraph: at most three wrapped lines above the panels.
    fig.suptitle(textwrap.fill(textwrap.shorten(title, 3 * 170, placeholder=" ..."), 170), fontsize=10)
    return fig


def _draw_band(ax: Any, label: str, series: list[Curve], color: str) -> None:
    """A variant's seeds on one panel: the median and the interquartile band, or the one run as is."""
    agg = aggregate_seeds(series) if len(series) > 1 else None
    if agg is None:
        for j, (xs, ys) in enumerate(series):
            ax.plot(
                xs,
                ys,
                color=color,
                alpha=0.8,
                label=f"{label} ({len(series)} run{'s' * (len(series) > 1)})" if j == 0 else None,
            )
        return
    grid, median, q25, q75 = agg
    marker = "o" if len(grid) == 1 else None  # seeds evaluated once: a point, not an invisible line
    ax.plot(grid, median, color=color, marker=marker, label=f"{label} (median of {len(series)} seeds, IQR band)")
    ax.fill_between(grid, q25, q75, color=color, alpha=0.2)


def _draw_final_scores(ax: Any, variants: Sequence[StudyVariant], colors: list[str]) -> None:
    rows = list(range(len(variants)))[::-1]  # the first variant on top
    for i, (y, variant) in enumerate(zip(rows, variants, strict=True)):
        ax.plot(variant.per_seed, [y] * len(variant.per_seed), "o", color="0.6", markersize=4)
        final = variant.final
        if final is not None:
            err = [[final.iqm - final.ci_low], [final.ci_high - final.iqm]]
            ax.errorbar([final.iqm], [y], xerr=err, fmt="D", color=colors[i % len(colors)], capsize=4, markersize=6)
    ax.set_yticks(rows, [v.label for v in variants], fontsize=8)
    ax.set_ylim(-0.7, len(variants) - 0.3)
    ax.set_xlabel("final evaluation score")
    ax.set_title("final score: IQM with 95% bootstrap CI (dots: seeds)", fontsize=10)
    ax.grid(alpha=0.3, axis="x")


def plot_study(title: str, variants: Sequence[StudyVariant], out_path: Path) -> None:
    """Write :func:`study_figure` to ``out_path`` as a PNG."""
    save_png(study_figure(title, variants), out_path)
