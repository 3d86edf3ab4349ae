"""Train every config of an ablation series for every seed: one study, re-runnable.

    simple-game study configs/ablations/dqn_breakout/ --seeds 3 [--parallel 2]
    simple-game study configs/ablations/dqn_breakout/ --seeds 5          # later: only seeds 3 and 4 train

A series is a folder of ``NN_<variant>.yaml`` experiment configs (and an optional
``series.yaml`` with a ``description:``), run and reported in file-name order; see
docs/studies.md. Each (variant, seed) is an ordinary run folder,
``<runs-dir>/<study>_<variant>_seed<N>_<stamp>``, with a ``study.json`` saying where it belongs.
A run that already finished is skipped, an interrupted one is resumed, so the same command
finishes a study after a crash or adds seeds. The exit code is 0 when every run finished,
130 after Ctrl-C (every running run saves a checkpoint), 1 when some run did not finish.

The library side is :mod:`simple_game.studies`; this module only reads the arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from simple_game.cli.common import add_overrides_argument, cli_main
from simple_game.errors import SimpleGameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game study",
        description="Train every NN_<variant>.yaml config of a series folder for every seed, N runs at a time, "
        "skipping runs that already finished and resuming interrupted ones.",
    )
    parser.add_argument(
        "series", metavar="SERIES_DIR", help="folder of NN_<variant>.yaml configs, e.g. configs/ablations/x"
    )
    parser.add_argument(
        "--seeds",
        help="(required) a count (3: seeds 0, 1, 2) or a list (0,1,2) of seeds, each trained for every config",
    )
    parser.add_argument(
        "--parallel",
        metavar="N",
        help="runs trained at once (default 1), each with cores // N threads; at most the number of runs",
    )
    add_overrides_argument(parser, "override a config value in every config (repeatable), e.g. total_timesteps=100000")
    parser.add_argument("--name", help="study name, the start of every run's name (default: the folder's name)")
    parser.add_argument("--runs-dir", default="runs", help="where run directories are created (default: runs)")
    parser.add_argument(
        "--experiments-md",
        default=None,
        help="experiment log the runs append rows to (default: experiments.md for runs/, else in --runs-dir)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what each (config, seed) needs and stop")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.seeds is None:
        raise SimpleGameError("--seeds is required: a count (--seeds 3 trains seeds 0, 1, 2) or a list (--seeds 0,1,2)")
    from simple_game.studies import run_study, series_study  # only now: --help stays light

    plan = series_study(args.series, args.overrides, args.name, args.seeds, args.parallel)
    return run_study(plan, runs_dir=args.runs_dir, experiments_md=args.experiments_md, dry_run=args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
