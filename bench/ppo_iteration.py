#!/usr/bin/env python
"""Where a PPO iteration's time goes: simple-game's real training against plain SB3.

    python bench/ppo_iteration.py [--iterations 12] [--config configs/ppo_breakout.yaml]

One PPO iteration is a rollout (``n_steps`` agent steps in each of ``n_envs`` games) followed by
``train()`` (``n_epochs`` passes of minibatch updates over it). This script times each part of
it with wall-clock timers around SB3's own methods, iteration by iteration:

  env step      ``VecEnv.step``: the emulators and every wrapper (frame stack, monitor, ...)
  forward       ``ActorCriticPolicy.forward`` in the rollout (the action, value and log-prob)
  buffer add    ``RolloutBuffer.add``: copying one step of all games into the rollout buffer
  callbacks     ``CallbackList.on_step``: every callback of the run, once per agent step
  GAE           the last value estimate and ``RolloutBuffer.compute_returns_and_advantage``
  rollout rest  the rest of ``collect_rollouts``: SB3's per-step Python (tensor conversion,
                action clipping, the info loop, terminal bootstrapping)
  train         ``PPO.train``: the minibatch updates
  outer rest    the rest of ``learn``: logging, the iteration loop

``sg`` is simple-game's ``run_training`` itself, with its callbacks (console, checkpoints,
milestones, evaluation schedule, TensorBoard), in a temporary runs folder; ``sb3`` is plain SB3
the RL Zoo way (``bench/train_throughput.py``'s reference: ``make_atari_env`` + ``VecFrameStack``,
``CnnPolicy``), no callbacks. The first iteration (warm-up) is left out; the table gives the
median per iteration of the rest. Timers cost about a microsecond per call, far under the parts
they time. Run on a quiet machine; shares (%) move less with load than seconds do.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_throughput import REPO, build_side  # noqa: E402

PARTS = ("env step", "forward", "buffer add", "callbacks", "GAE", "rollout rest", "train", "outer rest")


class Timers:
    """Seconds per part, one dict per iteration (an iteration starts when ``collect_rollouts`` does)."""

    def __init__(self) -> None:
        self.iterations: list[dict[str, float]] = []
        self._depth = 0

    def part(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.iterations or self._depth:  # outside an iteration, or nested in a timed part
                return fn(*args, **kwargs)
            self._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                it = self.iterations[-1]
                it[name] = it.get(name, 0.0) + time.perf_counter() - t0

        return timed

    def iteration(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def collect(*args: Any, **kwargs: Any) -> Any:
            now = time.perf_counter()
            if self.iterations:
                self.iterations[-1]["total"] = now - self.iterations[-1]["start"]
            self.iterations.append({"start": now})
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.iterations[-1]["collect"] = time.perf_counter() - t0

        return collect

    def close(self) -> None:
        if self.iterations and "total" not in self.iterations[-1]:
            self.iterations[-1]["total"] = time.perf_counter() - self.iterations[-1]["start"]

    def table(self) -> dict[str, float]:
        """Median seconds per part over the iterations after the first (rests derived)."""
        rows = []
        for it in self.iterations[1:]:
            row = {p: it.get(p, 0.0) for p in PARTS[:6] if p != "rollout rest"}
            row["rollout rest"] = it["collect"] - sum(row.values())
            row["train"] = it.get("train", 0.0)
            row["outer rest"] = it["total"] - it["collect"] - row["train"]
            row["total"] = it["total"]
            rows.append(row)
        return {k: statistics.median(r[k] for r in rows) for k in (*PARTS, "total")}


def install(timers: Timers) -> None:
    """Wrap SB3's classes (so every instance, ours and the reference, is timed the same way)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.buffers import RolloutBuffer
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv

    VecEnv.step = timers.part("env step", VecEnv.step)  # type: ignore[method-assign]
    ActorCriticPolicy.forward = timers.part("forward", ActorCriticPolicy.forward)  # type: ignore[method-assign]
    RolloutBuffer.add = timers.part("buffer add", RolloutBuffer.add)  # type: ignore[method-assign]
    CallbackList._on_step = timers.part("callbacks", CallbackList._on_step)  # type: ignore[method-assign]
    gae = RolloutBuffer.compute_returns_and_advantage
    RolloutBuffer.compute_returns_and_advantage = timers.part("GAE", gae)  # type: ignore[method-assign]
    ActorCriticPolicy.predict_values = timers.part("GAE", ActorCriticPolicy.predict_values)  # type: ignore[method-assign]
    PPO.train = timers.part("train", PPO.train)  # type: ignore[method-assign]
    OnPolicyAlgorithm.collect_rollouts = timers.iteration(OnPolicyAlgorithm.collect_rollouts)  # type: ignore[method-assign]


def run_sg(config: str, steps: int, overrides: list[str]) -> None:
    from simple_game.config import load_config
    from simple_game.training.run import run_training

    with tempfile.TemporaryDirectory(prefix="sg_bench_") as tmp:
        cfg = load_config(REPO / config, overrides=[*overrides, f"total_timesteps={steps}"])
        code = run_training(cfg, Path(tmp) / "runs", Path(tmp) / "experiments.md", progress_bar=False, config_text=None)
        if code != 0:
            raise SystemExit(f"training failed (exit {code})")


def run_sb3(config: str, steps: int, overrides: list[str]) -> None:
    from simple_game.config import load_config

    model, _ = build_side("sb3", load_config(REPO / config))
    model.learn(total_timesteps=steps)
    model.get_env().close()


def print_table(side: str, row: dict[str, float], per_iteration: int) -> None:
    total = row["total"]
    print(f"\n{side}: median of the iterations after the first, {per_iteration} agent steps each")
    print(f"  {'part':<13} {'ms/iter':>9} {'share':>7} {'us/step':>9}")
    for part in (*PARTS, "total"):
        ms = row[part] * 1000
        print(f"  {part:<13} {ms:9.1f} {100 * row[part] / total:6.1f}% {1e6 * row[part] / per_iteration:9.1f}")
    print(f"  => {per_iteration / total:.0f} agent steps/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=12, help="PPO iterations per side (the first is warm-up)")
    parser.add_argument("--config", default="configs/ppo_breakout.yaml", help="a PPO config (default: Breakout)")
    parser.add_argument("--side", choices=("sg", "sb3", "both"), default="both")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a config override for the sg side (repeatable)"
    )
    args = parser.parse_args(argv)

    from simple_game.config import load_config

    cfg = load_config(REPO / args.config, overrides=args.set)
    if cfg.algo != "ppo":
        raise SystemExit(f"{args.config}: algo is {cfg.algo}; this bench times PPO iterations")
    per_iteration = int(cfg.hyperparams["n_steps"]) * cfg.env.n_envs
    steps = per_iteration * args.iterations
    cpu_flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"avx512_bf16: {'yes' if 'avx512_bf16' in cpu_flags else 'no'}; load {os.getloadavg()[0]:.2f}; "
        f"{args.config}, {args.iterations} iterations x {per_iteration} steps"
    )
    timers = Timers()
    install(timers)
    # sb3 first: simple-game's compute.heap_reuse is process-wide and would speed up what runs after it.
    for side in ("sb3", "sg") if args.side == "both" else (args.side,):
        timers.iterations.clear()
        (run_sg if side == "sg" else run_sb3)(args.config, steps, args.set)
        timers.close()
        print_table(side, timers.table(), per_iteration)
    print(f"\nload at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
