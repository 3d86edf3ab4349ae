"""`simple-game sweep` on the local default storage: real Optuna, real SB3 training, real ALE.

Two tiny trials: the search space tunes ``total_timesteps`` itself (128 or 256) and a threshold
pruner that prunes any score from step 160 on, so one trial completes and the
other is pruned after its evaluation at step 192, whatever the scores; the random sampler,
seeded per trial, draws 128 for trial 0 and 256 for trial 1 with seed 2 (checked below).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from conftest import CONFIGS, SMOKE
from simple_game.cli.sweep import main as sweep_main
from simple_game.cli.train import main as train_main
from simple_game.sweep.space import load_space
from simple_game.sweep.table import update_sweeps_table

TINY = ["eval.freq=64", "env.max_frames_per_episode=2000", "checkpoint.freq=64", "logging.tensorboard=false"]
SPACE = f"""
config: {SMOKE}
sampler: {{type: random, seed: 2}}
pruner: {{type: threshold, lower: 1000000, n_warmup_steps: 160}}
params:
  total_timesteps: {{type: choice, choices: [128, 256]}}
  hyperparams.ent_coef: {{type: uniform, low: 0.0, high: 0.05}}
"""


def _sweep(tmp_path: Path, space: str, *args: str) -> int:
    path = tmp_path / "space.yaml"
    path.write_text(space)
    sets = [arg for item in TINY for arg in ("--set", item)]
    return sweep_main(["--space", str(path), "--runs-dir", str(tmp_path / "runs"), *sets, *args])


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_sweep_prunes_writes_best_yaml_that_trains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _sweep(tmp_path, SPACE, "--trials", "2", "--study", "tiny") == 0
    folder = tmp_path / "runs" / "sweeps" / "tiny"
    with sqlite3.connect(folder / "study.db") as db:  # the study database holds states, values and run dirs
        states = dict(db.execute("SELECT number, state FROM trials ORDER BY number").fetchall())
        run_dirs = dict(
            db.execute(
                "SELECT t.number, a.value_json FROM trial_user_attributes a JOIN trials t USING (trial_id) "
                "WHERE a.key = 'run_dir'"
            ).fetchall()
        )
        reported = db.execute("SELECT COUNT(*) FROM trial_intermediate_values").fetchone()[0]
    assert states == {0: "COMPLETE", 1: "PRUNED"}
    assert reported == 5  # trial 0 at 64 and 128, trial 1 at 64, 128 and 192 (then pruned)
    complete, pruned = (Path(json.loads(run_dirs[n])) for n in (0, 1))
    assert json.loads((complete / "summary.json").read_text())["status"] == "finished"
    summary = json.loads((pruned / "summary.json").read_text())
    assert (summary["status"], summary["steps_done"]) == ("pruned", 192)
    assert (pruned / "checkpoints" / "latest").is_file()  # a pruned run can be evaluated or resumed like any

    report = json.loads((folder / "sweep.json").read_text())
    assert report["counts"]["complete"] == 1 and report["counts"]["pruned"] == 1
    assert report["best"]["number"] == 0 and report["importances"] is None
    md = (folder / "sweep.md").read_text()
    assert "| 1 | pruned |" in md and "needs 3 complete trials (has 1)" in md
    best = yaml.safe_load((folder / "best.yaml").read_text())
    assert best["total_timesteps"] == 128 and best["name"] == "tiny-best"
    assert best["hyperparams"]["ent_coef"] == pytest.approx(report["best"]["params"]["hyperparams.ent_coef"])
    # `report` lists the sweep in experiments.md's sweeps table, from sweep.json.
    log = tmp_path / "experiments.md"
    assert update_sweeps_table(log, tmp_path / "runs") == 1
    assert "| tiny | final eval, maximize | 1 / 1 / 0 |" in log.read_text()

    # The study has its 2 trials: the same command trains nothing more.
    capsys.readouterr()
    assert _sweep(tmp_path, SPACE, "--trials", "2", "--study", "tiny") == 0
    assert "trained 0 trial(s) here" in capsys.readouterr().out
    # best.yaml is a whole experiment config: train accepts it as it is.
    runs = tmp_path / "best_runs"
    assert train_main(["--config", str(folder / "best.yaml"), "--runs-dir", str(runs), "--no-progress"]) == 0
    (run,) = [p for p in runs.iterdir() if p.is_dir()]
    assert json.loads((run / "summary.json").read_text())["status"] == "finished"

    # Another search space under the same study name is refused, naming the difference.
    capsys.readouterr()
    other = SPACE.replace("high: 0.05", "high: 0.1")
    assert _sweep(tmp_path, other, "--trials", "3", "--study", "tiny") == 2
    assert "has another search space (hyperparams.ent_coef:" in _error(capsys)


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        (
            "hyperparams.learnig_rate: {type: loguniform, low: 1.0e-5, high: 1.0e-3}",
            "hyperparams.learnig_rate: unknown",
        ),
        ("env.gmae: {type: choice, choices: [pong]}", "env.gmae: unknown key (did you mean 'game'?)"),
        ("hyperparams.ent_coef: {type: uniform, low: 0.1, high: 0.01}", "params.hyperparams.ent_coef: empty range"),
        ("env.n_envs: {type: int, low: 0, high: 4}", "env.n_envs: Input should be greater than 0"),
        ("env.n_envs: {type: uniform, low: 1, high: 8}", "env.n_envs: expected a whole number"),
        ("hyperparams.ent_coef: {type: choice, choices: []}", "params.hyperparams.ent_coef: choices: give at least"),
        ("hyperparams.ent_coef: {type: normal, low: 0, high: 1}", "params.hyperparams.ent_coef: type: Input should be"),
    ],
)
def test_bad_search_space_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], param: str, expected: str
) -> None:
    space = f"config: {SMOKE}\nparams:\n  {param}\n"
    assert _sweep(tmp_path, space, "--trials", "1") == 2
    line = _error(capsys)
    assert f"{tmp_path / 'space.yaml'}:" in line and expected in line, line
    assert not (tmp_path / "runs").exists()  # refused before anything is created


def test_unreachable_storage_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:  # a free loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://sweeper:secret@127.0.0.1:{port}/sweeps"
    space = f"config: {SMOKE}\nparams:\n  hyperparams.ent_coef: {{type: uniform, low: 0.0, high: 0.05}}\n"
    assert _sweep(tmp_path, space, "--trials", "1", "--storage", url) == 2
    line = _error(capsys)
    assert f"--storage postgresql://sweeper:***@127.0.0.1:{port}/sweeps: cannot open the study database" in line
    assert "secret" not in line


def test_shipped_search_space_is_valid() -> None:
    space = load_space(CONFIGS / "sweeps" / "ppo_breakout.yaml", None, [])
    assert space.base == CONFIGS / "ppo_breakout.yaml"  # the space file's `config: ../ppo_breakout.yaml`, normalised
    assert set(space.params) == {"hyperparams.learning_rate", "hyperparams.ent_coef"}
    cfg = space.config({"hyperparams.learning_rate": 2.5e-4, "hyperparams.ent_coef": 0.01})
    assert cfg.total_timesteps == space.spec.budget and cfg.env.game == "breakout"
    assert str(cfg.hyperparams["learning_rate"]).startswith("linear(0.00025")  # the start of a linear schedule
