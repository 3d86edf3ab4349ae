"""Resuming DQN: the exploration rate does not jump, and an unsaved replay buffer is refilled first (issue 22).

A one-env DQN run trains toward 400 steps with its exploration rate falling from 1 to 0.05 over
the whole budget (``exploration_fraction: 1``), warm-up ``learning_starts: 100``, one gradient
step every 4 steps; its replay buffer is not saved (the default). It is "killed" after its
checkpoint at 200 (exploration 0.525, 25 gradient steps done) and resumed toward 800 steps.

After the resume the loaded policy first plays 100 transitions into the empty buffer (steps 201
to 300, no gradient step); learning then goes on, its counters continuing from the checkpoint.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from conftest import SMOKE, only_run_dir
from resume_helpers import killed_after, logged, resume
from tiny_runs import run_quiet

pytestmark = pytest.mark.slow

START, END = 1.0, 0.05  # exploration_initial_eps (SB3's default) and exploration_final_eps
WARMUP, TRAIN_FREQ = 100, 4
HYPERPARAMS = (
    f"hyperparams={{buffer_size: 2000, learning_starts: {WARMUP}, train_freq: {TRAIN_FREQ}, "
    "target_update_interval: 100, batch_size: 32, exploration_fraction: 1.0, "
    f"exploration_final_eps: {END}, policy_kwargs: {{features_extractor_class: simple_game.policies.SimpleNatureCNN}}}}"
)
SETS = [
    "algo=dqn",
    "env.n_envs=1",
    HYPERPARAMS,
    "total_timesteps=400",
    "eval.freq=0",
    "checkpoint.freq=100",
    "checkpoint.keep=10",
    "logging.log_interval=1",  # a row at every lost life
]


def epsilon(progress: float) -> float:
    """SB3's linear exploration schedule with exploration_fraction 1."""
    return START + (1 - progress) * (END - START)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("resume_replay")
    sets = [x for item in SETS for x in ("--set", item)]
    proc = run_quiet(
        "simple_game.train", "--config", str(SMOKE), "--runs-dir", str(root / "runs"), "--no-progress", *sets
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    first = only_run_dir(root / "runs")
    cont, stretch = killed_after(first, root / "continue", 200), killed_after(first, root / "stretch", 200)
    out = {"first": first, "continue": cont, "stretch": stretch}
    out["continue_rows"], out["continue_out"] = resume(cont, 800)
    out["stretch_rows"], out["stretch_out"] = resume(stretch, 800, "--schedules", "stretch")
    return out


def load(path: Path):  # noqa: ANN201 (a DQN)
    from simple_game.config import algorithm_class

    return algorithm_class("dqn").load(path, device="cpu")


def test_exploration_rate_does_not_jump(runs: dict) -> None:
    checkpoint = load(runs["first"] / "checkpoints" / "step_200.zip")
    assert checkpoint.exploration_rate == pytest.approx(epsilon(1 - 200 / 400))  # 0.525
    rates = logged(runs["continue_rows"], "rollout/exploration_rate")
    assert rates and rates[0][0] > 300  # nothing is logged while the buffer refills
    scale = (1 - 200 / 400) * 800 / (800 - 200)  # k = p0 * T1 / (T1 - t0)
    for t, rate in rates:  # from 0.525 at 200 on to 0.05 at 800, as the rule says
        assert rate == pytest.approx(epsilon(scale * (1 - t / 800)), rel=1e-9), t
        assert rate < checkpoint.exploration_rate
    assert "exploration_rate 0.525 -> 0.05 at 800" in runs["continue_out"]


def test_stretch_reproduces_sb3s_jump(runs: dict) -> None:
    rates = logged(runs["stretch_rows"], "rollout/exploration_rate")
    for t, rate in rates:
        assert rate == pytest.approx(epsilon(1 - t / 800), rel=1e-9), t
    # SB3 restarts the schedule over 800 steps: at the resumed step 0.762 instead of 0.525.
    assert "exploration_rate 0.762 (was 0.525 at the checkpoint) -> 0.05 at 800" in runs["stretch_out"]


def test_buffer_refilled_before_any_gradient_step(runs: dict) -> None:
    out = runs["continue_out"]
    assert f"refilling the replay buffer with {WARMUP} transitions (learning_starts) before any gradient step" in out
    assert "epsilon-greedy at its exploration rate 0.525" in out and "learning resumes at step 300" in out
    at_checkpoint = load(runs["first"] / "checkpoints" / "step_200.zip")._n_updates
    assert at_checkpoint == (200 - WARMUP) // TRAIN_FREQ  # 25: one after each 4 steps past the warm-up
    updates = logged(runs["continue_rows"], "train/n_updates")
    assert updates
    for t, n in updates:
        # Counted on from the checkpoint, and only from step 300: one update after each 4 steps after the refill.
        assert n == at_checkpoint + math.floor((t - 1 - 300) / TRAIN_FREQ), t
    final = load(runs["continue"] / "checkpoints" / "step_800.zip")
    assert final._n_updates == at_checkpoint + (800 - 300) // TRAIN_FREQ
    # The target network's counter carries on too, and the refill's steps are not its steps.
    assert final._n_calls == 200 + (800 - 300)
    summary = json.loads((runs["continue"] / "summary.json").read_text())
    assert summary["steps_done"] == 800 and summary["budgets"] == [400, 800]
