#!/usr/bin/env python
"""Environment throughput: SB3 Python wrappers vs ale-py's C++ vector env.

    python bench/env_throughput.py [--game breakout] [--n-envs 8] [--steps 4000] [--repeats 3]

Random actions (pre-drawn, so the policy costs nothing). Each backend is built once, warmed
up, then timed for ``--steps`` agent steps in total (summed over envs); the backends take
turns within each repeat (interleaved, so a noisy neighbour hits all of them alike) and the
median over repeats is reported. frames/s = agent steps/s x frame skip (4). The CPU column
(CPU time of the process, its threads and env worker processes, per agent step) does not
depend on other load on the machine; wall-clock figures do, so the load average is printed.

  sb3-dummy     make_atari_env (Monitor + AtariWrapper) + DummyVecEnv + VecFrameStack(4) + VecTransposeImage
  sb3-subproc   the same with SubprocVecEnv (one worker process per env)
  ale-vector    simple_game.ale_vector.AleVectorEnv, training mode (life loss = done, clipped rewards)
  atari-vector  raw ale_py AtariVectorEnv configured as AleVectorEnv uses it (ceiling of the C++ path)
  ale-raw       plain ALEInterface.act() loop, n_envs games stepped one after another in this
                thread, no preprocessing at all (single-core emulator ceiling)
"""

from __future__ import annotations

import argparse
import functools
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

FRAME_SKIP = 4


def _gym_env(gym_id: str, **kwargs):
    """Module-level env factory: SubprocVecEnv workers (forkserver/spawn) start without the
    parent's gymnasium registry, so each worker registers the ALE ids itself."""
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    return gym.make(gym_id, **kwargs)


def gym_id_for(game: str) -> str:
    return "".join(part.capitalize() for part in game.split("_")) + "NoFrameskip-v4"


class Backend:
    """step(env, actions) does one vector step, i.e. n_envs agent steps."""

    def __init__(
        self,
        name: str,
        build: Callable[[], object],
        step: Callable[[object, np.ndarray], None],
        close: Callable[[object], None],
        worker_pids: Callable[[object], list[int]] | None = None,
    ):
        self.name, self._build, self._step, self._close = name, build, step, close
        self._worker_pids = worker_pids
        self.env = None

    def open(self):
        self.env = self._build()

    def cpu_seconds(self) -> float | None:
        """CPU time of this process (all threads) plus its env worker processes, if any.

        Unlike wall time, this does not depend on what else the machine is running."""
        total = time.process_time()
        if self._worker_pids is not None:
            tick = os.sysconf("SC_CLK_TCK")
            for pid in self._worker_pids(self.env):
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    return None
                total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        return total

    def run(self, actions: np.ndarray) -> tuple[float, float | None]:
        env, step = self.env, self._step
        c0 = self.cpu_seconds()
        t0 = time.perf_counter()
        for a in actions:
            step(env, a)
        wall = time.perf_counter() - t0
        c1 = self.cpu_seconds()
        return wall, (None if c0 is None or c1 is None else c1 - c0)

    def close(self):
        if self.env is not None:
            self._close(self.env)
            self.env = None


def make_backends(game: str, n_envs: int, seed: int) -> list[Backend]:
    import ale_py
    from ale_py import roms
    from ale_py.vector_env import AtariVectorEnv
    from gymnasium.vector import AutoresetMode
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecFrameStack, VecTransposeImage

    from simple_game.envs.ale_vector import AleVectorEnv

    env_fn = functools.partial(_gym_env, gym_id_for(game))

    def sb3(vec_cls):
        def build():
            venv = make_atari_env(env_fn, n_envs=n_envs, seed=seed, vec_env_cls=vec_cls)
            venv = VecTransposeImage(VecFrameStack(venv, n_stack=4))
            venv.reset()
            return venv

        return build

    def vec_step(env, a):
        env.step(a)

    def ale_vector():
        env = AleVectorEnv(game, n_envs, seed=seed, training=True)
        env.reset()
        return env

    def atari_vector():
        # Exactly the C++ configuration AleVectorEnv runs (see its constructor).
        env = AtariVectorEnv(
            game,
            n_envs,
            autoreset_mode=AutoresetMode.SAME_STEP,
            stack_num=4,
            frameskip=FRAME_SKIP,
            noop_max=30,
            episodic_life=False,
            life_loss_info=False,
            reward_clipping=False,
            use_fire_reset=True,
        )
        env.reset(seed=seed)
        return env

    def ale_raw():
        rom = roms.get_rom_path(game)
        ales = []
        for i in range(n_envs):
            ale = ale_py.ALEInterface()
            ale.setLoggerMode(ale_py.LoggerMode.Error)
            ale.setInt("random_seed", seed + i)
            ale.setFloat("repeat_action_probability", 0.0)
            ale.loadROM(rom)
            ales.append(ale)
        return ales, list(ales[0].getMinimalActionSet())

    def ale_raw_step(env, a):
        ales, action_set = env
        for ale, ai in zip(ales, a.tolist()):
            act = action_set[ai]
            for _ in range(FRAME_SKIP):
                ale.act(act)
            if ale.game_over():
                ale.reset_game()

    return [
        Backend("sb3-dummy", sb3(DummyVecEnv), vec_step, lambda e: e.close()),
        Backend("sb3-subproc", sb3(SubprocVecEnv), vec_step, lambda e: e.close(), _subproc_pids),
        Backend("ale-vector", ale_vector, vec_step, lambda e: e.close()),
        Backend("atari-vector", atari_vector, vec_step, lambda e: e.close()),
        Backend("ale-raw", ale_raw, ale_raw_step, lambda e: None),
    ]


def _subproc_pids(env) -> list[int]:
    return [p.pid for p in env.unwrapped.processes]


def machine_info() -> dict[str, str]:
    import ale_py
    import gymnasium
    import stable_baselines3

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": f"{model} ({platform.machine()}), {os.cpu_count()} logical CPUs",
        "python": platform.python_version(),
        "versions": f"ale-py {ale_py.__version__}, gymnasium {gymnasium.__version__}, "
        f"stable-baselines3 {stable_baselines3.__version__}, numpy {np.__version__}",
    }


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--game", default="breakout", help="ALE ROM id, snake_case (default: breakout)")
    p.add_argument("--n-envs", type=int, default=8)
    p.add_argument("--steps", type=int, default=4000, help="agent steps per timing, summed over envs")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=200, help="untimed agent steps after building each backend")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="*", help="subset of backends to run")
    args = p.parse_args(argv)

    n = args.n_envs
    vec_steps = max(1, args.steps // n)
    rng = np.random.default_rng(args.seed)
    backends = make_backends(args.game, n, args.seed)
    if args.only:
        backends = [b for b in backends if b.name in args.only]

    info = machine_info()
    print(f"# env throughput: {args.game}, n_envs={n}, {vec_steps * n} agent steps x {args.repeats} repeats")
    for k, v in info.items():
        print(f"#   {k}: {v}")

    results: dict[str, list[float]] = {b.name: [] for b in backends}
    cpu_us: dict[str, list[float]] = {b.name: [] for b in backends}
    print(f"#   load average before: {_loadavg()}")
    try:
        for b in backends:
            b.open()
            b.run(rng.integers(0, 4, size=(max(1, args.warmup // n), n)))
        for r in range(args.repeats):
            for b in backends:
                actions = rng.integers(0, 4, size=(vec_steps, n))
                wall, cpu = b.run(actions)
                results[b.name].append(vec_steps * n / wall)
                if cpu is not None:
                    cpu_us[b.name].append(cpu / (vec_steps * n) * 1e6)
                print(
                    f"  repeat {r + 1}/{args.repeats} {b.name:<13} {vec_steps * n / wall:10.0f} agent steps/s",
                    flush=True,
                )
    finally:
        for b in backends:
            b.close()
    print(f"#   load average after: {_loadavg()}")

    med = {k: statistics.median(v) for k, v in results.items()}
    print()
    print("| backend | agent steps/s (median) | frames/s | min..max agent steps/s | CPU us / agent step |")
    print("|---|---:|---:|---:|---:|")
    for name, v in results.items():
        cpu = f"{statistics.median(cpu_us[name]):,.0f}" if cpu_us[name] else "n/a"
        print(f"| {name} | {med[name]:,.0f} | {med[name] * FRAME_SKIP:,.0f} | {min(v):,.0f}..{max(v):,.0f} | {cpu} |")
    print()

    def ratio(a: str, b: str, target: float | None = None) -> None:
        if a in med and b in med:
            x = med[a] / med[b]
            verdict = "" if target is None else f" (target >= {target}: {'OK' if x >= target else 'MISS'})"
            print(f"{a} / {b}: {x:.2f}x{verdict}")

    ratio("ale-vector", "sb3-dummy", 2.5)
    ratio("ale-vector", "atari-vector", 0.85)
    ratio("ale-vector", "sb3-subproc")
    ratio("atari-vector", "ale-raw")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
