"""Issue 21, the first hour of `train`: a refused start leaves nothing behind, and the console,
``progress.csv`` and the experiment log say what they mean. Every test runs the real command.

- a value SB3 or torch refuses, or a ``--runs-dir`` that cannot hold runs: one line naming
  where it came from, exit 2, no run folder, no experiments.md;
- piped output (not a terminal): no progress bar, rows that never wrap, ``done`` at most 100%
  while ``steps`` is SB3's real count, warnings on stderr, the log in the right place;
- fps leaves evaluations out; ``--resume`` continues ``time/iterations`` and ``time/time_elapsed``,
  the console's games and mean score agree, and evaluation rows carry their step;
- on a terminal, Ctrl-C stops the progress bar before "interrupted" is printed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import REPO, SMOKE, only_run_dir
from tiny_runs import quiet_env

pytestmark = pytest.mark.slow

# One table row of the console: steps, done, fps, games, mean score, best eval, elapsed, ETA.
ROW = re.compile(
    r"^\s*(?P<steps>[\d,]+)\s+(?P<done>\d+)%\s+(?P<fps>[\d,]+)\s+(?P<games>[\d,]+)\s+(?P<mean>\S+)\s+\S+\s+"
    r"(?P<elapsed>\d+:\d\d:\d\d)\s+\S+\s*$"
)
HEADER = re.compile(r"^\s*steps\s+done\s+fps\s+games\s+mean score\s+best eval\s+elapsed\s+ETA\s*$")


def train(*args: str, cwd: Path = REPO, columns: str = "80") -> subprocess.CompletedProcess:
    """``python -m simple_game.train <args>`` with its output piped, as ``| tee log`` would (80 columns)."""
    env = quiet_env() | {"COLUMNS": columns}
    return subprocess.run(
        [sys.executable, "-m", "simple_game.train", *args],
        cwd=str(cwd),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def sets(*items: str) -> list[str]:
    return [x for item in items for x in ("--set", item)]


def rows(stdout: str) -> list[dict[str, str]]:
    return [m.groupdict() for m in map(ROW.match, stdout.splitlines()) if m]


def seconds(hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return 3600 * h + 60 * m + s


def read_progress(run: Path) -> list[dict[str, str]]:
    with open(run / "progress.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# --- a refused start leaves nothing behind ------------------------------------------------


@pytest.mark.parametrize("source", ["--set", "file"])
def test_a_refused_value_leaves_no_run_and_names_its_origin(source: str, tmp_path: Path) -> None:
    """Item 2: SB3 refuses batch_size 1, torch a negative learning rate, when the model is built;
    the model is built before the run folder exists, and the error says where the value was set."""
    runs = tmp_path / "runs"
    if source == "--set":
        config, extra = SMOKE, sets("hyperparams.learning_rate=-0.1")
        expected = "error: --set: hyperparams.learning_rate: PPO refused -0.1: Invalid learning rate: -0.1"
    else:
        config = tmp_path / "exp.yaml"
        config.write_text(f"extends: {SMOKE}\nhyperparams:\n  batch_size: 1\n")
        extra = []
        expected = f"error: {config}: hyperparams.batch_size: PPO refused 1: `batch_size` must be greater than 1"
    proc = train("--config", str(config), "--runs-dir", str(runs), "--no-progress", *extra)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(expected), proc.stderr
    assert "run directory" not in proc.stdout
    assert not runs.exists() and not list(tmp_path.rglob("experiments.md"))


@pytest.mark.parametrize("problem", ["a file", "parent is a file", "unwritable"])
def test_a_runs_dir_that_cannot_hold_runs_is_one_line_before_any_work(problem: str, tmp_path: Path) -> None:
    """Item 2: ``--runs-dir`` is checked first: one line, exit 2, nothing printed or created."""
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder\n")
    if problem == "a file":
        runs, expected = blocker, f"error: --runs-dir {blocker}: is a file"
    elif problem == "parent is a file":
        runs, expected = blocker / "runs", f"error: --runs-dir {blocker / 'runs'}: cannot be created: {blocker}"
    else:
        if os.geteuid() == 0:
            pytest.skip("root may write anywhere")
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        runs, expected = locked / "runs", f"error: --runs-dir {locked / 'runs'}: cannot be created"
    before = sorted(tmp_path.rglob("*"))
    proc = train("--config", str(SMOKE), "--runs-dir", str(runs), "--no-progress")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(expected), proc.stderr
    assert proc.stdout == ""  # refused before the header: no model was built
    assert sorted(tmp_path.rglob("*")) == before


# --- piped output, the budget, warnings, the log -------------------------------------------


def test_piped_console_budget_warnings_and_log(tmp_path: Path) -> None:
    """Items 5 and 7: ``--runs-dir runs`` (the project's own runs folder) logs to ./experiments.md;
    piped output has no progress bar and never wraps; ``total_timesteps=1`` ends after SB3's
    first whole rollout, shown as 128 steps, 100% done, and a note that says why."""
    config = tmp_path / "exp.yaml"  # Breakout thresholds, then --set env.game=Pong: a warning
    config.write_text(f"extends: {SMOKE}\nmilestones:\n  thresholds: [50]\n")
    proc = train(
        "--config",
        str(config),
        "--runs-dir",
        "runs",
        *sets("env.game=Pong", "total_timesteps=1", "env.max_frames_per_episode=2000", "logging.progress_bar=true"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    warning = (
        f"warning: milestones.thresholds [50] come from {config}, written for breakout; "
        "with env.game=pong check them (--set milestones.thresholds=[...])"
    )
    assert warning in proc.stderr.splitlines(), proc.stderr
    out = proc.stdout.splitlines()
    assert "it/s" not in proc.stdout and "━" not in proc.stdout  # no progress bar into a pipe
    assert sum(bool(HEADER.match(line)) for line in out) == 1, proc.stdout  # the header on one line
    assert any(line.startswith("run directory: ") and "(tensorboard --logdir runs)" in line for line in out)
    table = rows(proc.stdout)
    assert table and all(int(r["done"]) <= 100 for r in table), proc.stdout
    assert table[-1]["steps"] == "128" and table[-1]["done"] == "100"
    assert "note: 128 steps for a budget of 1: SB3 stops only between rollouts " in proc.stdout
    assert "(a rollout is n_steps 64 x 2 envs = 128 steps)" in proc.stdout
    # The log of ./runs is the project's experiments.md, in the working directory.
    assert "| exp-pong | ppo | pong |" in (tmp_path / "experiments.md").read_text()
    assert not (tmp_path / "runs" / "experiments.md").exists()
    # The final evaluation's row in progress.csv says its step.
    progress = read_progress(only_run_dir(tmp_path / "runs"))
    evals = [r for r in progress if r.get("eval/mean_score")]
    assert evals and all(r["time/total_timesteps"] == "128" for r in evals)


# --- fps without evaluations; resume continues progress.csv ----------------------------------

FIRST = sets(
    "total_timesteps=384",
    "eval.freq=128",
    "checkpoint.freq=128",
    # An untrained agent rarely serves in Breakout: each evaluation game runs to the cap, 1,000 steps.
    "env.max_frames_per_episode=4000",
)


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A 384-step run evaluated every 128 steps, then ``--resume`` to 512 steps."""
    runs = tmp_path_factory.mktemp("first_hour") / "runs"
    first = train("--config", str(SMOKE), "--runs-dir", str(runs), "--no-progress", *FIRST)
    assert first.returncode == 0, first.stderr[-3000:] + first.stdout[-3000:]
    run = only_run_dir(runs)
    summary = json.loads((run / "summary.json").read_text())
    second = train("--resume", str(run), "--no-progress", *sets("total_timesteps=512"))
    assert second.returncode == 0, second.stderr[-3000:] + second.stdout[-3000:]
    return {"runs": runs, "run": run, "first": first, "first_summary": summary, "second": second}


def test_fps_leaves_evaluations_out() -> None:
    """Item 7: a row whose interval held a long pause (an evaluation, a video, a save) keeps the
    training speed. Counted against wall time, such a row would read ``steps / seconds`` (278 -> 2
    in the issue); the console leaves the pause's seconds out.

    Real PPO on CartPole with the console and, grouped after it as ``train`` groups its evaluation,
    a callback that pauses training for 3 s once: how long a real evaluation takes depends on the
    machine, a sleep does not.
    """
    import io

    import gymnasium as gym
    from rich.console import Console
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    from simple_game.callbacks.console import ConsoleCallback, timed_apart

    class PauseOnce(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps == 64:
                time.sleep(3.0)
            return True

    out = io.StringIO()
    console = ConsoleCallback(256, interval_s=2.0, console=Console(file=out, width=120))
    model = PPO("MlpPolicy", gym.make("CartPole-v1"), n_steps=128, batch_size=64, n_epochs=1, seed=0, device="cpu")
    start = time.monotonic()
    model.learn(256, callback=timed_apart([console, PauseOnce()]))
    wall = time.monotonic() - start
    table = rows(out.getvalue())
    assert len(table) >= 2, out.getvalue()
    paused_row = table[0]  # the first row is printed after the pause: its interval held the 3 s
    steps = int(paused_row["steps"].replace(",", ""))
    fps = int(paused_row["fps"].replace(",", ""))
    # Against wall time the row would read at most steps / 3 s; training itself runs far faster.
    assert fps > 3 * steps / 3.0, out.getvalue()
    assert wall >= 3.0


def test_resumed_progress_csv_continues(resumed: dict) -> None:
    """Item 8: iterations and time_elapsed continue across the resume; evaluation rows have their step."""
    progress = read_progress(resumed["run"])
    iterations = [int(r["time/iterations"]) for r in progress if r.get("time/iterations")]
    assert iterations == [1, 2, 3, 4], iterations  # 512 steps / 128 per rollout
    elapsed = [int(r["time/time_elapsed"]) for r in progress if r.get("time/time_elapsed")]
    assert elapsed == sorted(elapsed) and elapsed[-1] >= int(resumed["first_summary"]["wall_time_s"]), elapsed
    evals = [r for r in progress if r.get("eval/mean_score")]
    assert [int(r["time/total_timesteps"]) for r in evals] == [128, 256, 384, 512]
    assert all(r["time/total_timesteps"] for r in progress)


def test_resumed_console_agrees_with_itself(resumed: dict) -> None:
    """Item 7: games and mean score count the same games; elapsed is the run's one clock."""
    out = resumed["second"].stdout
    assert "games and mean score: the games played since this resume at 384 steps" in out
    table = rows(out)
    assert table and all(r["mean"] == "-" for r in table if r["games"] == "0"), out
    wall_before = resumed["first_summary"]["wall_time_s"]
    assert seconds(table[0]["elapsed"]) >= int(wall_before), out  # the clock of summary.json, continued
    summary = json.loads((resumed["run"] / "summary.json").read_text())
    final = re.search(r"finished: 512 steps; wall-clock speed .* over the run \(512 steps in (\d+)s, 2 sessions\)", out)
    assert final and int(final.group(1)) == round(summary["wall_time_s"]), out
    assert seconds(table[-1]["elapsed"]) <= summary["wall_time_s"]


def test_outside_runs_dir_logs_inside_it(resumed: dict) -> None:
    """Item 5: a runs folder outside the project keeps its own experiments.md, one row per run."""
    runs = resumed["runs"]
    log = (runs / "experiments.md").read_text()
    assert log.count(f"| {resumed['run']} |") == 1, log  # the first session's row was replaced
    assert not (runs.parent / "experiments.md").exists()


# --- Ctrl-C on a terminal ------------------------------------------------------------------


def read_until(master: int, proc: subprocess.Popen, done: Callable[[bytes], bool], timeout: float) -> bytes:
    """Read the pseudo-terminal until ``done(output)`` or the process ends."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done(out):
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
        elif proc.poll() is not None:
            break
    return out


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_ctrl_c_on_a_terminal_draws_no_bar_after_interrupted(tmp_path: Path) -> None:
    """Item 7: the progress bar is stopped before the interrupt is reported, not redrawn below it."""
    runs = tmp_path / "runs"
    master, slave = os.openpty()
    env = quiet_env() | {"COLUMNS": "120", "LINES": "40"}
    args = sets("total_timesteps=100000", "eval.freq=0", "checkpoint.freq=128", "logging.progress_bar=true")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simple_game.train", "--config", str(SMOKE), "--runs-dir", str(runs), *args],
        cwd=str(REPO),
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    try:
        out = read_until(master, proc, lambda _: any(runs.glob("*/checkpoints/latest")), 300)
        proc.send_signal(signal.SIGINT)
        out += read_until(master, proc, lambda _: False, 300)
        assert proc.wait(timeout=300) == 130, out.decode(errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = out.decode(errors="replace")
    before, found, after = text.partition("interrupted at")
    assert found and "it/s" in before, text[-3000:]  # the bar was drawn while training
    assert "it/s" not in after and "━" not in after, after
