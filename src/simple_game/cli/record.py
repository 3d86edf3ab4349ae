"""Record an MP4 of an agent playing, in full colour, with the score and action written below.

    python -m simple_game.record runs/ppo_breakout_20250101-120000             # best checkpoint, 1 game
    python -m simple_game.record runs/<run> --checkpoint latest --episodes 3 --out breakout.mp4
    python -m simple_game.record runs/<run> --random --max-steps 600           # what random play looks like
    python -m simple_game.record runs/<run> --scale 1 --max-steps 400 --out breakout.gif   # for a README

The video shows the real 210x160 colour screen enlarged 3x (``--scale``), one frame per agent
step (every 4th emulator frame, played at 15 fps = real time), with a strip below: game, step,
emulator frame number, lives, action name, reward and score. Default output:
``<run>/videos/<checkpoint>_<timestamp>.mp4``. Actions are chosen as in ``evaluate``
(epsilon-greedy, epsilon 0.05, unless ``--deterministic``, ``--epsilon`` or ``--sample``).

The video is made by :func:`simple_game.video.record_target`, which checks the output path
before anything is played and prints a progress line per finished game (and every 1,000
steps) on stderr; this module parses the flags and prints what was written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from simple_game.cli import common
from simple_game.errors import SimpleGameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game record", description="Record an MP4 of a trained (or random) agent playing."
    )
    common.add_target_arguments(parser, verb="record", episodes=1)
    parser.add_argument(
        "--max-steps",
        type=common.positive_int,
        default=None,
        help="stop after this many agent steps (default: the config's video.max_steps)",
    )
    parser.add_argument(
        "--out",
        "-o",
        help="output .mp4, or .gif for an animated GIF (default: <run>/videos/<checkpoint>_<timestamp>.mp4)",
    )
    common.add_acting_arguments(parser, games="game")
    parser.add_argument(
        "--scale", type=common.positive_int, default=3, help="enlarge the 210x160 screen this many times (default: 3)"
    )
    common.add_policy_arguments(parser, random_help="record the random policy (no checkpoint loaded)")
    common.add_device_arguments(parser)
    return parser


@common.cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args, options = common.parse_agent_args(build_parser(), argv)
    if args.out and Path(args.out).suffix.lower() not in (".mp4", ".gif"):
        raise SimpleGameError(f"--out: {args.out!r} must end in .mp4 or .gif")

    from simple_game.video import record_target

    out = Path(args.out) if args.out else None
    result = record_target(
        common.target_from_args(args),
        out,
        episodes=args.episodes,
        max_steps=args.max_steps,
        scale=args.scale,
        **options,
    )
    games = ", ".join(f"{s:g}" for s in result.scores) or "none finished"
    print(
        f"wrote {result.path}: {result.frames} frames ({result.width}x{result.height}, {result.fps:g} fps, "
        f"one frame per agent step); game scores: {games}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
