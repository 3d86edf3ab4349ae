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
import sys
from pathlib import Path
from typing import Any

from simple_game.cli.common import cli_main
from simple_game.errors import SimpleGameError


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
    # The library (matplotlib, numpy) loads only now, so --help stays instant.
    from simple_game.experiment_log import update_experiments_md
    from simple_game.plots import load_curves, plot_comparison, plot_learning_curve
    from simple_game.runs import find_runs

    runs_dir: Path = args.runs_dir

    matched = find_runs(runs_dir, args.runs)
    if not matched:
        where = f"{runs_dir}/" if runs_dir.is_dir() else f"{runs_dir}/ (that folder does not exist)"
        raise SimpleGameError(
            f"no runs matched '{args.runs}' in {where}; a run is a folder with summary.json or "
            "progress.csv, made by `simple-game train` (check --runs-dir and --runs)"
        )
    everything = matched if args.runs == "*" or args.no_table else find_runs(runs_dir, "*")
    kept = "" if args.no_table else "; its row in the results table is kept as it was"
    for run in everything:
        if run.summary_error is not None:  # one broken run must not stop a report over many
            print(f"warning: {run.summary_error}{kept}", file=sys.stderr)

    if not args.no_table:
        n_rows = update_experiments_md(args.experiments_md, everything)
        print(f"updated {args.experiments_md} ({n_rows} run{'s' if n_rows != 1 else ''} in the results table)")

    out_dir: Path = args.out if args.out is not None else runs_dir / "report"
    all_curves = []
    for run in matched:
        curves = load_curves(run)
        all_curves.append(curves)
        target = (
            out_dir / f"{run.path.name}_learning_curve.png" if args.out is not None else run.path / "learning_curve.png"
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


def __getattr__(name: str) -> Any:
    """``aggregate_seeds`` moved to :mod:`simple_game.stats`; the old import keeps working (numpy loads only then)."""
    if name == "aggregate_seeds":
        from simple_game.stats import aggregate_seeds

        return aggregate_seeds
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main(None))
