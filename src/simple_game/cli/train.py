"""Train an agent from a YAML experiment file, or continue a run.

    python -m simple_game.train --config configs/ppo_breakout.yaml [--set key.path=value ...] [--name NAME]
    python -m simple_game.train --resume runs/ppo_breakout_20250101-120000 [--set total_timesteps=N]
                                [--schedules continue|stretch]
    python -m simple_game.train --config configs/ppo_breakout.yaml --seeds 3 [--parallel 3]

``--seeds`` trains one run per seed (``<name>_seed<N>``), grouped as one study: see
:mod:`simple_game.studies` and docs/studies.md.

Ctrl-C or SIGTERM saves a checkpoint, marks ``summary.json`` ``interrupted`` and exits 130;
``--resume`` continues from there. A NaN/inf loss or weight stops the run (``failed``, exit 3)
and keeps the last good checkpoint.

The training itself is :mod:`simple_game.training`; this module only reads the arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from simple_game.cli.common import add_overrides_argument, cli_main
from simple_game.errors import SimpleGameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game train",
        description="Train PPO, A2C, DQN or QR-DQN on an Atari game from a YAML experiment file.",
    )
    parser.add_argument("--config", "-c", help="experiment YAML, e.g. configs/ppo_breakout.yaml")
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help=(
            "continue runs/<experiment> from its latest checkpoint "
            "(uses its saved config; --set may change only total_timesteps, device, compute.threads, "
            "compute.heap_reuse, eval, checkpoint, logging, video, milestones)"
        ),
    )
    parser.add_argument(
        "--schedules",
        choices=("continue", "stretch"),
        default=None,
        help=(
            "with --resume and a larger budget: continue (default: each schedule goes from its value at the "
            "checkpoint to its final value over the added steps) or stretch (SB3's plain behaviour: re-stretched "
            "over the new budget, so the learning rate jumps back up)"
        ),
    )
    add_overrides_argument(parser, "override a config value (repeatable), e.g. --set env.n_envs=4")
    parser.add_argument("--name", help="experiment name (default: the config file's name)")
    parser.add_argument(
        "--seeds",
        help="train one run per seed as one study: a count (3: seeds 0, 1, 2) or a list (0,1,2); "
        "finished seeds are skipped and interrupted ones resumed when the same command runs again",
    )
    parser.add_argument(
        "--parallel", metavar="N", help="with --seeds: runs at once (default 1), cores // N threads each"
    )
    parser.add_argument("--runs-dir", default="runs", help="where run directories are created (default: runs)")
    parser.add_argument(
        "--experiments-md",
        default=None,
        help="experiment log to append a row to (default: experiments.md next to the runs directory)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    progress = not args.no_progress
    if args.seeds is not None or args.parallel is not None:
        return _seeds(args)
    if args.resume:
        if args.config or args.name:
            raise SimpleGameError(
                "--resume continues a run with its own saved config.yaml: drop --config/--name "
                "(to train longer: --set total_timesteps=N)"
            )
        from simple_game.training import resume_run

        return resume_run(
            args.resume,
            args.overrides,
            experiments_md=args.experiments_md,
            progress=progress,
            exiting=_is_cli_process(),
            schedules=args.schedules or "continue",
        )
    if args.schedules:
        raise SimpleGameError("--schedules applies to --resume only (a new run's schedules span its budget)")
    if not args.config:
        raise SimpleGameError(
            "--config is required, e.g. --config configs/ppo_breakout.yaml (or --resume runs/<experiment>)"
        )
    from simple_game.config import load_config

    # The config is checked before the training library (torch, SB3) is imported: a typo is reported at once.
    cfg = load_config(args.config, overrides=args.overrides, name=args.name)
    from simple_game.training import train_new

    return train_new(
        cfg,
        runs_dir=args.runs_dir,
        experiments_md=args.experiments_md,
        progress=progress,
        exiting=_is_cli_process(),
    )


def _seeds(args: argparse.Namespace) -> int:
    """``--seeds``: the seeds of one config as one study (:mod:`simple_game.studies`)."""
    if args.resume or args.schedules or not args.config or args.seeds is None:
        what = "--config X --seeds S" if args.resume or args.schedules else "--config and --seeds"
        raise SimpleGameError(f"--seeds/--parallel: need {what} (resume one seed's run with --resume RUN_DIR alone)")
    from simple_game.studies import run_study, seed_study

    plan = seed_study(args.config, args.overrides, args.name, args.seeds, args.parallel)
    return run_study(plan, runs_dir=args.runs_dir, experiments_md=args.experiments_md)


def _is_cli_process() -> bool:
    """True when this process is the ``train`` command itself (not a notebook calling ``main``)."""
    return Path(sys.argv[0]).name in ("train.py", "simple-game", "__main__.py")


if __name__ == "__main__":
    sys.exit(main())
