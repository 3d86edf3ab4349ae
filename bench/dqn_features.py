#!/usr/bin/env python
"""DQN training speed with each improvement switched on, one at a time (issue 12).

    python bench/dqn_features.py [--steps 4000] [--repeats 3] [--learning-starts 1000]

Trains every config of the ablation series ``configs/ablations/dqn_breakout/`` (vanilla, then
Double, prioritized replay, dueling heads and 3-step returns added one at a time) and plain SB3's
DQN the RL Zoo way (``DQN("CnnPolicy")`` on ``make_atari_env`` + ``VecFrameStack(4)``, its own
``ReplayBuffer``), with the same replay size, warm-up and seed. Each measurement runs in a fresh
Python process; within each repeat the variants take turns, so a noisy neighbour slows them all
alike. Timing starts after ``--learning-starts`` steps plus one target sync's worth of updates
(the buffer is filling, gradient steps are running), and covers ``--steps`` agent steps with a
gradient step every 4 (``train_freq``), as in training.

Printed per variant: the median agent steps/s over the repeats (min..max), the ratio to vanilla
and to plain SB3, and the CPU seconds per 1,000 steps; with the CPU model, whether it has native
bf16 (``avx512_bf16``) and the load average before each repeat.
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

REPO = Path(__file__).resolve().parents[1]
try:  # runnable from a clean clone without `pip install -e .`
    import simple_game  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO / "src"))

SERIES = REPO / "configs" / "ablations" / "dqn_breakout"
SB3 = "sb3 DQN (RL Zoo way)"


def variants() -> dict[str, Path | None]:
    """Name -> config path, in the series' order; plain SB3 last (``None``: built by hand)."""
    out: dict[str, Path | None] = {p.stem: p for p in sorted(SERIES.glob("[0-9][0-9]_*.yaml"))}
    out[SB3] = None
    return out


def worker(args: argparse.Namespace) -> None:
    """One variant in this process: warm up, then time ``--steps`` agent steps."""
    sys.path.insert(0, str(REPO / "bench"))
    from stable_baselines3 import DQN
    from train_throughput import build_side, make_sb3_env, sb3_kwargs

    from simple_game.config import load_config

    path = variants()[args.worker]
    overrides = [
        f"hyperparams.learning_starts={args.learning_starts}",
        f"hyperparams.buffer_size={args.buffer_size}",
        "hyperparams.target_update_interval=1000",
        f"total_timesteps={10 * (args.steps + args.learning_starts)}",  # exploration decays alike
    ]
    cfg = load_config(path or SERIES / "01_vanilla.yaml", overrides=overrides)
    if path is None:
        kwargs = sb3_kwargs(cfg)
        for key in ("replay_buffer_class", "replay_buffer_kwargs", "double", "n_steps"):
            kwargs.pop(key, None)
        kwargs["policy_kwargs"] = {"optimizer_kwargs": {"eps": 1.5e-4}}
        env = make_sb3_env(1, cfg.seed)
        model = DQN("CnnPolicy", env, seed=cfg.seed, device="cpu", verbose=0, **kwargs)
    else:
        model, _ = build_side("sg", cfg)
    model.learn(total_timesteps=args.learning_starts + 1000)
    start = model.num_timesteps
    c0, t0 = time.process_time(), time.perf_counter()
    model.learn(total_timesteps=args.steps, reset_num_timesteps=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    model.get_env().close()
    print("RESULT " + json.dumps({"steps": model.num_timesteps - start, "wall_s": wall, "cpu_s": cpu}))


def measure(variant: str, args: argparse.Namespace) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", variant, "--steps", str(args.steps)]
    cmd += ["--learning-starts", str(args.learning_starts), "--buffer-size", str(args.buffer_size)]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{variant} failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def machine() -> str:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    bf16 = "yes" if "avx512_bf16" in text.split() else "no"
    return f"CPU: {model}, {os.cpu_count()} cores, avx512_bf16: {bf16}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=4000, help="timed agent steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--learning-starts", type=int, default=1000)
    parser.add_argument("--buffer-size", type=int, default=100_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    names = list(variants())
    print(machine())
    print(f"{args.steps} timed steps after {args.learning_starts} + 1000 warm-up, {args.repeats} repeats")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for repeat in range(args.repeats):
        print(f"repeat {repeat + 1}: load average {os.getloadavg()[0]:.2f}", flush=True)
        for name in names:
            results[name].append(measure(name, args))
    speed = {name: [r["steps"] / r["wall_s"] for r in rows] for name, rows in results.items()}
    median = {name: statistics.median(v) for name, v in speed.items()}
    vanilla, sb3 = median[names[0]], median[SB3]
    print(f"\n{'variant':<24}{'steps/s':>9}  {'min..max':<13}{'x vanilla':>10}{'x sb3':>7}{'cpu s/1k':>10}")
    for name in names:
        cpu = statistics.median(r["cpu_s"] / r["steps"] * 1000 for r in results[name])
        low, high = min(speed[name]), max(speed[name])
        print(
            f"{name:<24}{median[name]:>9.1f}  {f'{low:.1f}..{high:.1f}':<13}"
            f"{median[name] / vanilla:>10.2f}{median[name] / sb3:>7.2f}{cpu:>10.2f}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
