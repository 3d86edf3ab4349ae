"""Ship a run's agents as policy-only checkpoints in a folder others can play; verify one.

    simple-game agents ship runs/ppo_breakout_data_* --out agents/breakout       # tiers + best, 30 games each
    simple-game agents ship RUN --out DIR --checkpoints skill_level_1,best --episodes 0   # no scores
    simple-game agents verify agents/breakout                                     # sha256 and sizes
    simple-game agents curve agents/breakout --out chain.png                      # the runs behind them, as one curve

The shipped folder is laid out like a run (``config.yaml``, ``checkpoints/``, the run's logs), so
``simple-game evaluate agents/breakout --checkpoint skill_level_1`` and a collect tier
``run: agents/breakout`` work as with the run itself. The work is
:mod:`simple_game.agents.shipping`'s, the curve :mod:`simple_game.lineage`'s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from simple_game.cli.common import cli_main, non_negative_int
from simple_game.errors import SimpleGameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game agents",
        description="Ship a run's agents as policy-only checkpoints (a third of the size); verify a shipped folder; "
        "draw the runs behind it as one learning curve.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="ship|verify|curve")
    ship = sub.add_parser("ship", help="policy-only copies of a run's checkpoints, scored, with sha256s")
    ship.add_argument("run", help="a run directory, or a glob of them (the newest match)")
    ship.add_argument("--out", required=True, help="the folder to ship into (made if missing)")
    ship.add_argument(
        "--checkpoints", help="comma-separated: skill_level_K, best, latest, step_N (default: every skill level, best)"
    )
    ship.add_argument(
        "--episodes",
        type=non_negative_int,
        default=30,
        help="whole games to score each agent over, 0 for none (default: 30)",
    )
    ship.add_argument("--seed", type=int, default=0, help="seed of the scoring games (default: 0)")
    ship.add_argument("--force", action="store_true", help="ship into a folder that holds another run's agents")
    ship.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    check = sub.add_parser("verify", help="check every shipped file against its sha256 (agents.json and README)")
    check.add_argument("folder", help="a shipped folder, e.g. agents/breakout")
    check.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    curve = sub.add_parser(
        "curve", help="the learning curve of every run behind a shipped folder, joined, tiers marked"
    )
    curve.add_argument("folder", help="a shipped folder, e.g. agents/breakout")
    curve.add_argument("--out", required=True, help="the PNG to write")
    curve.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from simple_game.agents import shipping

    if args.command == "verify":
        problems = shipping.verify(Path(args.folder))
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        if not problems:
            agents = shipping.read_index(Path(args.folder))["agents"]
            print(f"{args.folder}: {len(agents)} agents, every sha256 matches")
        return 1 if problems else 0

    if args.command == "curve":
        return _curve(Path(args.folder), Path(args.out))

    names = [n.strip() for n in args.checkpoints.split(",") if n.strip()] if args.checkpoints is not None else None
    if names == []:
        raise SimpleGameError(f"--checkpoints {args.checkpoints!r}: no checkpoint named (e.g. skill_level_1,best)")
    evaluate = _scorer(args.episodes, args.seed) if args.episodes else None

    def shipped(agent: shipping.ShippedAgent) -> None:
        score = f", {agent.score['mean']:.1f} over {agent.score['episodes']} games" if agent.score else ""
        print(
            f"shipped {agent.file}: {agent.bytes / 1e6:.1f} MB (was {agent.source_bytes / 1e6:.1f}){score}",
            flush=True,
        )

    out = Path(args.out)
    agents = shipping.ship(args.run, out, names, evaluate=evaluate, force=args.force, on_agent=shipped)
    print(f"wrote {out / shipping.INDEX_NAME} and the table in {out / shipping.README_NAME} ({len(agents)} agents)")
    return 0


def _curve(folder: Path, out: Path) -> int:
    from simple_game import lineage
    from simple_game.outputs import check_writable_file
    from simple_game.runs import RunDirectory, RunRecord
    from simple_game.skill_curve import thresholds_of

    check_writable_file(out, "--out")
    index = lineage.read_index(folder)
    thresholds = thresholds_of(RunRecord(RunDirectory(folder)).config())
    n = len(index["runs"])
    chain = f"{n} runs, each warm-started from the one before" if n > 1 else "1 run"
    title = f"{index.get('algo', '?')} {index.get('game', '?')}: {chain}"
    tiers = lineage.plot_chain(folder, index, thresholds, out, title)
    for line in lineage.describe(tiers, thresholds):
        print(line)
    print(f"wrote {out}")
    return 0


def _scorer(episodes: int, seed: int) -> Callable[[Path], dict[str, Any]]:
    """``evaluate``'s default protocol (epsilon 0.05, greedy), ``episodes`` whole games from ``seed``."""
    from rich.console import Console

    from simple_game.evaluation import action_mode, evaluate_target, resolve_target
    from simple_game.evaluation.batched import DEFAULT_GAMES_AT_ONCE

    epsilon, deterministic = action_mode(None, False, False)
    console = Console(stderr=True)

    def score(path: Path) -> dict[str, Any]:
        return evaluate_target(
            resolve_target(str(path)),
            episodes=episodes,
            epsilon=epsilon,
            deterministic=deterministic,
            seed=seed,
            n_envs=min(episodes, DEFAULT_GAMES_AT_ONCE),
            console=console,
        )

    return score


if __name__ == "__main__":
    sys.exit(main())
