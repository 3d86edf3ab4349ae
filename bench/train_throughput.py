#!/usr/bin/env python
"""Training throughput: simple-game against plain Stable-Baselines3, same hyperparameters.

    python bench/train_throughput.py [--algos ppo,a2c,dqn] [--steps 4096] [--repeats 3]
                                     [--variants sb3,sg,sg-bf16] [--force-bf16]

Whole-process agent steps per second of ``model.learn`` (environment *and* network
updates), after a warm-up, for each algorithm and variant:

  sb3        plain SB3 the RL Zoo way: make_atari_env("BreakoutNoFrameskip-v4", n_envs)
             (DummyVecEnv), VecFrameStack(4), CnnPolicy (NatureCNN), float32
  sg         simple-game as `simple-game train` builds it: configs/<algo>_breakout.yaml,
             its env backend (auto = ale-py's C++ vector env), SimpleNatureCNN and the
             compute defaults of apply_compute (cfg.compute)
  sg-bf16    the same with compute.bf16: true (skipped by apply_compute on a CPU without
             native bf16 unless --force-bf16 is given)
  sg-fp32    simple-game envs and network without apply_compute (plain float32 NCHW, plain
             Adam): separates the env gain from the compute gain
  sg-compile simple-game defaults plus compute.compile: on

Both sides get the same hyperparameters (those of the simple-game config, learning-rate and
clip schedules included), the same n_envs and the same seed. DQN uses learning_starts 1000
(``--dqn-learning-starts``) on both sides so that updates are measured.

``--update-step`` measures only the network instead: one PPO minibatch update (evaluate_actions
on 256x4x84x84 uint8 observations, PPO loss, backward, gradient clipping, Adam step) and one
rollout forward pass (8 observations, no grad), for each compute option, in one process,
interleaved, median over repeats:

    python bench/train_throughput.py --update-step [--repeats 5] [--force-bf16]

Every measurement runs in a fresh Python process (no compile caches, thread settings or
allocator state shared between variants). Within each repeat the variants take turns
(interleaved), so a noisy neighbour slows all of them alike; the median over repeats is
reported with the min..max range, the CPU time per agent step (all threads of the process:
torch and the C++ env threads; less sensitive to other load than wall time) and the load
average before each repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
try:  # runnable from a clean clone without `pip install -e .`
    import simple_game  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO / "src"))

CONFIGS = {
    "ppo": "configs/ppo_breakout.yaml",
    "a2c": "configs/a2c_breakout.yaml",
    "dqn": "configs/dqn_breakout.yaml",
    "qrdqn": "configs/qrdqn_breakout.yaml",
}
VARIANTS = ("sb3", "sg", "sg-bf16", "sg-fp32", "sg-compile")
SB3_GYM_ID = "BreakoutNoFrameskip-v4"


# ------------------------------------------------------------------------------------------
# Building the two sides (also used by bench/learning.py)
# ------------------------------------------------------------------------------------------


def load_cfg(algo: str, overrides: list[str] | None = None) -> Any:
    from simple_game.config import load_config

    return load_config(REPO / CONFIGS[algo], overrides=list(overrides or []))


def sb3_kwargs(cfg: Any) -> dict[str, Any]:
    """The config's hyperparameters for plain SB3: same values, SB3's own NatureCNN."""
    from simple_game.config import model_kwargs

    kwargs = model_kwargs(cfg)
    policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
    policy_kwargs.pop("features_extractor_class", None)
    policy_kwargs.pop("features_extractor_kwargs", None)
    if policy_kwargs:
        kwargs["policy_kwargs"] = policy_kwargs
    else:
        kwargs.pop("policy_kwargs", None)
    return kwargs


def make_sb3_env(n_envs: int, seed: int, *, training: bool = True) -> Any:
    """The RL Zoo Atari env: make_atari_env (Monitor + AtariWrapper) + VecFrameStack(4)."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    wrapper_kwargs = None if training else {"terminal_on_life_loss": False, "clip_reward": False}
    return VecFrameStack(make_atari_env(SB3_GYM_ID, n_envs=n_envs, seed=seed, wrapper_kwargs=wrapper_kwargs), n_stack=4)


def build_side(variant: str, cfg: Any, *, force_bf16: bool = False) -> tuple[Any, dict[str, str]]:
    """(model, what apply_compute applied) for one variant, built on CPU."""
    from simple_game.config import algorithm_class

    if variant == "sb3":
        env = make_sb3_env(cfg.env.n_envs, cfg.seed)
        model = algorithm_class(cfg.algo)("CnnPolicy", env, seed=cfg.seed, device="cpu", verbose=0, **sb3_kwargs(cfg))
        return model, {"device": "cpu", "env": "sb3 DummyVecEnv"}

    from simple_game.agents import build_model
    from simple_game.compute import apply_compute
    from simple_game.envs import make_train_env, resolve_backend

    compute = cfg.compute.model_copy()
    if variant == "sg-bf16":
        compute.bf16 = True
    elif variant == "sg-compile":
        compute.compile = "on"
    env = make_train_env(cfg.env, cfg.seed)
    model = build_model(cfg, env, "cpu")
    if variant == "sg-fp32":
        applied = {"device": "cpu", "channels_last": "off", "compile": "off", "bf16": "off", "optimizer": "plain"}
    else:
        applied = apply_compute(model, compute, "cpu", allow_emulated_bf16=force_bf16, probe_layout=True)
    applied["env"] = resolve_backend(cfg.env)
    return model, applied


# ------------------------------------------------------------------------------------------
# One measurement (runs in its own process)
# ------------------------------------------------------------------------------------------


def worker(args: argparse.Namespace) -> None:
    overrides = []
    if args.algo in ("dqn", "qrdqn"):
        overrides.append(f"hyperparams.learning_starts={args.dqn_learning_starts}")
    cfg = load_cfg(args.algo, overrides)
    model, applied = build_side(args.variant, cfg, force_bf16=args.force_bf16)
    warmup = args.warmup or _default_warmup(cfg, args)
    t0 = time.perf_counter()
    model.learn(total_timesteps=warmup)
    warm_s = time.perf_counter() - t0
    start_steps = model.num_timesteps
    c0, t0 = time.process_time(), time.perf_counter()
    model.learn(total_timesteps=args.steps, reset_num_timesteps=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = model.num_timesteps - start_steps
    model.get_env().close()
    print(
        "RESULT "
        + json.dumps(
            {
                "steps": steps,
                "wall_s": wall,
                "cpu_s": cpu,
                "warmup_steps": warmup,
                "warmup_s": warm_s,
                "applied": applied,
            }
        )
    )


def _default_warmup(cfg: Any, args: argparse.Namespace) -> int:
    """One full update cycle (compiles and allocates everything) before timing starts."""
    hp = cfg.hyperparams
    if cfg.algo in ("ppo", "a2c"):
        n_steps = hp.get("n_steps", 2048 if cfg.algo == "ppo" else 5)
        return max(1024, n_steps * cfg.env.n_envs)
    return args.dqn_learning_starts + 1000


# ------------------------------------------------------------------------------------------
# The network alone: one minibatch update per compute option
# ------------------------------------------------------------------------------------------

UPDATE_OPTIONS = {
    # name: (ComputeConfig fields, or None = no apply_compute at all)
    "fp32 (plain)": None,
    "channels_last (default)": {"channels_last": "on", "compile": "off"},
    "compile": {"channels_last": "off", "compile": "on"},
    "channels_last+compile": {"channels_last": "on", "compile": "on"},
    "bf16": {"channels_last": "off", "compile": "off", "bf16": True},
    "bf16+channels_last": {"channels_last": "on", "compile": "off", "bf16": True},
}


def update_step(args: argparse.Namespace) -> int:
    import types

    import gymnasium as gym
    import numpy as np
    import torch
    from stable_baselines3.common.policies import ActorCriticCnnPolicy

    from simple_game.compute import apply_compute, native_bf16
    from simple_game.config import ComputeConfig
    from simple_game.policies import SimpleNatureCNN

    obs_space = gym.spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
    rng = np.random.default_rng(0)
    obs = torch.from_numpy(rng.integers(0, 256, (256, 4, 84, 84), dtype=np.uint8))
    actions = torch.from_numpy(rng.integers(0, 4, 256))
    adv, returns, old_log_prob = (torch.from_numpy(rng.standard_normal(256).astype(np.float32)) for _ in range(3))
    bf16_ok = native_bf16("cpu") or args.force_bf16
    models = {}
    for name, fields in UPDATE_OPTIONS.items():
        if fields and fields.get("bf16") and not bf16_ok:
            print(f"{name}: skipped (this CPU has no native bf16; --force-bf16 measures the emulated path)")
            continue
        torch.manual_seed(0)
        policy = ActorCriticCnnPolicy(
            obs_space,
            gym.spaces.Discrete(4),
            lambda _: 2.5e-4,
            features_extractor_class=SimpleNatureCNN,
            optimizer_kwargs={"eps": 1e-5},
        )
        model = types.SimpleNamespace(policy=policy)
        applied = (
            apply_compute(model, ComputeConfig(**fields), "cpu", allow_emulated_bf16=args.force_bf16) if fields else {}
        )
        models[name] = (policy, applied)

    def update(policy: Any) -> None:  # PPO's minibatch step (stable_baselines3 PPO.train)
        values, log_prob, entropy = policy.evaluate_actions(obs, actions)
        ratio = torch.exp(log_prob - old_log_prob)
        policy_loss = -torch.min(adv * ratio, adv * torch.clamp(ratio, 0.9, 1.1)).mean()
        loss = policy_loss + 0.5 * torch.nn.functional.mse_loss(returns, values.flatten()) - 0.01 * entropy.mean()
        policy.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
        policy.optimizer.step()

    def rollout(policy: Any) -> None:
        with torch.no_grad():
            policy(obs[:8])

    print(f"load average at start: {_load()}")
    for name, (policy, _) in models.items():  # warm-up (and compilation)
        t0 = time.perf_counter()
        for _ in range(3):
            update(policy)
            rollout(policy)
        print(f"warm-up {name}: {time.perf_counter() - t0:.1f} s", flush=True)
    times: dict[str, list[float]] = {name: [] for name in models}
    fwd: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, (policy, _) in models.items():
            t0 = time.perf_counter()
            for _ in range(5):
                update(policy)
            times[name].append((time.perf_counter() - t0) / 5)
            t0 = time.perf_counter()
            for _ in range(20):
                rollout(policy)
            fwd[name].append((time.perf_counter() - t0) / 20)
    print(f"load average at end: {_load()}\n")
    base = statistics.median(times["fp32 (plain)"])
    print("| option | update step, ms (median) | min..max | speed-up | rollout forward (8 obs), ms |")
    print("|---|---:|---:|---:|---:|")
    for name in models:
        med = statistics.median(times[name])
        print(
            f"| {name} | {1e3 * med:.0f} | {1e3 * min(times[name]):.0f}..{1e3 * max(times[name]):.0f} | {base / med:.2f}x | {1e3 * statistics.median(fwd[name]):.2f} |"
        )
    return 0


# ------------------------------------------------------------------------------------------
# The driver
# ------------------------------------------------------------------------------------------


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_one(algo: str, variant: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--algo",
        algo,
        "--variant",
        variant,
        "--steps",
        str(args.steps),
        "--dqn-learning-starts",
        str(args.dqn_learning_starts),
    ]
    if args.warmup:
        cmd += ["--warmup", str(args.warmup)]
    if args.force_bf16:
        cmd.append("--force-bf16")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(REPO))
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"{algo}/{variant} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--algos", default="ppo,a2c,dqn", help="comma-separated: ppo,a2c,dqn,qrdqn (default ppo,a2c,dqn)"
    )
    parser.add_argument(
        "--variants",
        default="sb3,sg,sg-bf16",
        help=f"comma-separated, from {','.join(VARIANTS)} (default sb3,sg,sg-bf16)",
    )
    parser.add_argument(
        "--steps", type=int, default=4096, help="timed agent steps per run, after the warm-up (default 4096)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="warm-up agent steps (default: one update cycle; DQN learning_starts + 1000)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="interleaved repeats; the median is reported (default 3)"
    )
    parser.add_argument(
        "--dqn-learning-starts", type=int, default=1000, help="DQN/QR-DQN learning_starts on both sides (default 1000)"
    )
    parser.add_argument(
        "--force-bf16", action="store_true", help="sg-bf16: apply bf16 even where the CPU only emulates it"
    )
    parser.add_argument("--json", help="also write all raw measurements to this JSON file")
    parser.add_argument(
        "--update-step", action="store_true", help="measure one PPO minibatch update per compute option instead"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--algo", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.update_step:
        return update_step(args)

    algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for name in algos:
        if name not in CONFIGS:
            parser.error(f"unknown algo {name!r} (choose from {','.join(CONFIGS)})")
    for name in variants:
        if name not in VARIANTS:
            parser.error(f"unknown variant {name!r} (choose from {','.join(VARIANTS)})")

    import stable_baselines3
    import torch

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    )
    print(
        f"python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), stable-baselines3 {stable_baselines3.__version__}"
    )
    print(
        f"timed steps per run: {args.steps}, repeats: {args.repeats} (interleaved), load average at start: {_load()}\n"
    )

    results: dict[tuple[str, str], list[dict[str, Any]]] = {(a, v): [] for a in algos for v in variants}
    loads = []
    for rep in range(args.repeats):
        loads.append(_load())
        for algo in algos:
            # Rotate the order each repeat so no variant always runs first.
            order = variants[rep % len(variants) :] + variants[: rep % len(variants)]
            for variant in order:
                res = run_one(algo, variant, args)
                results[(algo, variant)].append(res)
                print(
                    f"repeat {rep + 1}/{args.repeats} {algo:5s} {variant:10s} {res['steps'] / res['wall_s']:7.1f} steps/s  cpu {1e3 * res['cpu_s'] / res['steps']:5.2f} ms/step  (load {_load()})",
                    flush=True,
                )
    loads.append(_load())

    print(f"\nload average (1, 5, 15 min) before each repeat and at the end: {' | '.join(loads)}\n")
    # Two ratios against sb3: of the medians, and the median of the per-repeat ratios (each
    # variant against the sb3 run of the same repeat, minutes apart: less exposed to drift).
    print(
        "| algo | variant | steps/s (median) | min..max | CPU ms / step | vs sb3 (medians) | vs sb3 (paired) | compute applied |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|")
    paired: dict[tuple[str, str], float] = {}
    for algo in algos:
        base_runs = results.get((algo, "sb3"))
        for variant in variants:
            runs = results[(algo, variant)]
            rates = [r["steps"] / r["wall_s"] for r in runs]
            cpu = statistics.median(1e3 * r["cpu_s"] / r["steps"] for r in runs)
            median = statistics.median(rates)
            ratio, pair = "-", "-"
            if base_runs:
                base_rates = [r["steps"] / r["wall_s"] for r in base_runs]
                paired[(algo, variant)] = statistics.median(a / b for a, b in zip(rates, base_rates))
                ratio, pair = f"{median / statistics.median(base_rates):.2f}x", f"{paired[(algo, variant)]:.2f}x"
            applied = runs[-1]["applied"]
            what = ", ".join(
                f"{k} {v.split(' (')[0]}"
                for k, v in applied.items()
                if k in ("env", "channels_last", "compile", "bf16", "optimizer")
            )
            print(
                f"| {algo} | {variant} | {median:.0f} | {min(rates):.0f}..{max(rates):.0f} | {cpu:.2f} | {ratio} | {pair} | {what} |"
            )
    if ("ppo", "sb3") in results:
        print("\ntargets (PPO, paired ratio): sg >= 1.4x sb3, sg-bf16 >= 1.8x sb3")
        for variant, target in (("sg", 1.4), ("sg-bf16", 1.8)):
            if ("ppo", variant) in paired:
                ratio = paired[("ppo", variant)]
                bf16_applied = results[("ppo", variant)][-1]["applied"].get("bf16", "off").startswith("on")
                note = (
                    " (bf16 was not applied: see the compute column)"
                    if variant == "sg-bf16" and not bf16_applied
                    else ""
                )
                print(
                    f"  ppo {variant}: {ratio:.2f}x ({'met' if ratio >= target else 'MISSED'}, target {target}x){note}"
                )
    if args.json:
        Path(args.json).write_text(
            json.dumps({f"{a}/{v}": r for (a, v), r in results.items()} | {"loads": loads}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
