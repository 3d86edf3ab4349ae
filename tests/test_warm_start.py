"""``init_from:``: a new run whose network starts as a trained agent's, or a one-line refusal."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from conftest import only_run_dir
from simple_game.runs import RunDirectory
from simple_game.skill_curve import describe, tiers_reached
from tiny_runs import run_quiet

pytestmark = pytest.mark.slow

SOURCE_SETS = ["total_timesteps=256", "eval.freq=0", "checkpoint.freq=256"]


@pytest.fixture(scope="module")
def source_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny PPO run (two updates): its weights differ from a fresh network's."""
    runs = tmp_path_factory.mktemp("source") / "runs"
    _train(Path("configs/smoke.yaml"), runs, SOURCE_SETS, name="source")
    return only_run_dir(runs)


def _train(config: Path, runs: Path, sets: list[str], name: str = "exp", code: int = 0):
    proc = run_quiet(
        "simple_game.train",
        "--config",
        str(config),
        "--runs-dir",
        str(runs),
        "--name",
        name,
        "--no-progress",
        *[x for s in sets for x in ("--set", s)],
    )
    assert proc.returncode == code, proc.stderr[-3000:] + proc.stdout[-2000:]
    return proc


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    from stable_baselines3 import PPO

    return PPO.load(checkpoint, device="cpu").policy.state_dict()


def _config(write_yaml, init_from: str, extra: str = "", name: str = "exp.yaml") -> Path:
    return write_yaml(
        f"extends: @CONFIGS@/smoke.yaml\n{init_from}\n"
        "total_timesteps: 128\neval:\n  freq: 0\nhyperparams:\n  learning_rate: 0.0\n" + extra,
        name,
    )


def test_the_new_run_starts_with_the_agents_network(source_run: Path, write_yaml, tmp_path: Path) -> None:
    # learning rate 0: whatever the run saves is the network it started with
    agent = source_run / "checkpoints" / "step_256.zip"
    warm = _config(write_yaml, f"init_from:\n  agent: {source_run}\n  checkpoint: step_256")
    proc = _train(warm, tmp_path / "warm", [])
    assert "network initialised from" in proc.stdout and "trained 256 steps" in proc.stdout
    run = only_run_dir(tmp_path / "warm")
    started, trained = _weights(run / "checkpoints" / "step_128.zip"), _weights(agent)
    assert started.keys() == trained.keys()
    assert all(torch.equal(started[k], trained[k]) for k in trained)
    record = json.loads((run / "summary.json").read_text())["init_from"]
    assert record["step"] == 256 and record["checkpoint"] == str(agent) and len(record["sha256"]) == 64
    # time to skill counts the agent's steps too (report --skill-curves)
    (reach,) = tiers_reached(RunDirectory(run), [1e9])
    assert reach.steps_before == 256 and describe([replace(reach, step=1000, hours=0.5)]) == [
        "tier 1 (>= 1e+09): 1,256 steps (256 of the agent it started from + 1,000 here), 0.5 h of training in this run"
    ]

    # a resumed warm-started run goes on from its own checkpoint and still says where it began
    proc = run_quiet("simple_game.train", "--resume", str(run), "--set", "total_timesteps=256", "--no-progress")
    assert proc.returncode == 0 and "network initialised" not in proc.stdout, proc.stderr[-2000:]
    resumed = json.loads((run / "summary.json").read_text())
    assert resumed["steps_done"] == 256 and resumed["init_from"] == record

    # control: the same config without init_from starts from random weights, not the agent's
    _train(_config(write_yaml, "", name="cold.yaml"), tmp_path / "cold", [])
    fresh = _weights(only_run_dir(tmp_path / "cold") / "checkpoints" / "step_128.zip")
    assert not all(torch.equal(fresh[k], trained[k]) for k in trained)


@pytest.mark.parametrize(
    ("init_from", "extra", "expected"),
    [
        ("init_from:\n  agent: no/such/run", "", "init_from: no/such/run: no such run directory or checkpoint"),
        ("init_from:\n  agent: @RUN@\n  checkpoint: latest", "env:\n  frame_stack: 2\n", "frame_stack"),
        ("init_from:\n  agent: @RUN@\n  checkpoint: latest", "A2C", "is a ppo agent, but this config trains a2c"),
        ("init_from:\n  agent: @RUN@\n  checkpoint: bogus", "", "init_from: checkpoint: unknown 'bogus' (allowed:"),
    ],
    ids=["missing", "frame-stack", "algorithm", "checkpoint-name"],
)
def test_an_agent_that_does_not_fit_is_one_line_and_no_run(
    source_run: Path, write_yaml, tmp_path: Path, init_from: str, extra: str, expected: str
) -> None:
    init_from = init_from.replace("@RUN@", str(source_run))
    if extra == "A2C":
        config = write_yaml(f"extends: @CONFIGS@/a2c_breakout.yaml\n{init_from}\ntotal_timesteps: 128\n")
    else:
        config = _config(write_yaml, init_from, extra)
    proc = _train(config, tmp_path / "runs", [], code=2)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{config}: init_from" in lines[0] and expected in lines[0], lines[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_bare_path_is_the_agent(write_yaml) -> None:
    from simple_game.config import load_config

    cfg = load_config(write_yaml("extends: @CONFIGS@/smoke.yaml\ninit_from: runs/some_run\n"))
    assert cfg.init_from is not None and (cfg.init_from.agent, cfg.init_from.checkpoint) == ("runs/some_run", None)
