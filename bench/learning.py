#!/usr/bin/env python
"""Does simple-game learn as well as plain SB3? PPO on Breakout, fixed budget, same seeds.

    python bench/learning.py [--steps 300000] [--seeds 0,1] [--variants sb3,sg,sg-bf16]
                             [--eval-episodes 10] [--force-bf16] [--json results.json]

For every seed, each variant trains PPO for ``--steps`` agent steps with the hyperparameters of
configs/ppo_breakout.yaml (the linear learning-rate and clip schedules run over the budget,
on both sides alike), then plays ``--eval-episodes`` whole games:

  sb3      plain SB3 the RL Zoo way (bench/train_throughput.py: make_atari_env, DummyVecEnv,
           VecFrameStack(4), CnnPolicy)
  sg       simple-game: its env backend, SimpleNatureCNN, compute defaults (apply_compute)
  sg-bf16  the same with compute.bf16: true (skipped on a CPU without native bf16 unless
           --force-bf16)

Evaluation protocol, identical on both sides: whole games (a lost life does not end the
episode), raw unclipped scores, the same 30-no-op / FIRE reset, a 108,000-frame cap per game,
the project's action protocol (``simple_game.evaluation.EpsilonGreedy`` with the config's
``eval.deterministic`` and ``eval.epsilon``: the greedy action, a uniformly random one with
probability 0.05), 1 env, seed ``seed + 10000``. The random actions matter: a greedy Breakout
agent that never learned to press FIRE after a lost life (training's life-loss resets press it)
waits until the frame cap, and every game scores the same. The SB3
side is evaluated with ``make_atari_env(..., wrapper_kwargs={"terminal_on_life_loss": False,
"clip_reward": False})``; simple-game with ``simple_game.envs.make_eval_env``. Scores come
from SB3's ``evaluate_policy`` (which reads the Monitor's whole-game episode records).

Each run is its own process; runs go one after another (seed by seed, variants in turn).
At ~300-400 agent steps/s on a 2-core CPU, 300k steps take ~13-17 minutes per run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
try:  # runnable from a clean clone without `pip install -e .`
    import simple_game  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO / "src"))

from train_throughput import build_side, load_cfg  # noqa: E402

VARIANTS = ("sb3", "sg", "sg-bf16")
EVAL_SEED_OFFSET = 10_000
MAX_FRAMES = 108_000


def make_eval(variant: str, cfg: Any, seed: int) -> Any:
    if variant == "sb3":
        import ale_py
        import gymnasium as gym
        from stable_baselines3.common.env_util import make_atari_env
        from stable_baselines3.common.vec_env import VecFrameStack, VecTransposeImage

        gym.register_envs(ale_py)
        env = make_atari_env(
            "BreakoutNoFrameskip-v4",
            n_envs=1,
            seed=seed + EVAL_SEED_OFFSET,
            wrapper_kwargs={"terminal_on_life_loss": False, "clip_reward": False},
            env_kwargs={"max_num_frames_per_episode": MAX_FRAMES},
        )
        return VecTransposeImage(VecFrameStack(env, n_stack=4))
    from simple_game.envs import make_eval_env

    return make_eval_env(cfg.env, seed, n_envs=1)  # seed + 10000 inside, whole games, raw scores


class ProtocolActor:
    """``evaluate_policy``'s ``predict`` with the project's evaluation protocol, for both sides alike."""

    def __init__(self, model: Any, cfg: Any, seed: int) -> None:
        from simple_game.evaluation import EpsilonGreedy

        self.actor = EpsilonGreedy(
            model,
            int(model.action_space.n),
            epsilon=cfg.eval.epsilon,
            deterministic=cfg.eval.deterministic,
            seed=seed + EVAL_SEED_OFFSET,
        )

    def predict(self, obs: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> Any:
        return self.actor(obs), None


def worker(args: argparse.Namespace) -> None:
    from stable_baselines3.common.evaluation import evaluate_policy

    cfg = load_cfg(args.algo, [f"seed={args.seed}", f"total_timesteps={args.steps}"])
    model, applied = build_side(args.variant, cfg, force_bf16=args.force_bf16)
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.steps)
    wall = time.perf_counter() - t0
    train_scores = [float(ep["r"]) for ep in model.ep_info_buffer]
    model.get_env().close()
    eval_env = make_eval(args.variant, cfg, args.seed)
    t1 = time.perf_counter()
    scores, lengths = evaluate_policy(
        ProtocolActor(model, cfg, args.seed),  # type: ignore[arg-type]
        eval_env,
        n_eval_episodes=args.eval_episodes,
        return_episode_rewards=True,
    )
    eval_env.close()
    print(
        "RESULT "
        + json.dumps(
            {
                "variant": args.variant,
                "seed": args.seed,
                "steps": int(model.num_timesteps),
                "train_wall_s": wall,
                "eval_wall_s": time.perf_counter() - t1,
                "eval_scores": [float(s) for s in scores],
                "eval_lengths": [int(n) for n in lengths],
                "train_score_last100": statistics.mean(train_scores) if train_scores else None,
                "applied": applied,
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--steps", type=int, default=300_000, help="training budget in agent steps per run (default 300000)"
    )
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds (default 0,1)")
    parser.add_argument(
        "--variants", default="sb3,sg,sg-bf16", help=f"comma-separated, from {','.join(VARIANTS)} (default all)"
    )
    parser.add_argument("--eval-episodes", type=int, default=10, help="whole games per final evaluation (default 10)")
    parser.add_argument(
        "--force-bf16", action="store_true", help="sg-bf16: apply bf16 even where the CPU only emulates it (slow)"
    )
    parser.add_argument("--json", help="also write every run's result to this JSON file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--algo", default="ppo", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for name in variants:
        if name not in VARIANTS:
            parser.error(f"unknown variant {name!r} (choose from {','.join(VARIANTS)})")
    print(
        f"PPO Breakout, {args.steps:,} steps per run, seeds {seeds}, {args.eval_episodes} evaluation games; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n",
        flush=True,
    )

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    results: list[dict[str, Any]] = []
    for seed in seeds:
        for variant in variants:
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                "--algo",
                args.algo,
                "--variant",
                variant,
                "--seed",
                str(seed),
                "--steps",
                str(args.steps),
                "--eval-episodes",
                str(args.eval_episodes),
            ]
            if args.force_bf16:
                cmd.append("--force-bf16")
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(REPO))
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                raise RuntimeError(
                    f"{variant} seed {seed} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
                )
            res = json.loads(line[len("RESULT ") :])
            res["load"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
            results.append(res)
            scores = res["eval_scores"]
            print(
                f"seed {seed} {variant:8s} eval {statistics.mean(scores):6.1f} ± {statistics.pstdev(scores):5.1f} over {len(scores)} games | "
                f"train score (last 100 games) {res['train_score_last100'] or 0:6.1f} | {res['steps'] / res['train_wall_s']:5.0f} steps/s | load {res['load']}",
                flush=True,
            )
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=1))

    print("\n| variant | seed | final eval score (mean ± std, raw) | train score, last 100 games | steps/s | bf16 |")
    print("|---|---:|---:|---:|---:|---|")
    for res in results:
        s = res["eval_scores"]
        bf16 = res["applied"].get("bf16", "-").split(" (")[0]
        print(
            f"| {res['variant']} | {res['seed']} | {statistics.mean(s):.1f} ± {statistics.pstdev(s):.1f} | {res['train_score_last100'] or 0:.1f} | {res['steps'] / res['train_wall_s']:.0f} | {bf16} |"
        )
    print("\nmean over seeds:")
    for variant in variants:
        means = [statistics.mean(r["eval_scores"]) for r in results if r["variant"] == variant]
        print(f"  {variant:8s} {statistics.mean(means):6.1f}  (per seed: {', '.join(f'{m:.1f}' for m in means)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
