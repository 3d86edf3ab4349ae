"""Tune an experiment's hyperparameters with Optuna, on one machine or many (docs/sweeps.md).

    simple-game sweep --space configs/sweeps/ppo_breakout.yaml --trials 16
    simple-game sweep --config configs/ppo_breakout.yaml --trials 16     # space: configs/sweeps/ppo_breakout.yaml
    simple-game sweep --space S.yaml --trials 64 --study lr --storage postgresql://user:pw@db-host/sweeps

``--trials`` is the study's total: run the same command on more machines (one shared
``--storage``) and together they train that many. Each trial is a run directory under
``<runs-dir>/sweeps/<study>/runs/``; the best one is written as ``best.yaml``, a config for
``simple-game train --config``. ``--trials 0`` only rewrites the report from the study.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from simple_game.cli.common import add_overrides_argument, cli_main, positive_int
from simple_game.errors import SimpleGameError


def _count(text: str) -> int:
    value = int(text) if text.strip().isdigit() else -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of trials (0 or more), got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game sweep",
        description="Search hyperparameters with Optuna: TPE sampling, pruning on the periodic evaluations, "
        "each trial a normal run; the best trial is written as a ready-to-train best.yaml.",
    )
    parser.add_argument("--space", "-s", help="search-space YAML (default: sweeps/<config stem>.yaml next to --config)")
    parser.add_argument("--config", "-c", help="experiment YAML to tune (default: the space file's config:)")
    parser.add_argument(
        "--trials", "-n", type=_count, required=True, help="trials the study should have in total, over all workers"
    )
    parser.add_argument("--study", help="study name (default: the space file's study:, else its file name)")
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="study database shared by workers, e.g. postgresql://user:password@host:5432/db "
        "(default: sqlite file <runs-dir>/sweeps/<study>/study.db)",
    )
    add_overrides_argument(parser, "override a value of the base config for every trial (repeatable)")
    parser.add_argument("--runs-dir", default="runs", type=Path, help="where the sweep folder goes (default: runs)")
    parser.add_argument(
        "--heartbeat",
        type=positive_int,
        default=30,
        metavar="SECONDS",
        help="a running trial's heartbeat; one silent for 4 of them is failed and retried (default: 30)",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    space_path, config = _paths(args)
    try:
        from simple_game.sweep.space import load_space
        from simple_game.sweep.study import SweepRequest, run_sweep
    except ImportError as exc:
        if getattr(exc, "name", "") not in ("optuna", "sqlalchemy"):
            raise
        raise SimpleGameError("sweep needs Optuna: pip install 'simple-game[sweep]'") from None
    space = load_space(space_path, config, args.overrides)
    name = args.study or space.spec.study or space_path.stem
    from simple_game.config.schema import safe_name

    if safe_name(name) != name:
        raise SimpleGameError(f"--study {name!r}: use letters, digits, '-', '_' and '.' (it names a folder)")
    request = SweepRequest(
        space,
        args.trials,
        name,
        args.runs_dir,
        storage=args.storage,
        heartbeat=args.heartbeat,
        exiting=Path(sys.argv[0]).name in ("simple-game", "__main__.py"),
    )
    return run_sweep(request)


def _paths(args: argparse.Namespace) -> tuple[Path, Optional[Path]]:
    """The space file and the config (``None``: the space file's ``config:``)."""
    config = Path(args.config) if args.config else None
    if args.space:
        return Path(args.space), config
    if config is None:
        raise SimpleGameError(
            "give --space FILE (the search space), or --config FILE with sweeps/<stem>.yaml beside it"
        )
    guess = config.parent / "sweeps" / f"{config.stem}.yaml"
    if not guess.is_file():
        raise SimpleGameError(
            f"--config {config}: no search space at {guess}: write one (docs/sweeps.md) or pass --space"
        )
    return guess, config


if __name__ == "__main__":
    sys.exit(main())
