"""Record an MP4 of an agent playing, in full colour, with the score and action written below.

    python -m simple_game.record runs/ppo_breakout_20250101-120000             # best checkpoint, 1 game
    python -m simple_game.record runs/<run> --checkpoint latest --episodes 3 --out breakout.mp4
    python -m simple_game.record runs/<run> --random --max-steps 600           # what random play looks like

The video shows the real 210x160 colour screen enlarged 3x (``--scale``), one frame per agent
step (every 4th emulator frame, played at 15 fps = real time), with a strip below: game, step,
emulator frame number, lives, action name, reward and score. Default output:
``<run>/videos/<checkpoint>_<timestamp>.mp4``. Actions are chosen as in ``evaluate``
(epsilon-greedy, epsilon 0.05, unless ``--deterministic``, ``--epsilon`` or ``--sample``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path
from typing import Optional

from simple_game.cli.common import cli_main, positive_int
from simple_game.errors import SimpleGameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game record", description="Record an MP4 of a trained (or random) agent playing."
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="RUN_OR_CHECKPOINT",
        help="a run directory (runs/<experiment>) or a checkpoint .zip",
    )
    parser.add_argument("--checkpoint", help="which checkpoint of a run: best (default), latest, step_N, skill_level_K")
    parser.add_argument("--episodes", "-n", type=positive_int, default=1, help="whole games to record (default: 1)")
    parser.add_argument(
        "--max-steps",
        type=positive_int,
        default=None,
        help="stop after this many agent steps (default: the config's video.max_steps)",
    )
    parser.add_argument("--out", "-o", help="output .mp4 (default: <run>/videos/<checkpoint>_<timestamp>.mp4)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--epsilon", type=float, default=None, help="probability of a random action (default: 0.05)")
    how.add_argument("--deterministic", action="store_true", help="always the policy's action (epsilon 0)")
    parser.add_argument(
        "--sample", action="store_true", help="sample PPO/A2C actions instead of taking the most likely one"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the game and of the random actions (default: 0)")
    parser.add_argument(
        "--scale", type=positive_int, default=3, help="enlarge the 210x160 screen this many times (default: 3)"
    )
    parser.add_argument("--random", action="store_true", help="record the random policy (no checkpoint loaded)")
    parser.add_argument(
        "--config", help="config YAML naming the game and protocol, for a checkpoint outside a run directory"
    )
    parser.add_argument("--device", default="cpu", help="torch device for the network (default: cpu)")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.sample and args.deterministic:
        raise SimpleGameError("--sample and --deterministic contradict each other: pick one")
    if args.out and Path(args.out).suffix.lower() != ".mp4":
        raise SimpleGameError(f"--out: {args.out!r} must end in .mp4")

    from simple_game.cli.evaluate import action_mode
    from simple_game.evaluation import resolve_target

    epsilon, deterministic = action_mode(args.epsilon, args.deterministic, args.sample)
    target = resolve_target(args.target, checkpoint=args.checkpoint, config=args.config, random_policy=args.random)
    max_steps = args.max_steps if args.max_steps is not None else target.cfg.video.max_steps
    out = Path(args.out) if args.out else default_video_path(target)

    from simple_game.envs import action_meanings, make_vec_env
    from simple_game.evaluation import EpsilonGreedy, make_policy, setup_inference
    from simple_game.video import record_video

    cfg = target.cfg
    setup_inference(args.seed, args.device)
    env = make_vec_env(cfg.env, training=False, seed=args.seed, n_envs=1, render_mode="rgb_array")
    try:
        model = make_policy(target, env, device=args.device)
        act = EpsilonGreedy(model, env.action_space.n, epsilon=epsilon, deterministic=deterministic, seed=args.seed)
        label = f"{cfg.env.game} {target.label}" + (f" @ {target.step:,}" if target.step is not None else "")
        result = record_video(
            env,
            act,
            out,
            action_names=action_meanings(cfg.env),
            episodes=args.episodes,
            max_steps=max_steps,
            scale=args.scale,
            frame_skip=cfg.env.frame_skip,
            label=label,
        )
    finally:
        env.close()
    games = ", ".join(f"{s:g}" for s in result.scores) or "none finished"
    print(
        f"wrote {result.path}: {result.frames} frames ({result.width}x{result.height}, {result.fps:g} fps, "
        f"one frame per agent step); game scores: {games}"
    )
    return 0


def default_video_path(target: object) -> Path:
    """``<run>/videos/<checkpoint>_<timestamp>.mp4`` (``videos/`` here without a run)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run = getattr(target, "run", None)
    folder = run.videos_dir if run is not None else Path("videos")
    return folder / f"{getattr(target, 'label', 'video')}_{stamp}.mp4"


if __name__ == "__main__":
    sys.exit(main())
