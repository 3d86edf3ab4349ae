"""Tiny end-to-end runs of Track A and Track B: killed with SIGKILL mid-run, then ``--resume``d with their buffers.

Each track's real config (a 1,000-transition shared-frame buffer via ``--set``, saved with every
checkpoint) trains in a subprocess until its checkpoint at step 256 is on disk and is then
killed with ``kill -9``. What ``--resume`` loads (``build_or_resume_model``, the function the
resume path calls) must be the saved buffer: frames, indices and, for Track B's prioritized
buffer, the sum tree array itself. The CLI resume then continues the run on that buffer.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from conftest import CONFIGS, REPO, only_run_dir
from tiny_runs import quiet_env, run_quiet

pytestmark = pytest.mark.slow

CHECKPOINT = 256
SETS = [
    "total_timesteps=100000",  # never reached: the run is killed
    "eval.freq=0",
    f"checkpoint.freq={CHECKPOINT}",
    "checkpoint.keep=10",
    "checkpoint.save_replay_buffer=true",
    "hyperparams.buffer_size=1000",
    "hyperparams.learning_starts=64",
    "hyperparams.batch_size=16",
    "hyperparams.target_update_interval=100",
]


def _train_until_checkpoint_then_kill(config: Path, runs: Path) -> tuple[Path, str]:
    """Start ``train``; once ``step_256.zip`` and its buffer are on disk and ``latest`` names it, SIGKILL it."""
    sets = [x for item in SETS for x in ("--set", item)]
    cmd = [sys.executable, "-m", "simple_game.train", "--config", str(config), "--runs-dir", str(runs), "--no-progress"]
    log = runs.parent / "train.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([*cmd, *sets], cwd=str(REPO), env=quiet_env(), stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and proc.poll() is None:
                latest = next(runs.glob("*/checkpoints/latest"), None)
                if latest is not None and latest.read_text().strip() != "":
                    break
                time.sleep(0.05)
            assert proc.poll() is None, log.read_text()[-3000:]
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return only_run_dir(runs), log.read_text()


@pytest.mark.parametrize("track", ["a", "b"])
def test_track_killed_and_resumed_with_its_buffer(track: str, tmp_path: Path) -> None:
    from simple_game.agents.dqn import FrameReplayBuffer, PrioritizedFrameReplayBuffer, format_bytes
    from simple_game.config import load_config
    from simple_game.envs.vector import make_train_env
    from simple_game.runs import RunDirectory
    from simple_game.training.setup import build_or_resume_model

    run, log = _train_until_checkpoint_then_kill(
        CONFIGS / "dqn" / f"track_{track}" / "breakout.yaml", tmp_path / "runs"
    )
    expected_class = FrameReplayBuffer if track == "a" else PrioritizedFrameReplayBuffer
    buffer_bytes = expected_class.memory_bytes(*_atari_spaces(), 1000, 1) + (2 * 1024 * 8 if track == "b" else 0)
    assert f"replay buffer: 1,000 transitions, {format_bytes(buffer_bytes)} of memory" in log  # the guard's size
    assert f"track: {track.upper()}\n" in (run / "config.yaml").read_text()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "running" and summary["track"] == track.upper()  # what kill -9 leaves

    directory = RunDirectory(run)
    latest = directory.latest_checkpoint()
    assert latest is not None
    step = int(latest.stem.split("_")[1])
    with open(directory.replay_buffer_path(latest), "rb") as fh:
        saved = pickle.load(fh)
    assert type(saved) is expected_class and saved.size() == step

    cfg = load_config(run / "config.yaml", [f"total_timesteps={step + 128}"])
    env = make_train_env(cfg.env, seed=cfg.seed)
    model = build_or_resume_model(cfg, env, "cpu", directory, latest, Console(file=io.StringIO()))
    env.close()
    loaded = model.replay_buffer
    assert type(loaded) is expected_class and loaded.pos == saved.pos and loaded.added == saved.added
    assert np.array_equal(loaded.store.frames, saved.store.frames)
    assert np.array_equal(loaded.obs_ends, saved.obs_ends) and np.array_equal(loaded.next_ends, saved.next_ends)
    if track == "b":  # the priorities go on from where they were: the same sum tree, the same maximum
        assert loaded.tree.total == saved.tree.total and np.array_equal(loaded.tree.nodes, saved.tree.nodes)
        assert loaded.max_priority == saved.max_priority
        learned = saved.tree.get(np.arange(step))
        assert len(np.unique(learned)) > 2  # priorities were learned, not all at the maximum

    proc = run_quiet(
        "simple_game.train", "--resume", str(run), "--no-progress", "--set", f"total_timesteps={step + 128}"
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"replay buffer restored ({step:,} transitions)" in proc.stdout and "refilling" not in proc.stdout
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["status"], summary["steps_done"], summary["track"]) == ("finished", step + 128, track.upper())
    final = directory.step_path(step + 128)
    with open(directory.replay_buffer_path(final), "rb") as fh:
        after = pickle.load(fh)
    assert after.size() == step + 128  # the restored transitions, then the resumed session's own
    assert np.array_equal(after.store.frames[: saved.store.written[0]], saved.store.frames[: saved.store.written[0]])


def _atari_spaces() -> tuple:
    from gymnasium import spaces

    return spaces.Box(0, 255, (4, 84, 84), np.uint8), spaces.Discrete(4)
