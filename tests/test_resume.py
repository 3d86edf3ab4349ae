"""Ctrl-C a real training run, `--resume` it, and check it ends exactly where an unbroken run would.

One run, shared by the tests of this module: PPO, 2 envs x 64 steps = 128 steps per rollout,
a checkpoint every 128 steps, budget 2,048. It is interrupted (SIGINT twice, the second during
the save) once ``latest`` names step 384 or later, then resumed to the end.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO, SMOKE, only_run_dir
from simple_game.heap import heap_reuse_supported
from tiny_runs import quiet_env, run_quiet

pytestmark = pytest.mark.slow

BUDGET = 2048
ROLLOUT = 128  # n_steps 64 x 2 envs
TRAIN = [
    "--config",
    str(SMOKE),
    "--set",
    f"total_timesteps={BUDGET}",
    "--set",
    "checkpoint.freq=128",
    "--set",
    "eval.freq=0",
    "--no-progress",
]


def start_training(runs: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simple_game.train", *TRAIN, "--runs-dir", str(runs), *extra],
        cwd=str(REPO),
        env=quiet_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_checkpoint(proc: subprocess.Popen, runs: Path, min_step: int, timeout: float = 300) -> int:
    """Poll until ``latest`` names ``step_N.zip`` with N >= min_step; returns N."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"training ended early:\n{proc.communicate()[0][-3000:]}"
        for pointer in runs.glob("*/checkpoints/latest"):
            name = pointer.read_text().strip()
            if name.startswith("step_") and int(name[5:-4]) >= min_step:
                return int(name[5:-4])
        time.sleep(0.05)
    raise AssertionError("no checkpoint in time")


def tb_steps(event_file: Path, tag: str) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(event_file))
    acc.Reload()
    return [e.step for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


def tb_values(event_file: Path, tag: str) -> list[float]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(event_file))
    acc.Reload()
    return [e.value for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    runs = tmp_path_factory.mktemp("resume") / "runs"
    proc = start_training(runs)
    wait_for_checkpoint(proc, runs, 384)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # a second Ctrl-C while saving must not break anything
    first_out, _ = proc.communicate(timeout=300)
    run = only_run_dir(runs)
    interrupted = json.loads((run / "summary.json").read_text())
    from simple_game.runs import RunDirectory

    latest_after_interrupt = RunDirectory(run).latest_checkpoint()
    # how fast it runs may change on resume (a run started beside another, resumed alone)
    second = run_quiet(
        "simple_game.train",
        "--resume",
        str(run),
        "--no-progress",
        "--set",
        "compute.threads=1",
        "--set",
        "compute.heap_reuse=off",
    )
    return {
        "run": run,
        "first_rc": proc.returncode,
        "first_out": first_out,
        "interrupted": interrupted,
        "latest_after_interrupt": latest_after_interrupt,
        "second": second,
    }


def test_interrupt_saves_and_exits_130(resumed: dict) -> None:
    assert resumed["first_rc"] == 130, resumed["first_out"][-3000:]
    summary = resumed["interrupted"]
    assert summary["status"] == "interrupted"
    step = summary["steps_done"]
    assert 384 <= step < BUDGET and step % ROLLOUT == 0  # a half-collected rollout is not counted
    assert resumed["latest_after_interrupt"].name == f"step_{step}.zip"


def test_resume_finishes_exactly_at_budget(resumed: dict) -> None:
    second = resumed["second"]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert f"resuming from step_{resumed['interrupted']['steps_done']}.zip" in second.stdout
    run = resumed["run"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps_done"] == BUDGET
    assert summary["started_at"] == resumed["interrupted"]["started_at"] and len(summary["resumed_at"]) == 1
    assert summary["compute"]["threads"] == "1" and "threads 1" in second.stdout
    # heap reuse (glibc's malloc) was on for the first part, where it can be, and off after resuming
    assert resumed["interrupted"]["compute"]["heap_reuse"] == (
        "on" if heap_reuse_supported() else "off (auto: not glibc's malloc)"
    )
    assert summary["compute"]["heap_reuse"] == "off" and "heap_reuse off" in second.stdout
    assert yaml.safe_load((run / "config.yaml").read_text())["compute"]["threads"] == 1
    from stable_baselines3 import PPO

    latest = (run / "checkpoints" / "latest").read_text().strip()
    assert latest == f"step_{BUDGET}.zip"
    assert PPO.load(run / "checkpoints" / latest, device="cpu").num_timesteps == BUDGET


def test_tensorboard_continues_without_gaps_or_duplicates(resumed: dict) -> None:
    run = resumed["run"]
    files = sorted((run / "tensorboard").glob("events.out.tfevents.*"), key=lambda p: p.stat().st_mtime)
    assert len(files) == 2  # one per process, same folder
    first, second = (tb_steps(f, "time/fps") for f in files)
    stop = resumed["interrupted"]["steps_done"]
    assert first[-1] == stop and second[0] == stop + ROLLOUT
    steps = first + second
    assert steps == list(range(ROLLOUT, BUDGET + 1, ROLLOUT))  # monotonic, no gap, no duplicate
    # The learning-rate schedule (lin_2.5e-4) continues downwards instead of restarting.
    lrs = tb_values(files[0], "train/learning_rate") + tb_values(files[1], "train/learning_rate")
    assert lrs and all(a > b for a, b in zip(lrs, lrs[1:])) and lrs[-1] < 0.5 * 2.5e-4


def test_progress_csv_appended(resumed: dict) -> None:
    with open(resumed["run"] / "progress.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    steps = [int(r["time/total_timesteps"]) for r in rows if r.get("time/total_timesteps")]
    assert steps == list(range(ROLLOUT, BUDGET + 1, ROLLOUT))


def test_resume_finished_run_does_nothing(resumed: dict) -> None:
    run = resumed["run"]
    before = sorted(p.name for p in run.rglob("*"))
    proc = run_quiet("simple_game.train", "--resume", str(run))
    assert proc.returncode == 0 and "already finished" in proc.stdout, proc.stderr
    assert sorted(p.name for p in run.rglob("*")) == before


def test_resume_errors(resumed: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from simple_game.cli.train import main

    def error(*args: str) -> str:
        assert main(list(args)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), err
        return err[0]

    assert "run directory not found" in error("--resume", str(tmp_path / "missing"))
    (tmp_path / "no_config").mkdir()
    assert "no config.yaml" in error("--resume", str(tmp_path / "no_config"))
    no_ckpt = tmp_path / "no_ckpt"
    (no_ckpt / "checkpoints").mkdir(parents=True)
    (no_ckpt / "config.yaml").write_text((resumed["run"] / "config.yaml").read_text())
    assert "no checkpoint to resume from" in error("--resume", str(no_ckpt))
    assert "drop --config" in error("--resume", str(resumed["run"]), "--config", str(SMOKE))
    assert "--schedules applies to --resume only" in error("--config", str(SMOKE), "--schedules", "stretch")
    assert "cannot be changed when resuming" in error("--resume", str(resumed["run"]), "--set", "env.game=Pong")
    assert "cannot be changed when resuming" in error(
        "--resume", str(resumed["run"]), "--set", "hyperparams.n_steps=32"
    )
    assert "cannot be changed when resuming" in error("--resume", str(resumed["run"]), "--set", "compute.bf16=true")


def test_resume_help_names_every_key_set_may_change() -> None:
    from simple_game.cli.train import build_parser
    from simple_game.training.resume import RESUME_SAFE_KEYS

    help_text = " ".join(build_parser().format_help().split())
    assert all(key in help_text for key in RESUME_SAFE_KEYS), help_text
