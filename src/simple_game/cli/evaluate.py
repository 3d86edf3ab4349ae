"""Measure a trained agent over whole games, under its run's evaluation protocol.

    python -m simple_game.evaluate runs/ppo_breakout_20250101-120000            # its best checkpoint
    python -m simple_game.evaluate runs/<run> --checkpoint latest --episodes 30 --json eval.json
    python -m simple_game.evaluate runs/<run>/checkpoints/step_500000.zip --deterministic
    python -m simple_game.evaluate runs/<run> --random                            # random-policy baseline

The run's saved ``config.yaml`` says which game, protocol and frame stack to use. Scores are
raw game scores of whole games (all lives), with up to 30 random no-ops at reset and the
config's sticky-action probability and 108,000-frame cap.

Actions: by default epsilon-greedy with epsilon 0.05 (the DQN-paper evaluation protocol):
the policy's most likely action, replaced by a random one 5% of the time.
``--deterministic`` means epsilon 0; ``--sample`` draws PPO/A2C actions from the policy's
distribution instead of taking the most likely one (``--sample --epsilon 0`` is how training's
own evaluation plays when ``eval.deterministic`` is false).

The games are played by :func:`simple_game.evaluation.evaluate_target`; this module parses the
flags, checks that ``--json`` can be written before any game is played, prints the table and
writes ``--json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

from simple_game.cli import common
from simple_game.outputs import check_writable_file


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game evaluate",
        description="Play whole Atari games with a trained agent (or a random one) and report raw scores.",
    )
    common.add_target_arguments(parser, verb="play", episodes=30)
    common.add_acting_arguments(parser, games="games")
    parser.add_argument(
        "--n-envs",
        type=common.positive_int,
        default=None,
        help="games played at once, each on its own emulator, one batched forward pass per step; game j is "
        "always reset with seed+j, so the scores do not depend on it (default: min(episodes, 8))",
    )
    common.add_policy_arguments(
        parser, random_help="random-policy baseline under the same protocol (no checkpoint loaded)"
    )
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="also write the results as JSON")
    common.add_device_arguments(parser)
    return parser


@common.cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args, options = common.parse_agent_args(build_parser(), argv)
    if args.json_path:  # before the games: a bad path found afterwards would lose every result
        check_writable_file(Path(args.json_path), "--json")

    from simple_game.evaluation import evaluate_target
    from simple_game.evaluation.batched import DEFAULT_GAMES_AT_ONCE

    n_envs = args.n_envs or min(args.episodes, DEFAULT_GAMES_AT_ONCE)
    report = evaluate_target(common.target_from_args(args), episodes=args.episodes, n_envs=n_envs, **options)
    print_report(report)
    if args.json_path:
        from simple_game.fsio import atomic_write_json

        atomic_write_json(Path(args.json_path), report)
        print(f"wrote {args.json_path}")
    return 0


def print_report(report: dict[str, Any]) -> None:
    """A rich table of the results on stdout."""
    from rich.console import Console
    from rich.table import Table

    proto = report["protocol"]
    if report["checkpoint"]:
        step = report.get("checkpoint_step")
        who = f"{report['algo']} {Path(report['checkpoint']).name}" + (f" @ {step:,} steps" if step is not None else "")
    else:
        who = "random policy"
    table = Table(title=f"{report['game']}: {who}", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("games", f"{report['n_episodes']}")
    table.add_row("mean score", f"{report['mean']:.2f} ± {report['std']:.2f}")
    table.add_row("median", f"{report['median']:g}")
    table.add_row("min / max", f"{report['min']:g} / {report['max']:g}")
    table.add_row("mean length", f"{report['mean_length']:,.0f} steps")
    if report.get("n_truncated"):
        table.add_row("hit frame cap", f"{report['n_truncated']}")
    table.add_row(
        "protocol",
        f"{proto['protocol']} (sticky {proto['sticky_action_probability']:g}, noop_max {proto['noop_max']}, "
        f"cap {proto['max_frames_per_episode']:,} frames)",
    )
    table.add_row("actions", f"{proto['actions']}, epsilon {proto['epsilon']:g}, seed {proto['seed']}")
    Console(width=max(100, Console().width)).print(table)


if __name__ == "__main__":
    sys.exit(main())
