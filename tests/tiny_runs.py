"""One tiny trained run shared by test_evaluate.py and test_record.py (trained once per session).

PPO on Breakout for 256 steps (learns nothing, takes seconds): step checkpoints at 128 and 256,
``best.zip`` from one evaluation at 256, a training-time video every 128 steps (20 steps
long), and games capped at 2,000 frames (500 agent steps) so evaluations stay short. The cap
is saved in the run's config.yaml, which is what evaluate and record read.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SMOKE, cli_env, only_run_dir

TINY_SETS = [
    "total_timesteps=256",
    "checkpoint.freq=128",
    "checkpoint.keep=5",
    "eval.freq=256",
    "env.max_frames_per_episode=2000",
    "video.freq=128",
    "video.max_steps=20",
]
FRAME_CAP_STEPS = 2000 // 4

_CACHE: dict[str, Path] = {}


def quiet_env() -> dict[str, str]:
    """The CLI environment with one PyTorch thread: faster for tiny batches on a busy machine."""
    env = cli_env()
    env["OMP_NUM_THREADS"] = "1"
    return env


def run_quiet(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m <args>`` like conftest's ``run_cli``, with :func:`quiet_env`."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=str(REPO), env=quiet_env(), capture_output=True, text=True, timeout=timeout
    )


def tiny_ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "ppo" not in _CACHE:
        runs = tmp_path_factory.mktemp("tiny_run") / "runs"
        sets = [x for item in TINY_SETS for x in ("--set", item)]
        proc = run_quiet(
            "simple_game.train",
            "--config",
            str(SMOKE),
            "--runs-dir",
            str(runs),
            "--name",
            "tiny",
            "--no-progress",
            *sets,
        )
        assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
        _CACHE["ppo"] = only_run_dir(runs)
    return _CACHE["ppo"]
