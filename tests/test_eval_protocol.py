"""Training's evaluation plays as ``simple_game.evaluate`` does: greedy plus epsilon, never DQN's exploration.

One tiny DQN run whose exploration rate is still 1.0 when it ends (``exploration_final_eps: 1``):
had training evaluated with DQN's own ``predict(deterministic=False)``, every action would be
random. Its one evaluation (the final one, at 400 steps, on the eval env's first games) must be
exactly what ``evaluate`` reports for the same checkpoint on the same seeds.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import SMOKE, only_run_dir
from tiny_runs import run_quiet

pytestmark = pytest.mark.slow

BUDGET = 400
GAMES = 3
EVAL_SEED = 10_000  # cfg.seed 0 + EVAL_SEED_OFFSET: the seed of training's evaluation env
HYPERPARAMS = (
    "hyperparams={buffer_size: 2000, learning_starts: 100, train_freq: 4, target_update_interval: 100, "
    "batch_size: 32, exploration_initial_eps: 1.0, exploration_final_eps: 1.0, "
    "policy_kwargs: {features_extractor_class: simple_game.policies.SimpleNatureCNN}}"
)
SETS = [
    "algo=dqn",
    "env.n_envs=1",
    HYPERPARAMS,
    f"total_timesteps={BUDGET}",
    "eval.freq=100000",  # only the final evaluation: the eval env's first games
    f"eval.episodes={GAMES}",
    "eval.epsilon=0",
    "checkpoint.freq=400",
    "env.max_frames_per_episode=2000",  # a greedy agent that never presses FIRE stalls until the cap
]


@pytest.fixture(scope="module")
def dqn_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("eval_protocol") / "runs"
    sets = [x for item in SETS for x in ("--set", item)]
    proc = run_quiet("simple_game.train", "--config", str(SMOKE), "--runs-dir", str(runs), "--no-progress", *sets)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return only_run_dir(runs)


def eval_row(run: Path) -> dict[str, float]:
    with open(run / "eval.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and int(rows[0]["timesteps"]) == BUDGET, rows
    return {key: float(value) for key, value in rows[0].items()}


def test_dqn_still_explores_at_the_checkpoint(dqn_run: Path) -> None:
    from simple_game.config import algorithm_class

    model = algorithm_class("dqn").load(dqn_run / "checkpoints" / f"step_{BUDGET}.zip", device="cpu")
    assert model.exploration_rate == pytest.approx(1.0)


def test_eval_csv_is_what_evaluate_reports(dqn_run: Path, tmp_path: Path) -> None:
    """Greedy (epsilon 0) on the eval env's seed: the same games, game for game, as ``evaluate --epsilon 0``."""
    out = tmp_path / "eval.json"
    args = ["--checkpoint", "latest", "--episodes", str(GAMES), "--epsilon", "0", "--seed", str(EVAL_SEED)]
    proc = run_quiet("simple_game.evaluate", str(dqn_run), *args, "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["protocol"]["actions"] == "greedy" and report["protocol"]["epsilon"] == 0
    row = eval_row(dqn_run)
    for ours, theirs in [("mean_score", "mean"), ("std_score", "std"), ("median_score", "median")]:
        assert row[ours] == pytest.approx(report[theirs]), (ours, row, report["episode_scores"])
    assert (row["min_score"], row["max_score"]) == (report["min"], report["max"])
    assert row["mean_length"] == pytest.approx(report["mean_length"])  # same games, same number of steps


def test_callback_actor_is_evaluates_actor(dqn_run: Path, tmp_path: Path) -> None:
    """With epsilon 0.3 the random actions must also match: the callback and ``evaluate`` share one actor."""
    from rich.console import Console
    from stable_baselines3.common.logger import configure

    from simple_game.callbacks import EvaluationCallback
    from simple_game.evaluation import evaluate_target, make_policy, resolve_target
    from simple_game.evaluation.batched import seeded_games
    from simple_game.runs import RunDirectory

    target = resolve_target(str(dqn_run), checkpoint="latest")
    report = evaluate_target(
        target, episodes=GAMES, epsilon=0.3, deterministic=True, seed=EVAL_SEED, console=Console(quiet=True)
    )
    env = seeded_games(target.cfg.env, EVAL_SEED, 2)  # what training makes; the scores do not depend on 2
    model = make_policy(target, env)
    assert model is not None and model.exploration_rate == pytest.approx(1.0)
    model.set_logger(configure(None, [""]))
    scratch = RunDirectory(tmp_path / "scratch")
    scratch.make_dirs()
    callback = EvaluationCallback(
        env, scratch, 0, GAMES, True, lambda step: {"step": step}, epsilon=0.3, seed=EVAL_SEED
    )
    callback.init_callback(model)  # num_timesteps 0: the actor's seed is EVAL_SEED, evaluate's
    result = callback.evaluate()
    env.close()
    assert report["max"] > 0  # the random actions score points here: a real check of the shared actor
    assert result["mean_score"] == pytest.approx(report["mean"]) and result["n_episodes"] == GAMES
    assert (result["min_score"], result["max_score"]) == (report["min"], report["max"])
    assert result["mean_length"] == pytest.approx(report["mean_length"])
