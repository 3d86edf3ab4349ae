"""Summarise runs: the results and studies tables in experiments.md, and learning-curve plots.

    python -m simple_game.report                       # every run under runs/
    python -m simple_game.report --runs 'ppo_pong*'    # plot only the matching runs
    simple-game report --no-table                      # plots only, leave experiments.md alone

What it writes (every place is checked first: a bad one is a one-line error, nothing written):

- the experiment log (``experiments.md`` here for ``--runs-dir runs``, else ``<runs-dir>/...``):
  the results table (between ``<!-- results:start/end -->``) rebuilt from every summary.json,
  keeping rows of runs that are gone, and the studies table (``<!-- studies:start/end -->``
  under ``## Studies``): per experiment with 2+ seeds, the final scores (each run's last
  evaluation) as IQM [95% bootstrap CI], median (IQR), per seed. Notes outside stay byte for byte.
- ``<run>/learning_curve.png`` per matched run: training score (``rollout/ep_rew_mean``)
  and evaluation score (mean ± std over the evaluation episodes) against agent steps.
- ``<out>/comparison.png``: one row of two panels (training, evaluation) per game (games do
  not share a score scale). Runs of one name whose configs, budget included, differ only in
  ``seed`` and run-only settings (``runs.RUN_ONLY_SETTINGS``: device, logging, eval cadence, ...)
  are seeds: drawn as median and interquartile band, summarised in one printed line each; it
  prints what it pooled and the first settings in which kept-apart runs of one name differ.
- ``<out>/study_<name>.png`` per study (docs/studies.md): curves as median and IQR band, final IQM [95% CI].

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
        "per run, plus a comparison of the matched runs with one row of panels per game. Runs with the "
        "same name and config, budget included, that differ only in seed and run-only settings (device, "
        "logging, checkpoints, eval cadence) are drawn as median and interquartile range.",
    )
    parser.add_argument("--runs-dir", default="runs", type=Path, help="folder of the run folders (default: runs)")
    parser.add_argument(
        "--runs",
        default="*",
        metavar="GLOB",
        help="which run folders to plot, a shell-style pattern such as 'ppo_pong*' (default: all); the table lists all",
    )
    parser.add_argument(
        "--experiments-md", type=Path, help="the log to rebuild (default: experiments.md for runs, else in --runs-dir)"
    )
    parser.add_argument(
        "--out", type=Path, help="folder for every plot (default: <runs-dir>/report, per-run curves in each run folder)"
    )
    parser.add_argument("--no-table", action="store_true", help="do not touch experiments.md")
    parser.add_argument(
        "--skill-curves",
        action="store_true",
        help="also plot, for each run with milestones.thresholds, score against steps and against hours of "
        "training with the skill tiers marked (skill_curve.png), and print when each tier was reached",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parser


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The library (matplotlib, numpy) loads only now, so --help stays instant.
    from simple_game.experiment_log import default_log_path, studies_of, update_experiments_md
    from simple_game.pooling import group_seeds
    from simple_game.runs import find_runs

    runs_dir: Path = args.runs_dir
    matched = find_runs(runs_dir, args.runs)
    if not matched:
        missing = "that is a file, not a folder" if runs_dir.exists() else "that folder does not exist"
        where = f"{runs_dir}/" if runs_dir.is_dir() else f"{runs_dir}/ ({missing})"
        hint = "a run is a folder with summary.json or progress.csv, made by `simple-game train`"
        raise SimpleGameError(f"no runs matched '{args.runs}' in {where}; {hint} (check --runs-dir and --runs)")
    md: Path = args.experiments_md or default_log_path(runs_dir)
    out_dir: Path = args.out if args.out is not None else runs_dir / "report"
    targets = {
        run.path: out_dir / f"{run.path.name}_learning_curve.png" if args.out else run.path / "learning_curve.png"
        for run in matched
    }
    skill_targets = {p: t.with_name(t.name.replace("learning_curve", "skill_curve")) for p, t in targets.items()}
    plots = [*targets.values(), *(skill_targets.values() if args.skill_curves else [])]
    _check_outputs(args, None if args.no_table else md, out_dir, plots)
    from simple_game.plots import load_curves
    from simple_game.studies.figures import draw_study_figures, plan_study_figures

    figures = plan_study_figures(matched, out_dir)  # a figure per study, its place checked before any writing
    curves = {run.path: load_curves(run) for run in matched}  # a broken CSV stops us before any writing
    everything = matched if args.runs == "*" or args.no_table else find_runs(runs_dir, "*")
    kept = "" if args.no_table else "; its row in the results table is kept as it was"
    for run in everything:
        if run.summary_error is not None:  # one broken run must not stop a report over many
            print(f"warning: {run.summary_error}{kept}", file=sys.stderr)
    if not args.no_table:
        n_rows = update_experiments_md(md, everything, studies_of(group_seeds(everything)))
        print(f"updated {md} ({n_rows} run{'s' if n_rows != 1 else ''} in the results table)")
        from simple_game.sweep.table import update_sweeps_table  # sweeps' own reports, from their sweep.json

        if n_sweeps := update_sweeps_table(md, runs_dir):
            print(f"updated {md} ({n_sweeps} sweep{'s' if n_sweeps != 1 else ''} in the sweeps table)")
    _plot(matched, curves, targets, out_dir / "comparison.png")
    draw_study_figures(figures, curves, echo=print)
    if args.skill_curves:
        _skill_curves(matched, skill_targets)
    return 0


def _skill_curves(matched: list[Any], targets: dict[Path, Path]) -> None:
    """Time to skill of each run that sets skill tiers (simple_game.skill_curve)."""
    from simple_game.skill_curve import describe, plot_skill_curve, thresholds_of

    for run in matched:
        thresholds = thresholds_of(run.config())
        if not thresholds:
            print(f"skipped {run.path.name}: its config sets no milestones.thresholds")
            continue
        tiers = plot_skill_curve(run.directory, thresholds, targets[run.path], f"{run.name} ({run.path.name})")
        for line in describe(tiers):
            print(f"  {run.path.name}: {line}")
        print(f"wrote {targets[run.path]}")


def _check_outputs(args: argparse.Namespace, md: Path | None, out_dir: Path, plots: list[Path]) -> None:
    """Every place the report writes, checked before it writes anything (one-line errors)."""
    from simple_game.outputs import check_writable_dir, check_writable_file

    if md is not None:
        check_writable_file(md, "--experiments-md" if args.experiments_md else "experiment log (--experiments-md)")
    check_writable_dir(out_dir, "--out" if args.out else "report folder (--out)")
    check_writable_file(out_dir / "comparison.png", "comparison plot")
    for plot in plots:
        try:
            check_writable_file(plot, "skill curve" if plot.name.endswith("skill_curve.png") else "learning curve")
        except SimpleGameError as exc:
            hint = "" if args.out else " (pass --out to write the plots elsewhere)"
            raise SimpleGameError(f"{exc}{hint}") from None


def _plot(matched: list[Any], curves: dict[Path, Any], targets: dict[Path, Path], comparison: Path) -> None:
    """One learning curve per run, then the comparison, saying what was pooled and why not."""
    from simple_game.experiment_log import studies_of
    from simple_game.plots import plot_comparison, plot_learning_curve
    from simple_game.pooling import describe_pooling, group_seeds

    for run in matched:
        if plot_learning_curve(run, curves[run.path], targets[run.path]):
            print(f"wrote {targets[run.path]}")
        else:
            print(f"skipped {run.path.name}: no finished episodes or evaluations logged yet")
    groups = group_seeds(matched)
    for line in describe_pooling(groups) + [study.line() for study in studies_of(groups)]:
        print(line)
    plot_comparison(groups, curves, comparison)
    described = ", ".join(f"{g.label} x{len(g.runs)}" if len(g.runs) > 1 else g.label for g in groups)
    print(f"wrote {comparison} ({described})")


def __getattr__(name: str) -> Any:
    """``aggregate_seeds`` moved to :mod:`simple_game.stats`; the old import keeps working (numpy loads only then)."""
    if name == "aggregate_seeds":
        return __import__("simple_game.stats", fromlist=["aggregate_seeds"]).aggregate_seeds
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main(None))
