"""Summarise runs: the results table in experiments.md, and learning-curve plots.

    python -m simple_game.report                       # every run under runs/
    python -m simple_game.report --runs 'ppo_pong*'    # plot only the matching runs
    simple-game report --no-table                      # plots only, leave experiments.md alone

What it writes:

- ``experiments.md``: the table between ``<!-- results:start -->`` and
  ``<!-- results:end -->`` is rebuilt from every ``runs/*/summary.json``, oldest first.
  Rows of runs that are not under ``runs/`` (deleted, moved, or never on this machine:
  ``runs/`` is git-ignored, experiments.md is not) are kept as written, so the log never
  shrinks. Everything outside the two markers (your notes!) is kept byte for byte.
- ``<run>/learning_curve.png`` for each matched run: the training score
  (``rollout/ep_rew_mean`` from progress.csv) and the evaluation score (eval.csv,
  mean ± std over the evaluation episodes) against environment steps.
- ``<out>/comparison.png``: all matched runs on one figure. Runs with the same name and
  the same config that differ only in ``seed`` are one experiment: they are drawn as the
  median over seeds with an interquartile band (``--set seed=1``, ``--set seed=2``, ...).

Only reads files that training already wrote, so it can run while training goes on.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simple_game.cli.common import cli_main
from simple_game.errors import SimpleGameError
from simple_game.experiment_log import (
    EXPERIMENTS_TEMPLATE,
    format_results_row,
)
from simple_game.experiment_log import (
    RESULTS_END as END_MARKER,
)
from simple_game.experiment_log import (
    RESULTS_HEADER as TABLE_HEADER,
)
from simple_game.experiment_log import (
    RESULTS_START as START_MARKER,
)
from simple_game.fsio import atomic_write_text

# Statuses that get a row in the results table. "running" and "failed" runs have no
# meaningful final score; an interrupted run (Ctrl-C) did real work, so it is listed, marked.
TABLE_STATUSES = ("finished", "interrupted")

TRAIN_X, TRAIN_Y = "time/total_timesteps", "rollout/ep_rew_mean"
EVAL_X, EVAL_Y, EVAL_STD = "timesteps", "mean_score", "std_score"
_RUN_SUFFIX = re.compile(r"_\d{8}-\d{6}(-\d+)?$")  # _YYYYmmdd-HHMMSS, -2 if that existed
_SEED_SUFFIX = re.compile(r"[_-](seed|s)\d+$")  # ppo_pong_seed1, ppo_pong-s2
# Config keys that may differ between runs that still count as "the same config, another seed".
NOT_PART_OF_CONFIG = ("name", "seed", "total_timesteps", "device", "logging", "checkpoint", "video", "milestones")


# --------------------------------------------------------------------------- runs


@dataclass
class Run:
    """One run directory and its summary.json (an empty dict when it has none)."""

    path: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.summary.get("experiment") or self.path.name)

    @property
    def base_name(self) -> str:
        """The experiment name without its ``_YYYYmmdd-HHMMSS`` stamp or a ``_seed3`` suffix."""
        return _SEED_SUFFIX.sub("", _RUN_SUFFIX.sub("", self.path.name))

    def config_fingerprint(self) -> str:
        """The run's resolved config.yaml without seed, name and bookkeeping keys ('' if unreadable).

        Two runs with the same base name but, say, different learning rates must not be
        averaged together as if they were seeds of one experiment.
        """
        import yaml

        try:
            data = yaml.safe_load((self.path / "config.yaml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return ""
        if not isinstance(data, dict):
            return ""
        for key in NOT_PART_OF_CONFIG:
            data.pop(key, None)
        return json.dumps(data, sort_keys=True, default=str)

    @property
    def sort_key(self) -> tuple[str, str]:
        """Oldest first, by the date the table shows (finish time, else start time)."""
        when = str(self.summary.get("finished_at") or self.summary.get("started_at") or "")
        if not when:
            match = re.search(r"_(\d{8})-(\d{6})$", self.path.name)
            if match:
                d, t = match.groups()
                when = f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:]}"
        return (when, self.name)


def read_summary(path: Path) -> dict[str, Any]:
    """Load a summary.json; a broken one is a user-facing error, not a traceback."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimpleGameError(f"cannot read {path}: {exc} (fix or delete that file)") from None
    if not isinstance(data, dict):
        raise SimpleGameError(f"cannot read {path}: expected a JSON object, got {type(data).__name__}")
    return data


def find_runs(runs_dir: Path, pattern: str = "*") -> list[Run]:
    """Run directories under ``runs_dir`` whose name matches ``pattern``, oldest first.

    A run directory is one with a summary.json, or at least a progress.csv / eval.csv
    (a run that crashed before writing its summary can still be plotted).
    """
    if not runs_dir.is_dir():
        return []
    runs = []
    for path in sorted(runs_dir.iterdir()):
        if not path.is_dir() or not fnmatch.fnmatchcase(path.name, pattern):
            continue
        summary_file = path / "summary.json"
        if summary_file.is_file():
            runs.append(Run(path, read_summary(summary_file)))
        elif (path / "progress.csv").is_file() or (path / "eval.csv").is_file():
            runs.append(Run(path))
    return sorted(runs, key=lambda r: r.sort_key)


# --------------------------------------------------------------------------- csv


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
    rows = [r for r in zip(columns[x], *(columns[y] for y in ys)) if not any(math.isnan(v) for v in r)]
    rows.sort(key=lambda r: r[0])
    return [list(col) for col in zip(*rows)] if rows else [[] for _ in range(1 + len(ys))]


@dataclass
class Curves:
    """The two score curves of a run. Lists are empty when that data does not exist (yet)."""

    train_steps: list[float]
    train_score: list[float]
    eval_steps: list[float]
    eval_mean: list[float]
    eval_std: list[float]


def load_curves(run: Run) -> Curves:
    train_steps: list[float] = []
    train_score: list[float] = []
    eval_steps: list[float] = []
    eval_mean: list[float] = []
    eval_std: list[float] = []
    progress = run.path / "progress.csv"
    if progress.is_file() and progress.stat().st_size > 0:
        cols = read_csv_columns(progress, required=(TRAIN_X,))
        if TRAIN_Y in cols:  # absent until the first full episode has finished
            train_steps, train_score = _xy(cols, TRAIN_X, TRAIN_Y)
    evals = run.path / "eval.csv"
    if evals.is_file() and evals.stat().st_size > 0:
        cols = read_csv_columns(evals, required=(EVAL_X, EVAL_Y))
        if EVAL_STD in cols:
            eval_steps, eval_mean, eval_std = _xy(cols, EVAL_X, EVAL_Y, EVAL_STD)
        else:
            eval_steps, eval_mean = _xy(cols, EVAL_X, EVAL_Y)
            eval_std = [0.0] * len(eval_mean)
    return Curves(train_steps, train_score, eval_steps, eval_mean, eval_std)


# --------------------------------------------------------------------------- table


def _fmt_steps(steps: Any) -> str:
    """1500000 -> '1.5M', 250000 -> '250k': easier to compare at a glance than raw digits."""
    if steps is None:
        return "n/a"
    n = float(steps)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}"
    return str(int(n))


def format_row(summary: dict[str, Any], run_dir: str) -> str:
    """One results-table row, in the same format ``simple-game train`` appends (runs.py)."""
    row = dict(summary, run_dir=run_dir)
    if summary.get("status") == "interrupted":
        row["experiment"] = f"{summary.get('experiment') or Path(run_dir).name} (interrupted)"
    return format_results_row(row) + "\n"


def build_table(runs: list[Run], relative_to: Path, kept_rows: Sequence[str] = ()) -> str:
    """Header plus one row per finished (or interrupted) run and each kept row, oldest first."""
    dated: list[tuple[str, str]] = [(_row_date(row), row) for row in kept_rows]
    for run in runs:
        if run.summary.get("status") not in TABLE_STATUSES:
            continue
        try:
            run_dir = os.path.relpath(run.path.resolve(), relative_to.resolve())
        except ValueError:  # different drive on Windows
            run_dir = str(run.path)
        row = format_row(run.summary, Path(run_dir).as_posix())
        dated.append((_row_date(row), row))
    dated.sort(key=lambda pair: pair[0])  # stable: same-minute rows keep their order
    return TABLE_HEADER + "".join(row for _, row in dated)


def _row_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _row_date(row: str) -> str:
    return _row_cells(row)[0]


def rows_to_keep(text: str, runs: list[Run], relative_to: Path) -> list[str]:
    """Rows of the current table whose run is not among ``runs`` (so cannot be rebuilt)."""
    if START_MARKER not in text or END_MARKER not in text:
        return []
    body = text.split(START_MARKER, 1)[1].split(END_MARKER, 1)[0]
    header_first_line = TABLE_HEADER.splitlines()[0]
    scanned = {run.path.resolve() for run in runs}
    # Folder names carry a timestamp, so the name alone also identifies a run (a table
    # written from another working directory has other relative paths).
    scanned_names = {run.path.name for run in runs}
    kept = []
    for line in body.splitlines():
        line = line.rstrip("\r")
        if not line.startswith("|") or line == header_first_line or set(line) <= set("|-: "):
            continue
        run_dir = _row_cells(line)[-1]
        if run_dir and (Path(run_dir).name in scanned_names or (relative_to / run_dir).resolve() in scanned):
            continue  # rebuilt from its summary.json (or left out while it runs / if it failed)
        kept.append(line + "\n")
    return kept


def replace_between_markers(text: str, table: str, md_path: Path) -> str:
    """Return ``text`` with everything between the two marker lines replaced by ``table``.

    Only the bytes strictly between the end of the start-marker line and the beginning
    of the end-marker line change, so notes above and below stay exactly as written
    (including Windows line endings, which the table then uses too).
    """
    starts, ends = text.count(START_MARKER), text.count(END_MARKER)
    how_to_fix = (
        f"put the two lines '{START_MARKER}' and '{END_MARKER}' (once each, start first) "
        "under '## Results' where the table should go"
    )
    if starts == 0 or ends == 0:
        missing = START_MARKER if starts == 0 else END_MARKER
        raise SimpleGameError(f"{md_path} has no '{missing}' marker: {how_to_fix}, or pass --no-table")
    if starts > 1 or ends > 1:
        raise SimpleGameError(f"{md_path} has the results markers more than once: {how_to_fix}")
    start = text.index(START_MARKER)
    end = text.index(END_MARKER)
    if end < start:
        raise SimpleGameError(f"{md_path}: '{END_MARKER}' comes before '{START_MARKER}': {how_to_fix}")
    newline = "\r\n" if "\r\n" in text else "\n"
    body_start = text.find("\n", start)
    if body_start == -1 or body_start > end:  # both markers on one line
        raise SimpleGameError(f"{md_path}: the results markers must be on separate lines: {how_to_fix}")
    body_start += 1
    body_end = text.rfind("\n", 0, end) + 1  # start of the end-marker line
    if text[body_end:end].strip():
        raise SimpleGameError(f"{md_path}: '{END_MARKER}' must be on a line of its own: {how_to_fix}")
    return text[:body_start] + table.replace("\n", newline) + text[body_end:]


def update_experiments_md(md_path: Path, runs: list[Run]) -> int:
    """Rebuild the results table in ``md_path``; returns the number of rows written."""
    if md_path.exists():
        try:
            with md_path.open(encoding="utf-8", newline="") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise SimpleGameError(f"cannot read {md_path}: {exc}") from None
    else:
        text = EXPERIMENTS_TEMPLATE
    kept = rows_to_keep(text, runs, md_path.parent)
    table = build_table(runs, md_path.parent, kept)
    new_text = replace_between_markers(text, table, md_path)
    if not md_path.exists() or new_text != text:
        # temp file + os.replace: a crash leaves the old file or the new one, never notes cut off
        atomic_write_text(md_path, new_text)
    return table.count("\n") - 2


# --------------------------------------------------------------------------- plots


def _pyplot():
    """matplotlib with the Agg backend: renders PNGs without a display (servers, CI, SSH)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _steps_axis(ax: Any) -> None:
    """Label the x axis '2.5M' rather than '2500000' (or matplotlib's easy-to-miss '1e7')."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _fmt_steps(x) if x else "0"))
    ax.set_xlabel("environment steps")


def _save(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, format="png")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; a plot should be readable like any file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _title(run: Run) -> str:
    s = run.summary
    parts = [run.name]
    details = [str(s[k]) for k in ("algo", "game") if s.get(k)]
    if s.get("seed") is not None:
        details.append(f"seed {s['seed']}")
    if details:
        parts.append(" / ".join(details))
    return "\n".join(parts)


def plot_learning_curve(run: Run, curves: Curves, out_path: Path) -> bool:
    """Plot training and evaluation score of one run; False when there is nothing to plot yet.

    Training score is the mean return of the last 100 training episodes. Evaluation score
    is measured separately, on full games, with the greedy/deterministic policy; the shaded
    band is ± one standard deviation over the evaluation episodes.
    """
    if not curves.train_steps and not curves.eval_steps:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    try:
        if curves.train_steps:
            ax.plot(curves.train_steps, curves.train_score, color="tab:blue", alpha=0.8, label=f"training ({TRAIN_Y})")
        if curves.eval_steps:
            lo = [m - s for m, s in zip(curves.eval_mean, curves.eval_std)]
            hi = [m + s for m, s in zip(curves.eval_mean, curves.eval_std)]
            ax.plot(curves.eval_steps, curves.eval_mean, "o-", color="tab:orange", label="evaluation (mean ± std)")
            ax.fill_between(curves.eval_steps, lo, hi, color="tab:orange", alpha=0.2)
        ax.set_title(_title(run), fontsize=10)
        _steps_axis(ax)
        ax.set_ylabel("score per episode")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        _save(fig, out_path)
    finally:
        plt.close(fig)
    return True


def aggregate_seeds(curves: list[tuple[list[float], list[float]]], points: int = 200):
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
    import numpy as np

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


def group_runs(runs: list[Run], all_curves: list[Curves]) -> dict[str, list[Curves]]:
    """Group runs that are seeds of one experiment: same base name and same config.

    Runs of one name whose configs differ (e.g. a ``--set hyperparams.learning_rate=...``
    variant) become separate groups, labelled ``name (config 2)`` and so on.
    """
    by_key: dict[tuple[str, str], list[Curves]] = {}
    for run, curves in zip(runs, all_curves):
        by_key.setdefault((run.base_name, run.config_fingerprint()), []).append(curves)
    groups: dict[str, list[Curves]] = {}
    variants: dict[str, int] = {}
    for (name, _), members in by_key.items():
        variants[name] = variants.get(name, 0) + 1
        label = name if variants[name] == 1 else f"{name} (config {variants[name]})"
        groups[label] = members
    return groups


def plot_comparison(runs: list[Run], all_curves: list[Curves], out_path: Path) -> dict[str, int]:
    """One figure, two panels (training score, evaluation score), one line per config.

    Runs that are seeds of one config (``group_runs``) are aggregated: the line is the
    median over seeds and the band the interquartile range. A config with one run is drawn
    as is.
    Returns {group: number of runs}.
    """
    groups = group_runs(runs, all_curves)

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharex=False)
    try:
        panels = (
            (axes[0], "training score (rollout/ep_rew_mean)", lambda c: (c.train_steps, c.train_score)),
            (axes[1], "evaluation score (mean over eval episodes)", lambda c: (c.eval_steps, c.eval_mean)),
        )
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for ax, title, pick in panels:
            drawn = False
            for i, (group, members) in enumerate(sorted(groups.items())):
                color = colors[i % len(colors)]
                series = [pick(c) for c in members if pick(c)[0]]
                if not series:
                    continue
                if len(series) == 1:
                    xs, ys = series[0]
                    ax.plot(xs, ys, color=color, label=f"{group} (1 run)")
                    drawn = True
                    continue
                agg = aggregate_seeds(series)
                if agg is None:  # seeds do not overlap in steps: show them individually
                    for j, (xs, ys) in enumerate(series):
                        ax.plot(
                            xs,
                            ys,
                            color=color,
                            alpha=0.6,
                            label=f"{group} ({len(series)} runs, no overlap)" if j == 0 else None,
                        )
                else:
                    grid, median, q25, q75 = agg
                    ax.plot(grid, median, color=color, label=f"{group} (median of {len(series)} runs, IQR band)")
                    ax.fill_between(grid, q25, q75, color=color, alpha=0.2)
                drawn = True
            ax.set_title(title, fontsize=10)
            _steps_axis(ax)
            ax.set_ylabel("score per episode")
            ax.grid(alpha=0.3)
            if drawn:
                ax.legend(loc="best", fontsize=7)
            else:
                ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        _save(fig, out_path)
    finally:
        plt.close(fig)
    return {group: len(members) for group, members in groups.items()}


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game report",
        description="Rebuild the results table in experiments.md and plot learning curves: one PNG "
        "per run, plus a comparison of the matched runs in which runs with the same name and config "
        "(differing only in seed) are drawn as median and interquartile range.",
    )
    parser.add_argument(
        "--runs-dir", default="runs", type=Path, help="folder that holds the run folders (default: runs)"
    )
    parser.add_argument(
        "--runs",
        default="*",
        metavar="GLOB",
        help="which run folders to plot, a shell-style pattern on the folder name "
        "such as 'ppo_pong*' (default: all). The table always lists every run.",
    )
    parser.add_argument(
        "--experiments-md",
        default="experiments.md",
        type=Path,
        help="the lab notebook whose results table is rebuilt (default: experiments.md)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the comparison plot (default: <runs-dir>/report). When "
        "given, per-run curves go there too instead of into each run folder.",
    )
    parser.add_argument("--no-table", action="store_true", help="do not touch experiments.md")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parser


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runs_dir: Path = args.runs_dir

    matched = find_runs(runs_dir, args.runs)
    if not matched:
        where = f"{runs_dir}/" if runs_dir.is_dir() else f"{runs_dir}/ (that folder does not exist)"
        raise SimpleGameError(
            f"no runs matched '{args.runs}' in {where}; a run is a folder with summary.json or "
            "progress.csv, made by `simple-game train` (check --runs-dir and --runs)"
        )

    if not args.no_table:
        everything = matched if args.runs == "*" else find_runs(runs_dir, "*")
        n_rows = update_experiments_md(args.experiments_md, everything)
        print(f"updated {args.experiments_md} ({n_rows} run{'s' if n_rows != 1 else ''} in the results table)")

    out_dir: Path = args.out if args.out is not None else runs_dir / "report"
    all_curves = []
    for run in matched:
        curves = load_curves(run)
        all_curves.append(curves)
        target = (
            (out_dir / f"{run.path.name}_learning_curve.png")
            if args.out is not None
            else run.path / "learning_curve.png"
        )
        if plot_learning_curve(run, curves, target):
            print(f"wrote {target}")
        else:
            print(f"skipped {run.path.name}: no finished episodes or evaluations logged yet")

    comparison = out_dir / "comparison.png"
    groups = plot_comparison(matched, all_curves, comparison)
    described = ", ".join(f"{g} x{n}" if n > 1 else g for g, n in sorted(groups.items()))
    print(f"wrote {comparison} ({described})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
