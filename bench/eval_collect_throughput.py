#!/usr/bin/env python
"""Collect and evaluate, one game at a time (today's path) against several games at once.

    python bench/eval_collect_throughput.py --run runs/<trained run> [--checkpoint best]
        [--games-at-once K] [--collect-episodes 8] [--sampling epsilon|stochastic]
        [--eval-episodes 30] [--repeats 3]

collect: a 2-tier dataset (random, and the checkpoint with epsilon 0.05, or sampled from the
policy with ``--sampling stochastic``) of whole Breakout games, ``--collect-episodes`` per tier, written with ``games_at_once=1`` (one game at a time,
PNG threads) and with ``--games-at-once`` emulator processes; frames written per second of
``collect_dataset`` (agent loading and process start-up included). Each repeat also checks that
the two datasets are byte-identical.

evaluate: ``--eval-episodes`` whole games, epsilon 0.05. ``today`` is the loop evaluate ran
before games were played at once (one env, ``run_episodes`` on a plain vector env, no reseeding
between games); ``at-once`` is ``evaluate_target`` with ``--games-at-once`` emulators. Seconds
for all games and agent steps per second (the two variants play different games: ``today``
plays on from game to game, ``at-once`` seeds each game); with ``--check-scores``, whether the at-once scores equal those of
``evaluate_target`` with one emulator (played once more, first repeat). CPU time (this process,
its threads and its finished emulator processes) is printed too: unlike wall time it hardly
depends on what else the machine runs.

Variants take turns within each repeat (interleaved), the median over repeats is reported,
and the CPU model, native bf16 (avx512_bf16) and the load average before each repeat are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:  # runnable from a clean clone without `pip install -e .`
    import simple_game  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def machine() -> str:
    model, flags = platform.processor() or "?", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    bf16 = "yes" if " avx512_bf16" in flags else "no"
    return f"CPU: {model}, {os.cpu_count()} cores, avx512_bf16: {bf16}"


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def cpu_seconds() -> float:
    """CPU time of this process, its threads and its finished child processes (the emulators)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def collect_once(args: argparse.Namespace, games: int, out: Path) -> tuple[float, int, str]:
    from simple_game.config.collect import CollectConfig
    from simple_game.dataset import build_plan, collect_dataset

    cfg = CollectConfig.model_validate(
        {
            "run": args.run,
            "output": str(out),
            "episodes": args.collect_episodes,
            "seed": 0,
            "sampling": args.sampling,
            "tiers": [{"random": True}, {"checkpoint": args.checkpoint}],
        }
    )
    stats = collect_dataset(build_plan(cfg, "bench"), report=lambda _line: None, games_at_once=games)
    # Kept until the end: on ext4 without a journal (this project's machines), creating files in
    # the minutes after ~18k were deleted costs ~0.3 ms each instead of ~0.02 (the inode
    # allocator checks every recently freed inode), which slowed whichever variant came next.
    return stats.frames_per_s, stats.frames_written, tree_hash(out)


def evaluate_today(target: Any, episodes: int) -> tuple[float, list[float], int]:
    """evaluate's loop before games were played at once: one env, games back to back."""
    from simple_game.envs import make_vec_env
    from simple_game.evaluation import EpsilonGreedy, make_policy, run_episodes, setup_inference

    t0 = time.perf_counter()
    setup_inference(0)
    env = make_vec_env(target.cfg.env, training=False, seed=0, n_envs=1)
    try:
        model = make_policy(target, env)
        act = EpsilonGreedy(model, int(env.action_space.n), epsilon=0.05, seed=0)  # type: ignore[attr-defined]
        games = run_episodes(env, act, episodes)
    finally:
        env.close()
    return time.perf_counter() - t0, games.scores, sum(games.lengths)


def evaluate_at_once(target: Any, episodes: int, games: int) -> tuple[float, list[float], int]:
    from rich.console import Console

    from simple_game.evaluation import evaluate_target

    t0 = time.perf_counter()
    report = evaluate_target(
        target, episodes=episodes, epsilon=0.05, deterministic=True, seed=0, n_envs=games, console=Console(quiet=True)
    )
    return time.perf_counter() - t0, report["episode_scores"], sum(report["episode_lengths"])


Results = dict[str, list[float]]


def processes(games: int) -> str:
    """`` on N emulator processes`` (empty for one game at a time, or a tree without the notion)."""
    try:
        from simple_game.dataset.parallel import emulator_processes
    except ImportError:
        return ""
    return f" on {emulator_processes(games)} emulator processes" if games > 1 else ""


def collect_round(args: argparse.Namespace, rep: int, scratch: Path, results: Results) -> None:
    """Both collect variants once (order alternating), and whether their datasets are the same bytes."""
    from simple_game.dataset.parallel import DEFAULT_GAMES_AT_ONCE

    k, digests = args.games_at_once or DEFAULT_GAMES_AT_ONCE, set()
    for games in (1, k) if rep % 2 == 0 else (k, 1):
        cpu0 = cpu_seconds()
        fps, frames, digest = collect_once(args, games, scratch / f"data_{games}_{rep}")
        cpu_ms = 1000 * (cpu_seconds() - cpu0) / frames
        digests.add(digest)
        results.setdefault(f"collect x{games}", []).append(fps)
        results.setdefault(f"collect x{games} CPU ms/frame", []).append(cpu_ms)
        print(
            f"  collect, {games} at once{processes(games)}: {fps:,.0f} frames/s ({frames:,} frames, {cpu_ms:.2f} CPU ms/frame)"
        )
    print(f"  datasets byte-identical: {'yes' if len(digests) == 1 else 'NO'}", flush=True)


def evaluate_round(
    args: argparse.Namespace, target: Any, rep: int, reference: list[float] | None, results: Results
) -> None:
    """Both evaluate variants once (order alternating)."""
    for variant in ("today", "at-once") if rep % 2 == 0 else ("at-once", "today"):
        cpu0 = cpu_seconds()
        if variant == "today":
            seconds, scores, steps = evaluate_today(target, args.eval_episodes)
        else:
            from simple_game.evaluation.batched import DEFAULT_GAMES_AT_ONCE as DEFAULT_EVAL_GAMES

            games = args.games_at_once or DEFAULT_EVAL_GAMES
            seconds, scores, steps = evaluate_at_once(target, args.eval_episodes, games)
            if reference is not None:
                print(f"  at-once scores equal one-at-a-time scores: {'yes' if scores == reference else 'NO'}")
        results.setdefault(f"evaluate {variant}", []).append(seconds)
        results.setdefault(f"evaluate {variant} steps/s", []).append(steps / seconds)
        results.setdefault(f"evaluate {variant} CPU s", []).append(cpu_seconds() - cpu0)
        mean = sum(scores) / len(scores)
        print(
            f"  evaluate {variant}: {seconds:.1f} s for {len(scores)} games, {steps:,} steps "
            f"({steps / seconds:.0f} steps/s, mean score {mean:.1f})",
            flush=True,
        )


def summary(results: Results, k: int) -> None:
    print("\nmedians:")
    for name, values in results.items():
        print(f"  {name}: {statistics.median(values):,.1f}  (all: {', '.join(f'{v:,.1f}' for v in values)})")
    if "collect x1" in results and f"collect x{k}" in results:
        ratio = statistics.median(results[f"collect x{k}"]) / statistics.median(results["collect x1"])
        print(f"collect speed-up: {ratio:.2f}x (target >= 3x)")
    if "evaluate today" in results and "evaluate at-once" in results:
        ratio = statistics.median(results["evaluate today"]) / statistics.median(results["evaluate at-once"])
        per_step = statistics.median(results["evaluate at-once steps/s"]) / statistics.median(
            results["evaluate today steps/s"]
        )
        print(f"evaluate speed-up: {ratio:.2f}x in seconds, {per_step:.2f}x in agent steps/s (target >= 2x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a trained Breakout run directory")
    parser.add_argument("--checkpoint", default="best")
    parser.add_argument(
        "--games-at-once", type=int, default=None, help="default: each path's own (collect 16, evaluate 8)"
    )
    parser.add_argument("--collect-episodes", type=int, default=8, help="whole games per tier")
    parser.add_argument(
        "--sampling",
        choices=["epsilon", "stochastic"],
        default="epsilon",
        help="collect's agent tier: greedy with epsilon 0.05, or sampled from the policy (PPO/A2C)",
    )
    parser.add_argument("--eval-episodes", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["collect", "evaluate"], default=None)
    parser.add_argument(
        "--scratch",
        type=Path,
        default=None,
        help="write the datasets under this folder and keep them (default: a temporary folder, removed at the end)",
    )
    parser.add_argument(
        "--check-scores", action="store_true", help="also evaluate one game at a time on the new path, once"
    )
    args = parser.parse_args(argv)

    import torch

    import simple_game.envs  # noqa: F401  (torch before ale-py)
    from simple_game.evaluation import resolve_target

    print(machine())
    print(f"python {platform.python_version()}, torch {torch.__version__}; load average at start {load()}")
    target = resolve_target(args.run, checkpoint=args.checkpoint)
    results: Results = {}
    scratch = Path(tempfile.mkdtemp(prefix="bench_eval_collect_", dir=args.scratch))
    reference: list[float] | None = None
    try:
        for rep in range(args.repeats):
            print(f"repeat {rep + 1}/{args.repeats}: load average {load()}", flush=True)
            if args.only != "evaluate":
                collect_round(args, rep, scratch, results)
            if args.only != "collect":
                if reference is None and args.check_scores:
                    reference = evaluate_at_once(target, args.eval_episodes, 1)[1]
                evaluate_round(args, target, rep, reference, results)
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"load average at end {load()}")
    from simple_game.dataset.parallel import DEFAULT_GAMES_AT_ONCE

    summary(results, args.games_at_once or DEFAULT_GAMES_AT_ONCE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
