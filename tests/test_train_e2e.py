"""End to end: tiny real training runs of every algorithm through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SMOKE, only_run_dir, run_cli

TINY = {
    "ppo": [],
    "a2c": ["algo=a2c", "hyperparams={n_steps: 16}", "total_timesteps=384"],
    "dqn": [
        "algo=dqn",
        "env.n_envs=1",
        "hyperparams={buffer_size: 2000, learning_starts: 100, train_freq: 4, target_update_interval: 100, batch_size: 32}",
        "total_timesteps=400",
        "logging.log_interval=1",
    ],
    "qrdqn": [
        "algo=qrdqn",
        "env.n_envs=1",
        "hyperparams={buffer_size: 2000, learning_starts: 100, n_quantiles: 50? }".replace("? ", ""),
        "total_timesteps=400",
        "logging.log_interval=1",
    ],
}
TINY["qrdqn"][2] = "hyperparams={buffer_size: 2000, learning_starts: 100, target_update_interval: 100}"
# `--set hyperparams={...}` replaces the whole mapping: keep the shipped feature extractor.
for _sets in TINY.values():
    _sets[:] = [
        s[:-1] + ", policy_kwargs: {features_extractor_class: simple_game.policies.SimpleNatureCNN}}"
        if s.startswith("hyperparams=")
        else s
        for s in _sets
    ]


def _scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


@pytest.mark.slow
@pytest.mark.parametrize("algo", list(TINY))
def test_tiny_run(algo: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sets = [x for item in TINY[algo] for x in ("--set", item)]
    proc = run_cli(
        "simple_game.train", "--config", str(SMOKE), "--runs-dir", str(runs), "--name", f"tiny_{algo}", *sets
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    run = only_run_dir(runs)
    assert run.name.startswith(f"tiny_{algo}_")
    assert "fps" in proc.stdout and "mean score" in proc.stdout

    # Resolved config, logs and summary.
    assert (run / "config.yaml").read_text().count(f"algo: {algo}") == 1
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["algo"] == algo and summary["game"] == "breakout"
    assert summary["steps_done"] >= summary["total_timesteps"]
    assert summary["final_eval_mean"] is not None and summary["fps"] > 0
    # The compute defaults on CPU: the layout timed for this network, compile off, fused Adam where there is an Adam.
    layout = summary["compute"]["channels_last"]
    assert layout.startswith(("on (auto: NHWC", "off (auto: NHWC")) and "ms on this CPU" in layout, layout
    assert summary["compute"]["compile"].startswith("off")
    assert f"compute: channels_last {layout}" in proc.stdout
    assert (
        summary["compute"]["optimizer"].endswith("(unchanged)")
        if algo == "a2c"
        else summary["compute"]["optimizer"] == "Adam fused"
    )
    assert (run / "progress.csv").stat().st_size > 0
    eval_rows = (run / "eval.csv").read_text().splitlines()
    assert eval_rows[0].startswith("timesteps,mean_score") and len(eval_rows) >= 2

    # TensorBoard scalars, read back with TensorBoard's own reader.
    scalars = _scalars(run)
    assert "eval/mean_score" in scalars and "time/fps" in scalars or "rollout/exploration_rate" in scalars, sorted(
        scalars
    )

    # Checkpoints SB3 can load, and the latest pointer.
    latest = (run / "checkpoints" / "latest").read_text().strip()
    assert (run / "checkpoints" / latest).is_file()
    from simple_game.config import algorithm_class

    model = algorithm_class(algo).load(run / "checkpoints" / latest, device="cpu")
    assert model.num_timesteps == summary["steps_done"]
    assert (run / "checkpoints" / "best.zip").is_file()

    # One row in experiments.md (inside an outside --runs-dir: simple_game.experiment_log.default_log_path).
    log = (runs / "experiments.md").read_text()
    assert f"| tiny_{algo} | {algo} | breakout |" in log


@pytest.mark.slow
def test_same_seed_same_first_eval(tmp_path: Path) -> None:
    results = []
    for i in range(2):
        runs = tmp_path / f"runs{i}"
        run_cli(
            "simple_game.train",
            "--config",
            str(SMOKE),
            "--runs-dir",
            str(runs),
            "--set",
            "total_timesteps=256",
            check=True,
        )
        results.append((only_run_dir(runs) / "eval.csv").read_text().splitlines()[1].split(",")[:8])
    assert results[0] == results[1]


@pytest.mark.slow
def test_legacy_src_module_path(tmp_path: Path) -> None:
    """`python -m src.simple_game.train` from the repo root, naming `src.simple_game...` classes."""
    runs = tmp_path / "runs"
    proc = run_cli(
        "src.simple_game.train",
        "--config",
        str(SMOKE),
        "--runs-dir",
        str(runs),
        "--set",
        "total_timesteps=128",
        "--set",
        "eval.freq=0",
        "--set",
        "hyperparams.policy_kwargs.features_extractor_class=src.simple_game.policies.SimpleNatureCNN",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((only_run_dir(runs) / "summary.json").read_text())["status"] == "finished"


@pytest.mark.slow
def test_skill_milestones_saved(tmp_path: Path) -> None:
    """Thresholds low enough for a random agent: tiers 1 and 2 saved with their metadata."""
    runs = tmp_path / "runs"
    run_cli(
        "simple_game.train",
        "--config",
        str(SMOKE),
        "--runs-dir",
        str(runs),
        "--set",
        "total_timesteps=1024",
        "--set",
        "eval.freq=0",
        "--set",
        "milestones={thresholds: [0, 0.5, 1000000], window: 2}",
        check=True,
    )
    from simple_game.checkpoints import read_checkpoint_metadata

    ckpt = only_run_dir(runs) / "checkpoints"
    assert (ckpt / "skill_level_1.zip").is_file() and (ckpt / "skill_level_2.zip").is_file()
    assert not (ckpt / "skill_level_3.zip").exists()
    meta = read_checkpoint_metadata(ckpt / "skill_level_2.zip")
    assert meta["skill_level"] == 2 and meta["window"] == 2 and meta["rolling_mean_score"] >= 0.5 and meta["step"] > 0
