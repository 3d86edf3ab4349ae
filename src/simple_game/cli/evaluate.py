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
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from pathlib import Path
from typing import Any, Optional

from simple_game.cli.common import cli_main, positive_int
from simple_game.errors import SimpleGameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game evaluate",
        description="Play whole Atari games with a trained agent (or a random one) and report raw scores.",
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="RUN_OR_CHECKPOINT",
        help="a run directory (runs/<experiment>) or a checkpoint .zip",
    )
    parser.add_argument("--checkpoint", help="which checkpoint of a run: best (default), latest, step_N, skill_level_K")
    parser.add_argument("--episodes", "-n", type=positive_int, default=30, help="whole games to play (default: 30)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--epsilon", type=float, default=None, help="probability of a random action (default: 0.05)")
    how.add_argument("--deterministic", action="store_true", help="always the policy's action (epsilon 0)")
    parser.add_argument(
        "--sample", action="store_true", help="sample PPO/A2C actions instead of taking the most likely one"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the games and of the random actions (default: 0)")
    parser.add_argument(
        "--n-envs",
        type=positive_int,
        default=None,
        help="games played side by side (default: the config's eval.n_envs)",
    )
    parser.add_argument(
        "--random", action="store_true", help="random-policy baseline under the same protocol (no checkpoint loaded)"
    )
    parser.add_argument(
        "--config", help="config YAML naming the game and protocol, for a checkpoint outside a run directory"
    )
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--device", default="cpu", help="torch device for the network (default: cpu)")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    return parser


@cli_main
def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.sample and args.deterministic:
        raise SimpleGameError("--sample and --deterministic contradict each other: pick one")
    epsilon, deterministic = action_mode(args.epsilon, args.deterministic, args.sample)

    from simple_game.evaluation import resolve_target

    target = resolve_target(args.target, checkpoint=args.checkpoint, config=args.config, random_policy=args.random)
    report = evaluate(
        target,
        episodes=args.episodes,
        epsilon=epsilon,
        deterministic=deterministic,
        seed=args.seed,
        n_envs=args.n_envs,
        device=args.device,
    )
    print_report(report)
    if args.json_path:
        from simple_game.fsio import atomic_write_json

        atomic_write_json(Path(args.json_path), report)
        print(f"wrote {args.json_path}")
    return 0


def action_mode(epsilon: Optional[float], deterministic: bool, sample: bool) -> tuple[float, bool]:
    """(epsilon, greedy?) from the command-line flags; shared with ``record``."""
    from simple_game.evaluation import DEFAULT_EPSILON

    if deterministic:
        return 0.0, True
    eps = DEFAULT_EPSILON if epsilon is None else float(epsilon)
    if not 0.0 <= eps <= 1.0:
        raise SimpleGameError(f"--epsilon: must be between 0 and 1, got {eps}")
    return eps, not sample


def evaluate(
    target: Any,
    *,
    episodes: int,
    epsilon: float,
    deterministic: bool,
    seed: int,
    n_envs: Optional[int] = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Play the games and return the JSON-ready report."""
    from rich.console import Console

    from simple_game import __version__
    from simple_game.envs import make_vec_env
    from simple_game.evaluation import EpsilonGreedy, make_policy, protocol_info, run_episodes, setup_inference

    cfg = target.cfg
    n_envs = max(1, min(n_envs or cfg.eval.n_envs, episodes))
    console = Console(stderr=True)
    setup_inference(seed, device)
    env = make_vec_env(cfg.env, training=False, seed=seed, n_envs=n_envs)
    try:
        model = make_policy(target, env, device=device)
        act = EpsilonGreedy(model, env.action_space.n, epsilon=epsilon, deterministic=deterministic, seed=seed)
        what = target.label if model is not None else "random policy"
        mode = (
            "uniformly random actions"
            if model is None
            else f"{'greedy' if act.deterministic else 'sampled'} actions, epsilon {epsilon:g}"
        )
        console.print(
            f"evaluating [bold]{what}[/bold] on {cfg.env.game}: {episodes} games, {cfg.env.protocol} protocol, {mode}"
        )

        def progress(i: int, score: float, length: int) -> None:
            console.print(f"  game {i}/{episodes}: score {score:g} ({length:,} steps)", highlight=False)

        t0 = time.monotonic()
        results = run_episodes(env, act, episodes, on_episode=progress)
        wall = time.monotonic() - t0
    finally:
        env.close()
    protocol = protocol_info(cfg.env, epsilon=epsilon, deterministic=act.deterministic, seed=seed, n_envs=n_envs)
    if model is None:
        protocol.update(actions="random", epsilon=1.0)
    return {
        "game": cfg.env.game,
        "algo": cfg.algo if target.checkpoint is not None else "random",
        "trained_algo": cfg.algo,
        "checkpoint": str(target.checkpoint) if target.checkpoint is not None else None,
        "checkpoint_step": target.step,
        "run_dir": str(target.run.path) if target.run is not None else None,
        **results.summary(),
        "episode_scores": results.scores,
        "episode_lengths": results.lengths,
        "episode_truncated": results.truncated,
        "length_unit": "agent steps (one step = frame_skip emulator frames)",
        "protocol": protocol,
        "wall_time_s": round(wall, 2),
        "evaluated_at": _dt.datetime.now().isoformat(timespec="seconds"),
        "simple_game_version": __version__,
    }


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
        f"{proto['protocol']} (sticky {proto['sticky_action_probability']:g}, noop_max {proto['noop_max']}, cap {proto['max_frames_per_episode']:,} frames)",
    )
    table.add_row("actions", f"{proto['actions']}, epsilon {proto['epsilon']:g}, seed {proto['seed']}")
    Console(width=max(100, Console().width)).print(table)


if __name__ == "__main__":
    sys.exit(main())
