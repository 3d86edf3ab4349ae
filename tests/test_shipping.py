"""`simple-game agents ship|verify` on a tiny trained run: policy-only, same play, hashes that catch a change."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tiny_runs import REPO, quiet_env, run_quiet, tiny_ppo_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_ppo_run(tmp_path_factory)


def _scores(target: str, tmp_path: Path, *extra: str) -> list[float]:
    out = tmp_path / f"eval_{len(list(tmp_path.glob('eval_*')))}.json"
    proc = run_quiet("simple_game.evaluate", target, *extra, "--episodes", "2", "--seed", "5", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())["episode_scores"]


def test_shipped_agents_are_small_play_the_same_and_load_in_plain_sb3(run: Path, tmp_path: Path) -> None:
    import torch
    from stable_baselines3 import PPO

    out = tmp_path / "agents"
    proc = run_quiet(
        "simple_game",
        "agents",
        "ship",
        str(run),
        "--out",
        str(out),
        "--checkpoints",
        "best,step_128",
        "--episodes",
        "2",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "shipped checkpoints/best.zip" in proc.stdout and "over 2 games" in proc.stdout
    index = json.loads((out / "agents.json").read_text())
    assert [a["name"] for a in index["agents"]] == ["best", "step_128"]
    for name in ("best", "step_128"):
        shipped, source = out / "checkpoints" / f"{name}.zip", run / "checkpoints" / f"{name}.zip"
        # Adam's two moment estimates per weight are gone: well under half the training checkpoint
        assert shipped.stat().st_size < 0.5 * source.stat().st_size
        plain, original = PPO.load(shipped, device="cpu"), PPO.load(source, device="cpu")
        assert len(plain.policy.optimizer.state) == 0 and len(original.policy.optimizer.state) > 0
        for key, value in original.policy.state_dict().items():
            assert torch.equal(plain.policy.state_dict()[key], value), key
    assert (out / "config.yaml").read_bytes() == (run / "config.yaml").read_bytes()
    assert (out / "eval.csv").read_bytes() == (run / "eval.csv").read_bytes()

    # the shipped folder plays as the run does: same games, same scores, through the public evaluate
    assert _scores(str(out), tmp_path, "--checkpoint", "best") == _scores(str(run), tmp_path, "--checkpoint", "best")
    best = next(a for a in index["agents"] if a["name"] == "best")
    assert best["score"]["episodes"] == 2 and best["score"]["epsilon"] == 0.05 and best["step"] == 256

    readme = (out / "README.md").read_text()
    assert f"`{best['sha256']}`" in readme and "| `checkpoints/best.zip` | 256 |" in readme
    proc = run_quiet("simple_game", "agents", "verify", str(out))
    assert proc.returncode == 0 and "2 agents, every sha256 matches" in proc.stdout, proc.stderr

    # one changed byte is caught, and named
    blob = bytearray((out / "checkpoints" / "step_128.zip").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (out / "checkpoints" / "step_128.zip").write_bytes(bytes(blob))
    proc = run_quiet("simple_game", "agents", "verify", str(out))
    assert proc.returncode == 1 and "step_128.zip: sha256" in proc.stderr and "best.zip" not in proc.stderr


def test_shipping_again_keeps_the_readme_text_and_the_other_agents(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "agents"
    ship = ("simple_game", "agents", "ship", str(run), "--out", str(out), "--episodes", "0")
    assert run_quiet(*ship, "--checkpoints", "step_128").returncode == 0
    readme = out / "README.md"
    readme.write_text(
        readme.read_text().replace("# Trained agents: breakout", "# Breakout agents\n\nHow they were made.")
    )
    readme.write_text(readme.read_text() + "\nMore words after the table.\n")
    proc = run_quiet(*ship, "--checkpoints", "best")
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = readme.read_text()
    assert text.startswith("# Breakout agents\n\nHow they were made.") and text.endswith(
        "More words after the table.\n"
    )
    assert text.count("agents table: written by") == 1 and "not evaluated" in text
    assert [a["name"] for a in json.loads((out / "agents.json").read_text())["agents"]] == ["best", "step_128"]
    assert run_quiet("simple_game", "agents", "verify", str(out)).returncode == 0


def test_a_run_warm_started_from_a_shipped_agent_ships_as_the_folders_next_run(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "agents"
    ship = ("simple_game", "agents", "ship")
    assert run_quiet(*ship, str(run), "--out", str(out), "--checkpoints", "step_128", "--episodes", "0").returncode == 0
    config = tmp_path / "carry_on.yaml"
    config.write_text(
        f"extends: {REPO / 'configs' / 'smoke.yaml'}\ninit_from: {{agent: {out}, checkpoint: step_128}}\n"
        "total_timesteps: 128\neval: {freq: 128}\ncheckpoint: {freq: 128}\n"
    )
    runs = tmp_path / "runs"
    proc = run_quiet("simple_game.train", "--config", str(config), "--runs-dir", str(runs), "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (carried,) = list(runs.glob("carry_on_*"))

    # its step_128 would replace the earlier run's agent: refused, nothing written
    proc = run_quiet(*ship, str(carried), "--out", str(out), "--checkpoints", "step_128", "--episodes", "0")
    assert proc.returncode == 2 and "step_128 already shipped from an earlier run" in proc.stderr, proc.stderr
    assert json.loads((out / "agents.json").read_text())["run"] == run.name

    proc = run_quiet(*ship, str(carried), "--out", str(out), "--episodes", "0")  # default: best (step_128 is taken)
    assert proc.returncode == 0, proc.stderr[-3000:]
    index = json.loads((out / "agents.json").read_text())
    assert index["runs"] == [run.name, carried.name] and index["run"] == carried.name
    by_name = {a["name"]: a for a in index["agents"]}
    assert by_name["step_128"]["source"] == f"{run.name}/checkpoints/step_128.zip"
    assert by_name["best"]["source"].startswith(f"{carried.name}/") and by_name["best"]["steps_before"] == 128
    readme = (out / "README.md").read_text()
    assert f"| `checkpoints/best.zip` | {128 + by_name['best']['step']:,} |" in readme
    assert f"Made from runs `{run.name}`, then `{carried.name}`" in readme
    # the earlier run's logs are kept, the folder's own are the new run's
    assert (out / "earlier" / run.name / "config.yaml").read_bytes() == (run / "config.yaml").read_bytes()
    assert (out / "config.yaml").read_bytes() == (carried / "config.yaml").read_bytes()
    assert run_quiet(*ship[:2], "verify", str(out)).returncode == 0
    assert len(_scores(str(out), tmp_path, "--checkpoint", "step_128")) == 2
    # the two runs as one curve: the second starts at the 128 steps behind its agent
    proc = run_quiet(*ship[:2], "curve", str(out), "--out", str(tmp_path / "chain.png"))
    assert proc.returncode == 0 and (tmp_path / "chain.png").read_bytes()[:4] == b"\x89PNG", proc.stderr[-2000:]

    # a third run from the second run's agent counts the steps of both runs behind it
    config.write_text(config.read_text().replace("checkpoint: step_128", "checkpoint: best"))
    proc = run_quiet(
        "simple_game.train", "--config", str(config), "--runs-dir", str(tmp_path / "third"), "--no-progress"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{128 + by_name['best']['step']:,} with the runs before it" in proc.stdout
    (third,) = list((tmp_path / "third").glob("carry_on_*"))
    assert json.loads((third / "summary.json").read_text())["init_from"]["step"] == 128 + by_name["best"]["step"]


def test_bad_input_is_one_line_and_writes_nothing(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "agents"
    proc = run_quiet("simple_game", "agents", "ship", str(run), "--out", str(out), "--checkpoints", "skill_level_3")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no 'skill_level_3' checkpoint (available: best, step_128, step_256)" in proc.stderr
    assert not out.exists()

    # a folder of another run's agents is not mixed in
    other = tmp_path / "other"
    assert run_quiet("simple_game", "agents", "ship", str(run), "--out", str(other), "--episodes", "0").returncode == 0
    index = json.loads((other / "agents.json").read_text())
    (other / "agents.json").write_text(json.dumps({**index, "run": "ppo_elsewhere_20250101-000000"}))
    proc = run_quiet("simple_game", "agents", "ship", str(run), "--out", str(other), "--episodes", "0")
    assert proc.returncode == 2 and "holds agents of run ppo_elsewhere_20250101-000000" in proc.stderr
    assert "--force" in proc.stderr and "Traceback" not in proc.stderr

    # nothing the user has is replaced: not the run itself, not another run, not a file
    before = (run / "checkpoints" / "best.zip").read_bytes()
    for target, says in ((run, "is the run itself"), (run / "config.yaml", "is a file, not a folder")):
        proc = run_quiet("simple_game", "agents", "ship", str(run), "--out", str(target), "--episodes", "0")
        assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    other_run = tmp_path / "copy_of_run"
    shutil.copytree(run, other_run)
    proc = run_quiet("simple_game", "agents", "ship", str(run), "--out", str(other_run), "--episodes", "0")
    assert (
        proc.returncode == 2
        and "already holds a run's files (config.yaml, progress.csv, eval.csv, summary.json, checkpoints)"
        in proc.stderr
    )
    assert (run / "checkpoints" / "best.zip").read_bytes() == before
    assert (other_run / "checkpoints" / "best.zip").read_bytes() == before

    # a checkpoint that fails to load, found after the run's files were copied: no half-shipped folder
    with zipfile.ZipFile(other_run / "checkpoints" / "step_999.zip", "w") as archive:
        archive.writestr("data", "{}")
        archive.writestr("simple_game.json", json.dumps({"algo": "ppo", "step": 999}))
    fresh = tmp_path / "fresh"
    proc = run_quiet("simple_game", "agents", "ship", str(other_run), "--out", str(fresh), "--checkpoints", "step_999")
    assert proc.returncode == 2 and "step_999.zip" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not fresh.exists()

    proc = run_quiet("simple_game", "agents", "verify", str(tmp_path / "nothing"))
    assert proc.returncode == 1 and "no agents.json" in proc.stderr


def test_a_ship_killed_midway_leaves_nothing_in_the_way_of_the_retry(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "agents"
    cmd = [sys.executable, "-m", "simple_game", "agents", "ship", str(run), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--checkpoints", "best,step_128", "--episodes", "3"],
        cwd=str(REPO),
        env=quiet_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".shipping-agents-*/checkpoints/best.zip")) and proc.poll() is None:
        assert time.monotonic() < deadline, "the first agent was never written"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # while it scores the first agent: its run files are copied
    proc.wait()
    assert not out.exists()  # the half-built folder is only ever the hidden staging one

    retry = run_quiet("simple_game", "agents", "ship", str(run), "--out", str(out), "--episodes", "0")
    assert retry.returncode == 0, retry.stderr[-3000:]
    assert not list(tmp_path.glob(".shipping-*")), "the killed ship's staging folder was not cleared"
    verified = run_quiet("simple_game", "agents", "verify", str(out))
    assert verified.returncode == 0, verified.stderr
