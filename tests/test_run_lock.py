"""One trainer per run: a run being trained cannot be resumed by a second process, a study
started again leaves it alone, and a trainer killed with kill -9 leaves no lock behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SMOKE
from tiny_runs import quiet_env, run_quiet

pytestmark = pytest.mark.slow

LONG = ["total_timesteps=100000", "checkpoint.freq=128", "eval.freq=0"]  # trains until killed


def _sets(*items: str) -> list[str]:
    return [x for item in items for x in ("--set", item)]


def _first_checkpoint(proc: subprocess.Popen, runs: Path, timeout: float = 300) -> Path:
    """The study's run folder, once its first checkpoint is saved."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        pointers = list(runs.glob("*/checkpoints/latest"))
        if pointers:
            return pointers[0].parents[1]
        time.sleep(0.1)
    raise AssertionError("no checkpoint in time")


def _kill_9(pid: int, run: Path, timeout: float = 60) -> None:
    """kill -9 ``pid``, then wait for the kernel to drop its lock (a zombie no one reaps still answers kill 0)."""
    from simple_game.runlock import trainer_of

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while trainer_of(run) is not None:
        assert time.monotonic() < deadline, f"the lock of pid {pid} outlived kill -9"
        time.sleep(0.05)


def test_a_run_being_trained_is_neither_resumed_nor_restarted(tmp_path: Path) -> None:
    from simple_game.runlock import trainer_of

    series = tmp_path / "lockseries"
    series.mkdir()
    (series / "01_smoke.yaml").write_text(f"extends: {SMOKE}\n")
    runs = tmp_path / "runs"
    study = [sys.executable, "-m", "simple_game.cli.study", str(series), "--seeds", "1", "--runs-dir", str(runs)]
    first = subprocess.Popen(
        [*study, *_sets(*LONG)],
        cwd=REPO,
        env=quiet_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the study and its train child: one group to kill -9
    )
    try:
        run = _first_checkpoint(first, runs)
        holder = trainer_of(run) or ""
        assert holder.startswith("pid ") and holder[4:].isdigit(), holder

        # A second trainer of the same run: one line naming the run and the holder, exit 2.
        second = run_quiet("simple_game.train", "--resume", str(run), "--no-progress")
        assert second.returncode == 2, second.stdout[-2000:] + second.stderr[-2000:]
        message = second.stderr.strip()
        assert message.count("\n") == 0 and "Traceback" not in message, message
        assert str(run) in message and f"another process is training this run ({holder})" in message

        # The same study again: the member is being trained, so nothing is started or resumed.
        again = run_quiet("simple_game.cli.study", str(series), "--seeds", "1", "--runs-dir", str(runs), *_sets(*LONG))
        assert again.returncode == 1, again.stdout[-2000:] + again.stderr[-2000:]
        assert "1 being trained elsewhere" in again.stdout and "running elsewhere" in again.stdout, again.stdout
        assert [p.name for p in runs.iterdir() if p.is_dir()] == [run.name]
        assert first.poll() is None  # the first trainer was not disturbed
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the study...
        first.wait()
        _kill_9(int(holder[4:]), run)  # ...and its train child, which runs in a session of its own

    # kill -9 released the lock (_kill_9 waited for that): the study now plans a resume, and it works.
    planned = run_quiet(
        "simple_game.cli.study", str(series), "--seeds", "1", "--runs-dir", str(runs), "--dry-run", *_sets(*LONG)
    )
    assert planned.returncode == 0 and "1 to resume" in planned.stdout, planned.stdout
    step = int((run / "checkpoints" / "latest").read_text().strip()[5:-4])
    resumed = run_quiet(
        "simple_game.train", "--resume", str(run), "--no-progress", *_sets(f"total_timesteps={step + 128}")
    )
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert trainer_of(run) is None
