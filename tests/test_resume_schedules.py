"""Resuming PPO with a larger budget: the learning rate and the clip range do not jump (issue 22).

A smoke PPO run (2 envs x 64 steps = 128 per rollout, ``lin_2.5e-4`` learning rate, ``lin_0.1``
clip range) trains toward 512 steps and is "killed" after its checkpoint at 256, where both
schedules are at half their start values. It is resumed toward 1,024 steps:

- ``continue`` (the default): from 1.25e-4 and 0.05 at 256 to 0 at 1,024, a straight line;
- ``--schedules stretch``: SB3's plain behaviour, ``lin_2.5e-4`` over 1,024 steps, a jump up.

The continued run is then killed after 768 and resumed toward 1,536 (the rescaling composes),
and its checkpoints load and evaluate in a fresh process (the wrapper pickles).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SMOKE, only_run_dir
from resume_helpers import killed_after, logged, progress_rows, resume
from tiny_runs import quiet_env, run_quiet

pytestmark = pytest.mark.slow

LR, CLIP = 2.5e-4, 0.1  # the smoke config's lin_ schedules (configs/base/ppo_atari.yaml)
ROLLOUT = 128
SETS = [
    "total_timesteps=512",
    "checkpoint.freq=256",
    "checkpoint.keep=10",
    "eval.freq=0",
    "env.max_frames_per_episode=2000",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("resume_schedules")
    sets = [x for item in SETS for x in ("--set", item)]
    proc = run_quiet(
        "simple_game.train", "--config", str(SMOKE), "--runs-dir", str(root / "runs"), "--no-progress", *sets
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    first = only_run_dir(root / "runs")
    cont = killed_after(first, root / "continue", 256)
    stretch = killed_after(first, root / "stretch", 256)
    out = {"first": first, "continue": cont, "stretch": stretch}
    out["first_rows"] = progress_rows(first)
    out["continue_rows"], out["continue_out"] = resume(cont, 1024)
    out["continue_summary"] = json.loads((cont / "summary.json").read_text())
    out["stretch_rows"], out["stretch_out"] = resume(stretch, 1024, "--schedules", "stretch")
    again = killed_after(cont, root / "again", 768)
    out["again"] = again
    out["again_rows"], out["again_out"] = resume(again, 1536)
    return out


def trained_with(rows: list[dict[str, str]], key: str) -> list[tuple[int, float]]:
    """``(t, value)``: the value the update after collecting step ``t`` used (logged one rollout later)."""
    return [(step - ROLLOUT, value) for step, value in logged(rows, key)]


def test_continue_goes_on_from_the_checkpoint_value(runs: dict) -> None:
    first, resumed = runs["first_rows"], runs["continue_rows"]
    # The first session's update at 256 used half the start values: 1.25e-4 and 0.05.
    assert dict(trained_with(first, "train/learning_rate"))[256] == pytest.approx(LR / 2)
    for key, start in (("train/learning_rate", LR), ("train/clip_range", CLIP)):
        values = trained_with(resumed, key)
        assert values and values[0][0] == 384, values
        for t, value in values:  # a straight line from start/2 at 256 to 0 at 1,024: no jump
            assert value == pytest.approx(start / 2 * (1024 - t) / (1024 - 256), rel=1e-6), (key, t)
        assert values[0][1] < start / 2
    assert "schedules (continue" in runs["continue_out"]
    assert "learning_rate 0.000125 -> 0; clip_range 0.05 -> 0 at 1,024" in runs["continue_out"]


def test_stretch_reproduces_sb3s_jump(runs: dict) -> None:
    resumed = runs["stretch_rows"]
    for key, start in (("train/learning_rate", LR), ("train/clip_range", CLIP)):
        values = trained_with(resumed, key)
        for t, value in values:
            assert value == pytest.approx(start * (1 - t / 1024), rel=1e-6), (key, t)
        assert values[0][1] > 1.2 * start / 2  # back up from start/2: SB3's jump
    assert "schedules (stretch" in runs["stretch_out"] and "(was 0.000125 at the checkpoint)" in runs["stretch_out"]


def test_second_resume_composes(runs: dict) -> None:
    """Killed after 768 of the continued run, resumed to 1,536: on from its value there, to 0."""
    at_768 = LR / 2 * (1024 - 768) / (1024 - 256)
    for t, value in trained_with(runs["again_rows"], "train/learning_rate"):
        assert value == pytest.approx(at_768 * (1536 - t) / (1536 - 768), rel=1e-6), t
    summary = json.loads((runs["again"] / "summary.json").read_text())
    assert summary["budgets"] == [512, 1024, 1536] and summary["total_timesteps"] == 1536


def test_rescaled_checkpoint_loads_and_evaluates_in_a_fresh_process(runs: dict, tmp_path: Path) -> None:
    ckpt = runs["continue"] / "checkpoints" / "step_1024.zip"
    code = (
        "import sys; from stable_baselines3 import PPO; m = PPO.load(sys.argv[1], device='cpu'); "
        "print(type(m.learning_rate).__name__, m.lr_schedule(1.0), m.clip_range(1.0))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(ckpt)], env=quiet_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    name, lr_at_start, clip_at_start = proc.stdout.split()
    scale = 0.5 * 1024 / (1024 - 256)  # k = p0 * T1 / (T1 - t0)
    assert name == "ProgressScaled" and "Could not deserialize" not in proc.stderr
    assert float(lr_at_start) == pytest.approx(LR * scale) and float(clip_at_start) == pytest.approx(CLIP * scale)
    out = tmp_path / "eval.json"
    proc = run_quiet("simple_game.evaluate", str(ckpt), "--episodes", "1", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(out.read_text())["n_episodes"] == 1


def test_summary_records_budgets_and_both_speeds(runs: dict) -> None:
    """After a "kill -9" (no wall_time_s in summary.json) the clock continues from the checkpoint's time."""
    from simple_game.checkpoints import read_checkpoint_metadata

    summary = runs["continue_summary"]
    assert summary["budgets"] == [512, 1024] and summary["steps_done"] == 1024 and len(summary["resumed_at"]) == 1
    before = read_checkpoint_metadata(runs["first"] / "checkpoints" / "step_256.zip")["wall_time_s"]
    assert 0 < before < summary["wall_time_s"]
    assert summary["fps"] == pytest.approx(1024 / summary["wall_time_s"], rel=0.01)
    session_s = summary["wall_time_s"] - before
    assert summary["session_fps"] == pytest.approx((1024 - 256) / session_s, rel=0.02)
    assert f"{summary['session_fps']:,.0f} steps/s (768 steps in" in runs["continue_out"]
