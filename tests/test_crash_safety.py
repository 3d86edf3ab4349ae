"""Nothing a crash can do leaves a checkpoint that will not load.

- ``kill -9`` at random moments of a loop that saves checkpoints: ``latest`` always loads;
- SIGTERM a real training run (exit 130, ``interrupted``), ``kill -9`` the resumed run, resume again;
- a run whose loss turns NaN stops with exit 3 and keeps the last good checkpoint;
- a write that fails (file-size limit, like a full disk) is one ``error:`` line and exit 2.
"""

from __future__ import annotations

import json
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SMOKE, only_run_dir
from tiny_runs import quiet_env, run_quiet

pytestmark = pytest.mark.slow

# Saves a ~12 MB PPO checkpoint over and over, continuing from `latest` like a resumed run.
SAVER = r"""
import sys
from pathlib import Path
from stable_baselines3 import PPO
from simple_game.runs import RunDirectory
from simple_game.checkpoints import read_checkpoint_metadata, save_checkpoint

run = RunDirectory(Path(sys.argv[1]))
run.make_dirs()
latest = run.latest_checkpoint()
step = int(read_checkpoint_metadata(latest)["step"]) if latest else 0
model = PPO("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": [1024, 1024]}, n_steps=64, device="cpu")
print("ready", flush=True)
while True:
    step += 1
    model.num_timesteps = step
    path = run.step_path(step)
    save_checkpoint(model, path, {"algo": "ppo", "step": step})
    run.set_latest(path)
    run.prune_checkpoints(2)
"""


def test_kill_9_while_saving_never_corrupts_latest(tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    from simple_game.checkpoints import read_checkpoint_metadata
    from simple_game.runs import RunDirectory

    run = RunDirectory(tmp_path / "run")
    rng = random.Random(0)
    kills, mid_write, steps_seen = 6, 0, []
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(run.path)],
            cwd=str(REPO),
            env=quiet_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 1.5))
        proc.kill()
        proc.wait()
        temps = list(run.checkpoints_dir.glob(".*.tmp"))
        mid_write += bool(temps)
        latest = run.latest_checkpoint()
        if latest is None:  # killed before the first save finished
            continue
        assert latest.name == run.latest_pointer.read_text().strip()
        step = int(read_checkpoint_metadata(latest)["step"])
        assert latest.name == f"step_{step}.zip"
        assert PPO.load(latest, device="cpu").num_timesteps == step
        steps_seen.append(step)
        assert len(run.step_checkpoints()) <= 3  # keep=2, plus at most one written before pruning
        run.remove_temp_files()
    assert len(steps_seen) >= kills - 1 and steps_seen == sorted(steps_seen)
    print(f"{kills} kills, {mid_write} during a write, latest loaded every time (steps {steps_seen})")


def test_sigterm_then_kill_9_then_resume(tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    runs = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-m",
        "simple_game.train",
        "--config",
        str(SMOKE),
        "--runs-dir",
        str(runs),
        "--no-progress",
        "--set",
        "total_timesteps=1024",
        "--set",
        "checkpoint.freq=128",
        "--set",
        "eval.freq=0",
    ]
    proc = subprocess.Popen(
        cmd, cwd=str(REPO), env=quiet_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    _wait_latest(proc, runs, 256)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 130, out[-3000:]
    run = only_run_dir(runs)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted" and "SIGTERM" in out

    resumed = subprocess.Popen(
        [sys.executable, "-m", "simple_game.train", "--resume", str(run), "--no-progress"],
        cwd=str(REPO),
        env=quiet_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_latest(resumed, runs, summary["steps_done"] + 128)
    resumed.kill()
    resumed.communicate()
    latest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    assert PPO.load(latest, device="cpu").num_timesteps > summary["steps_done"]

    final = run_quiet("simple_game.train", "--resume", str(run), "--no-progress")
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps_done"] == 1024 and len(summary["resumed_at"]) == 2


def test_nan_loss_stops_training_and_keeps_last_good_checkpoint(tmp_path: Path) -> None:
    """A learning rate of 1e30 blows DQN's weights up within a few updates."""
    runs = tmp_path / "runs"
    proc = run_quiet(
        "simple_game.train",
        "--config",
        str(SMOKE),
        "--runs-dir",
        str(runs),
        "--no-progress",
        "--set",
        "algo=dqn",
        "--set",
        "env.n_envs=1",
        "--set",
        "total_timesteps=400",
        "--set",
        "checkpoint.freq=64",
        "--set",
        "eval.freq=0",
        "--set",
        "hyperparams={buffer_size: 1000, learning_starts: 64, train_freq: 4, target_update_interval: 100, batch_size: 32, learning_rate: 1.0e+30}",
    )
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: training diverged:") and "NaN or inf" in err[0]
    run = only_run_dir(runs)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "diverged" in summary["failure"]
    from stable_baselines3 import DQN

    from simple_game.agents import parameters_finite

    latest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    assert latest.name == "step_64.zip"  # saved before the first update; nothing after it
    assert parameters_finite(DQN.load(latest, device="cpu"))


def test_failed_write_is_one_line_error(tmp_path: Path) -> None:
    """Checkpoints (~20 MB) exceed a 4 MB file-size limit: the write fails like on a full disk."""

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4 * 2**20, 4 * 2**20))

    runs = tmp_path / "runs"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simple_game.train",
            "--config",
            str(SMOKE),
            "--runs-dir",
            str(runs),
            "--no-progress",
            "--set",
            "total_timesteps=256",
            "--set",
            "eval.freq=0",
            "--set",
            "checkpoint.freq=128",
        ],
        cwd=str(REPO),
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limit_file_size,
    )
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "step_128.zip: cannot write" in err[0], err
    run = only_run_dir(runs)
    assert json.loads((run / "summary.json").read_text())["status"] == "failed"
    assert not list(run.rglob("*.tmp")) and not (run / "checkpoints" / "latest").exists()


def _wait_latest(proc: subprocess.Popen, runs: Path, min_step: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        for pointer in runs.glob("*/checkpoints/latest"):
            name = pointer.read_text().strip()
            if name.startswith("step_") and int(name[5:-4]) >= min_step:
                return
        time.sleep(0.05)
    raise AssertionError("no checkpoint in time")
