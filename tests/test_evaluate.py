"""`simple_game.evaluate` on a tiny trained run: JSON report, protocol, random baseline, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import CONFIGS, SMOKE
from tiny_runs import FRAME_CAP_STEPS, run_quiet, tiny_ppo_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_ppo_run(tmp_path_factory)


def _evaluate(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """The evaluate CLI's ``main`` in this process (fast for error cases): code, stdout, stderr."""
    from simple_game.cli.evaluate import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_run_dir_writes_json(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    proc = run_quiet("simple_game.evaluate", str(run), "--episodes", "2", "--seed", "3", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mean score" in proc.stdout and "breakout" in proc.stdout
    report = json.loads(out.read_text())
    assert report["game"] == "breakout" and report["algo"] == "ppo"
    assert report["checkpoint"].endswith("checkpoints/best.zip") and report["checkpoint_step"] == 256
    assert report["n_episodes"] == 2 and len(report["episode_scores"]) == 2 and len(report["episode_lengths"]) == 2
    scores = np.array(report["episode_scores"])
    assert report["mean"] == pytest.approx(scores.mean()) and report["std"] == pytest.approx(scores.std())
    assert (
        report["median"] == pytest.approx(np.median(scores))
        and report["min"] == scores.min()
        and report["max"] == scores.max()
    )
    assert all(0 < n <= FRAME_CAP_STEPS for n in report["episode_lengths"])
    proto = report["protocol"]
    assert proto["protocol"] == "classic" and proto["sticky_action_probability"] == 0.0 and proto["noop_max"] == 30
    assert proto["max_frames_per_episode"] == 2000 and proto["full_games"] and proto["raw_scores"]
    assert proto["epsilon"] == 0.05 and proto["actions"] == "greedy" and proto["seed"] == 3


def test_evaluate_checkpoint_file_deterministic(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    proc = run_quiet(
        "simple_game.evaluate",
        str(run / "checkpoints" / "step_128.zip"),
        "--deterministic",
        "--episodes",
        "1",
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["checkpoint_step"] == 128 and report["run_dir"] == str(run)
    assert report["protocol"]["epsilon"] == 0.0 and report["protocol"]["actions"] == "greedy"


def test_random_baseline_same_protocol(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "random.json"
    code, stdout, err = _evaluate(capsys, str(run), "--random", "--episodes", "2", "--n-envs", "2", "--json", str(out))
    assert code == 0, err
    report = json.loads(out.read_text())
    assert report["algo"] == "random" and report["checkpoint"] is None and report["n_episodes"] == 2
    assert report["protocol"]["max_frames_per_episode"] == 2000 and report["protocol"]["n_envs"] == 2
    # Same seed, same games.
    again = tmp_path / "again.json"
    assert _evaluate(capsys, str(run), "--random", "--episodes", "2", "--n-envs", "2", "--json", str(again))[0] == 0
    assert json.loads(again.read_text())["episode_scores"] == report["episode_scores"]


def test_checkpoint_outside_run_needs_config(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    loose = tmp_path / "agent.zip"
    shutil.copy(run / "checkpoints" / "step_256.zip", loose)
    code, _, err = _evaluate(capsys, str(loose))
    assert (
        code == 2 and "not inside a run directory" in err and "--config" in err and len(err.strip().splitlines()) == 1
    )
    code, out, err = _evaluate(capsys, str(loose), "--config", str(run / "config.yaml"), "--episodes", "1")
    assert code == 0, err
    assert "mean score" in out


def test_user_errors(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture, write_yaml) -> None:
    def error(*args: str) -> str:
        code, _, err = _evaluate(capsys, *args)
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        return lines[0]

    assert "no such run directory or checkpoint" in error(str(tmp_path / "nope"))
    assert "no 'step_999' checkpoint" in error(str(run), "--checkpoint", "step_999")
    assert "unknown 'newest'" in error(str(run), "--checkpoint", "newest")
    (tmp_path / "empty_run").mkdir()
    assert "no config.yaml" in error(str(tmp_path / "empty_run"))
    ckpt = str(run / "checkpoints" / "step_256.zip")
    # A PPO checkpoint with a DQN config (our metadata says ppo).
    assert "is a ppo model" in error(ckpt, "--config", str(CONFIGS / "dqn_breakout.yaml"))
    # Another game, another frame stack.
    assert "trained on breakout" in error(ckpt, "--config", str(CONFIGS / "ppo_pong.yaml"))
    stack8 = write_yaml(f"extends: {SMOKE}\nenv: {{frame_stack: 8}}\n", name="stack8.yaml")
    assert "frame_stack: 4" in error(ckpt, "--config", str(stack8))
    # All 18 actions against a checkpoint trained on Breakout's minimal set of 4 (issue 20).
    full = write_yaml(f"extends: {SMOKE}\nenv: {{full_action_space: true}}\n", name="full.yaml")
    assert "env.full_action_space: false, but the config has true" in error(ckpt, "--config", str(full))
    assert "--epsilon: must be between 0 and 1" in error(str(run), "--epsilon", "1.5")
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    assert "not a readable checkpoint" in error(str(not_zip), "--config", str(SMOKE))


@pytest.mark.parametrize(
    "command,args,needle",
    [
        ("evaluate", ["--episodes", "0"], "--episodes/-n: must be at least 1, got 0"),
        ("evaluate", ["--n-envs", "-2"], "--n-envs: must be at least 1"),
        ("record", ["--scale", "x"], "--scale: expected a whole number, got 'x'"),
        ("record", ["--max-steps", "0"], "--max-steps: must be at least 1"),
    ],
)
def test_bad_counts_are_usage_errors(
    run: Path, capsys: pytest.CaptureFixture, command: str, args: list[str], needle: str
) -> None:
    """Checked before any checkpoint is loaded or game started: argparse's usage line, exit 2."""
    import importlib

    main = importlib.import_module(f"simple_game.{command}").main
    with pytest.raises(SystemExit) as info:
        main([str(run), *args])
    err = capsys.readouterr().err
    assert info.value.code == 2 and needle in err and "Traceback" not in err, err


def test_plain_sb3_zips_are_checked(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture, write_yaml) -> None:
    """Zips saved by SB3 itself (no simple-game metadata): checked by network class and shapes."""
    from stable_baselines3 import PPO

    plain = tmp_path / "plain_ppo.zip"
    PPO.load(run / "checkpoints" / "step_256.zip", device="cpu").save(plain)
    code, _, err = _evaluate(capsys, str(plain), "--config", str(CONFIGS / "dqn_breakout.yaml"))
    assert code == 2 and "trained with another algorithm" in err, err
    stack8 = write_yaml(f"extends: {SMOKE}\nenv: {{frame_stack: 8}}\n", name="stack8.yaml")
    code, _, err = _evaluate(capsys, str(plain), "--config", str(stack8))
    assert code == 2 and "shape (4, 84, 84)" in err and "(8, 84, 84)" in err, err
    pong = write_yaml(f"extends: {SMOKE}\nenv: {{game: Pong}}\n", name="pong.yaml")
    code, _, err = _evaluate(capsys, str(plain), "--config", str(pong))
    assert code == 2 and "4 actions" in err and "pong has 6" in err, err


def test_target_reads_checkpoint_metadata_once(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkpoint's metadata is read when the target is made, then travels with it."""
    from simple_game.evaluation import resolve_target
    from simple_game.evaluation import target as target_module

    calls: list[Path] = []
    real = target_module.read_checkpoint_metadata

    def counting(path: Path) -> dict:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(target_module, "read_checkpoint_metadata", counting)
    best = resolve_target(str(run))
    assert best.label == "best" and best.step == 256 and best.step == 256 and best.metadata["game"] == "breakout"
    assert calls == [run / "checkpoints" / "best.zip"]
    loose = resolve_target(str(run / "checkpoints" / "step_128.zip"))
    assert loose.step == 128 and loose.run is not None and loose.run.path == run and len(calls) == 2
    baseline = resolve_target(str(run), random_policy=True)
    assert baseline.checkpoint is None and baseline.step is None and baseline.label == "random" and len(calls) == 2


def test_episode_summary_and_action_mode() -> None:
    from simple_game.errors import SimpleGameError
    from simple_game.evaluation import DEFAULT_EPSILON, EpisodeResults, action_mode

    results = EpisodeResults(scores=[1.0, 3.0, 8.0], lengths=[10, 20, 30], truncated=[False, True, False])
    assert results.summary() == {
        "n_episodes": 3,
        "mean": 4.0,
        "std": pytest.approx(np.std([1.0, 3.0, 8.0])),
        "median": 3.0,
        "min": 1.0,
        "max": 8.0,
        "mean_length": 20.0,
        "n_truncated": 1,
    }
    assert list(results.summary()) == [
        "n_episodes", "mean", "std", "median", "min", "max", "mean_length", "n_truncated"
    ]  # fmt: skip
    assert EpisodeResults().summary() == {"n_episodes": 0}
    assert action_mode(None, False, False) == (DEFAULT_EPSILON, True)
    assert action_mode(None, True, False) == (0.0, True)
    assert action_mode(0.0, False, True) == (0.0, False)
    with pytest.raises(SimpleGameError, match="contradict"):
        action_mode(None, True, True)
    with pytest.raises(SimpleGameError, match="between 0 and 1"):
        action_mode(1.5, False, False)
