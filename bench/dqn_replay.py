#!/usr/bin/env python
"""Replay memory and sampling speed: the shared-frame buffers against SB3's ReplayBuffer.

    python bench/dqn_replay.py [--size 30000] [--batches 200] [--repeats 5] [--fill-steps 5000]

1. Bytes per transition, as allocated for 1M Atari transitions (4x84x84 uint8 stacks):
   SB3's ``ReplayBuffer``, the same with ``optimize_memory_usage``, ``FrameReplayBuffer`` and
   ``PrioritizedFrameReplayBuffer`` (the memory guard's own formula, ``replay_memory_bytes``;
   a test checks it against the arrays' ``nbytes``). Then frames actually written per transition
   over ``--fill-steps`` agent steps of random Breakout play (one frame per step plus one per
   episode end), which is what the ring's 1/16 spare frames must cover.
2. Time to sample one minibatch of 32 from ``--size`` stored transitions (frame-stack-shaped
   data, episodes of about 100 steps, one env): ours uniform, ours prioritized, SB3 uniform,
   SB3's n-step buffer against ours with n = 3, and the SB3-layout ``PrioritizedReplayBuffer``.
   Each repeat times ``--batches`` draws of every variant in a rotating order; the table gives
   the median over repeats of wall and CPU time per batch (CPU time, this process only, is
   the steadier figure on a loaded machine) and their ratios to SB3's uniform sampling
   (target: at most 1.5x).

Prints the CPU model, whether it has ``avx512_bf16``, the load average before and after, and
torch's thread count (1 here: sampling is numpy, and ``to_torch`` copies).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:  # runnable from a clean clone without `pip install -e .`
    import simple_game  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

BATCH = 32


def cpu_info() -> tuple[str, bool]:
    """The CPU model and whether it has native bf16 (avx512_bf16), from /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown", False
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    return model, "avx512_bf16" in text.split()


def memory_table() -> None:
    from gymnasium import spaces

    from simple_game.agents.dqn import FrameReplayBuffer, PrioritizedFrameReplayBuffer, replay_memory_bytes

    obs, act = spaces.Box(0, 255, (4, 84, 84), np.uint8), spaces.Discrete(4)
    rows = [
        ("SB3 ReplayBuffer", replay_memory_bytes(obs, act, 1_000_000)),
        ("SB3 optimize_memory_usage", replay_memory_bytes(obs, act, 1_000_000, 1, True)),
        ("FrameReplayBuffer (ours)", replay_memory_bytes(obs, act, 1_000_000, 1, False, FrameReplayBuffer)),
        (
            "PrioritizedFrameReplayBuffer",
            replay_memory_bytes(obs, act, 1_000_000, 1, False, PrioritizedFrameReplayBuffer),
        ),
    ]
    print("\nbytes per transition, allocated for 1M Atari transitions (4x84x84 uint8):")
    print(f"  {'buffer':<32}{'bytes/transition':>18}{'1M transitions':>16}")
    for name, total in rows:
        print(f"  {name:<32}{total / 1e6:>18,.0f}{total / 1e9:>13.2f} GB")


def measured_frames(steps: int) -> None:
    """Frames written per transition in real random Breakout play (lives end episodes)."""
    from simple_game.agents.dqn import FrameReplayBuffer
    from simple_game.config import load_config
    from simple_game.envs.vector import make_train_env

    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "dqn_breakout.yaml", ["env.n_envs=1"])
    env = make_train_env(cfg.env, seed=0)
    buffer = FrameReplayBuffer(steps, env.observation_space, env.action_space, "cpu", 1)
    rng = np.random.RandomState(0)
    obs, episodes = env.reset(), 0
    for _ in range(steps):
        actions = rng.randint(env.action_space.n, size=1)
        new_obs, rewards, dones, infos = env.step(actions)
        next_obs = np.array(new_obs)
        if dones[0]:
            next_obs[0] = infos[0]["terminal_observation"]
            episodes += 1
        buffer.add(obs, next_obs, actions.reshape(1, 1), rewards, dones, infos)
        obs = new_obs
    env.close()
    frames = int(buffer.store.written[0])
    print(
        f"\nrandom Breakout play, {steps:,} agent steps, {episodes} episodes (lives): {frames:,} frames written, "
        f"{frames / steps:.3f} per transition (ring: {1 + 1 / 16:.4f}); {frames / steps * 7057 + 36:,.0f} bytes/transition"
    )


def _fill(buffers: list, size: int, seed: int = 0) -> None:
    """Frame-stack-shaped data: each step shifts in a new random frame; episodes end with probability 1/100."""
    rng = np.random.RandomState(seed)
    stack = np.zeros((1, 4, 84, 84), np.uint8)
    stack[0, -1] = rng.randint(0, 255, (84, 84))
    for t in range(size):
        done = rng.rand() < 0.01
        nxt = np.concatenate([stack[:, 1:], rng.randint(0, 255, (1, 1, 84, 84)).astype(np.uint8)], axis=1)
        info = [{"TimeLimit.truncated": False}]
        for buffer in buffers:
            buffer.add(stack, nxt, np.array([[t % 4]]), np.array([1.0]), np.array([done]), info)
        stack = nxt
        if done:
            stack = np.zeros_like(nxt)
            stack[0, -1] = rng.randint(0, 255, (84, 84))


def sampling_table(size: int, batches: int, repeats: int) -> None:
    from gymnasium import spaces
    from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer

    from simple_game.agents.dqn import FrameReplayBuffer, PrioritizedFrameReplayBuffer, PrioritizedReplayBuffer

    obs, act = spaces.Box(0, 255, (4, 84, 84), np.uint8), spaces.Discrete(4)
    made = {
        "SB3 ReplayBuffer": ReplayBuffer(size, obs, act, "cpu"),
        "FrameReplayBuffer": FrameReplayBuffer(size, obs, act, "cpu"),
        "SB3 NStepReplayBuffer n=3": NStepReplayBuffer(size, obs, act, "cpu", n_steps=3, gamma=0.99),
        "FrameReplayBuffer n=3": FrameReplayBuffer(size, obs, act, "cpu", n_steps=3, gamma=0.99),
        "PrioritizedReplayBuffer (SB3 layout)": PrioritizedReplayBuffer(size, obs, act, "cpu"),
        "PrioritizedFrameReplayBuffer": PrioritizedFrameReplayBuffer(size, obs, act, "cpu"),
    }
    t0 = time.perf_counter()
    _fill(list(made.values()), size)
    rng = np.random.RandomState(1)
    for buffer in made.values():  # learned priorities, not all at the maximum
        if hasattr(buffer, "tree"):
            buffer.update_priorities(np.arange(size), np.zeros(size, int), rng.exponential(1.0, size))
    print(f"\nsampling a batch of {BATCH} from {size:,} transitions (filled in {time.perf_counter() - t0:.0f}s):")
    draws: dict[str, Callable[[], object]] = {
        name: (lambda b=b: b.sample_prioritized(BATCH, 0.5)) if hasattr(b, "tree") else (lambda b=b: b.sample(BATCH))
        for name, b in made.items()
    }
    times: dict[str, list[float]] = {name: [] for name in draws}
    cpu: dict[str, list[float]] = {name: [] for name in draws}
    names = list(draws)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            np.random.seed(r)
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(batches):
                draws[name]()
            times[name].append((time.perf_counter() - start) / batches * 1e6)
            cpu[name].append((time.process_time() - start_cpu) / batches * 1e6)
    base, base_cpu = statistics.median(times["SB3 ReplayBuffer"]), statistics.median(cpu["SB3 ReplayBuffer"])
    print(f"  {'buffer':<38}{'wall us/batch':>14}{'min..max':>14}{'CPU us/batch':>14}{'vs SB3 (wall, CPU)':>20}")
    for name in names:
        med, med_cpu = statistics.median(times[name]), statistics.median(cpu[name])
        span = f"{min(times[name]):.0f}..{max(times[name]):.0f}"
        ratio = f"{med / base:.2f}x, {med_cpu / base_cpu:.2f}x"
        print(f"  {name:<38}{med:>14.0f}{span:>14}{med_cpu:>14.0f}{ratio:>20}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=30_000, help="transitions stored for the sampling figures")
    parser.add_argument("--batches", type=int, default=200, help="minibatches drawn per variant per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fill-steps", type=int, default=5_000, help="agent steps of real play (0: skip)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    model, bf16 = cpu_info()
    print(f"CPU: {model} ({os.cpu_count()} logical cores), avx512_bf16: {'yes' if bf16 else 'no'}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} (1 thread)")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    memory_table()
    if args.fill_steps:
        measured_frames(args.fill_steps)
    sampling_table(args.size, args.batches, args.repeats)
    print(f"\nload average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
