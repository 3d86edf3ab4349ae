"""Gameplay datasets through the real CLI: layout, records, split, manifest, replay, resume."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CONFIGS, REPO, SMOKE, cli_env, only_run_dir, run_cli

EPISODES = 3
CAP = 80  # agent steps per episode of the trained tier (an untrained agent may never press FIRE)


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A tiny trained checkpoint, and a 2-tier x 3-episode dataset recorded from it."""
    root = tmp_path_factory.mktemp("collect")
    runs = root / "runs"
    run_cli(
        "simple_game.train",
        "--config",
        str(SMOKE),
        "--runs-dir",
        str(runs),
        "--set",
        "total_timesteps=256",
        "--set",
        "eval.freq=0",
        check=True,
    )
    run = only_run_dir(runs)
    config = root / "collect.yaml"
    config.write_text(
        f"run: {run}\noutput: {root / 'data'}\nepisodes: {EPISODES}\nseed: 3\nworkers: 2\n"
        f"tiers:\n  - random: true\n  - checkpoint: latest\n    max_steps: {CAP}\n"
    )
    proc = run_cli("simple_game.collect", "--config", str(config), check=True)
    return {"root": root, "run": run, "config": config, "data": root / "data", "stdout": proc.stdout}


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _actions(data: Path, level: int) -> dict:
    return json.loads((data / "actions" / f"skill_level_{level}_actions.json").read_text())


@pytest.mark.slow
def test_layout_records_and_pairing(collection: dict) -> None:
    from PIL import Image

    data = collection["data"]
    assert "frames/s" in collection["stdout"]
    assert sorted(p.name for p in data.iterdir()) == ["actions", "manifest.json", "raw_gameplay"]
    assert sorted(p.name for p in (data / "actions").iterdir()) == [
        "skill_level_0_actions.json",
        "skill_level_1_actions.json",
    ]
    assert sorted(p.name for p in (data / "raw_gameplay").iterdir()) == ["skill_level_0", "skill_level_1"]
    for level in (0, 1):
        actions = _actions(data, level)
        assert actions["action_meanings"] == ["NOOP", "FIRE", "RIGHT", "LEFT"] and actions["skill_level"] == level
        episodes = actions["episodes"]
        assert [e["episode_id"] for e in episodes] == [f"skill_level_{level}/episode_{i:03d}" for i in range(EPISODES)]
        assert sorted(p.name for p in (data / "raw_gameplay" / f"skill_level_{level}").iterdir()) == [
            f"episode_{i:03d}" for i in range(EPISODES)
        ]
        for ep in episodes:
            T = ep["length"]
            assert T > 0 and ep["frames"] == T + 1
            for key in ("actions", "action_names", "rewards", "lives", "terminated", "truncated"):
                assert len(ep[key]) == T, key
            assert ep["action_names"] == [actions["action_meanings"][a] for a in ep["actions"]]
            assert (
                ep["score"] == sum(ep["rewards"])
                and ep["skill_level"] == level
                and ep["split"] in ("train", "validation")
            )
            assert all(a >= b for a, b in zip([ep["start_lives"]] + ep["lives"], ep["lives"]))  # lives never come back
            # Pairing: frames 0..T (frame t seen before action t, frame T after the last action).
            folder = data / "raw_gameplay" / ep["episode_id"]
            assert sorted(p.name for p in folder.iterdir()) == ["episode.json"] + [
                f"frame_{t:05d}.png" for t in range(T + 1)
            ]
            with Image.open(folder / "frame_00000.png") as img:
                assert img.mode == "L" and img.size == (84, 84)
            if level == 0:  # random tier: whole games, ended by game over
                assert (
                    ep["end"] == "game_over" and ep["terminated"] == [False] * (T - 1) + [True] and ep["lives"][-1] == 0
                )
                assert ep["source"] == "random" and ep["checkpoint"] is None
            else:
                assert (
                    ep["source"] == "checkpoint" and ep["checkpoint"].endswith("step_256.zip") and ep["algo"] == "ppo"
                )
                assert (
                    T <= CAP
                    and (ep["end"] == "max_steps") == (T == CAP)
                    and ep["sampling"] == "epsilon"
                    and ep["epsilon"] == 0.05
                )
    # The per-episode seeds differ, and the split is the seeded permutation's.
    seeds = [ep["seed"] for lv in (0, 1) for ep in _actions(data, lv)["episodes"]]
    assert len(set(seeds)) == len(seeds)


@pytest.mark.slow
def test_manifest_and_split(collection: dict) -> None:
    from simple_game.dataset import validation_indices

    data = collection["data"]
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["game"] == "breakout" and manifest["protocol"] == "classic"
    assert {"simple_game", "ale_py", "gymnasium"} <= set(manifest["versions"])
    assert (
        manifest["frames"]["color"] == "grayscale"
        and manifest["frames"]["shape"] == [84, 84]
        and manifest["frames"]["final_frame_stored"]
    )
    assert manifest["env"]["noop_max"] == 30 and manifest["env"]["sticky_probability"] == 0.0
    val_all = []
    for tier in manifest["tiers"]:
        episodes = _actions(data, tier["skill_level"])["episodes"]
        scores = [e["score"] for e in episodes]
        assert tier["episodes"] == EPISODES and tier["frames"] == sum(e["frames"] for e in episodes)
        assert tier["score"]["min"] == min(scores) and tier["score"]["max"] == max(scores)
        assert tier["score"]["mean"] == pytest.approx(sum(scores) / len(scores))
        val = [e["episode_id"] for e in episodes if e["split"] == "validation"]
        assert val == [
            f"{tier['name']}/episode_{i:03d}" for i in validation_indices(3, tier["skill_level"], EPISODES, 0.1)
        ]
        assert len(val) == 1 == tier["validation_episodes"]
        val_all += val
    assert manifest["split"]["validation"] == val_all and len(manifest["split"]["train"]) == 2 * EPISODES - len(val_all)
    assert manifest["totals"]["frames"] == sum(t["frames"] for t in manifest["tiers"])


@pytest.mark.slow
def test_actions_follow_the_recording_rule_draw_for_draw(collection: dict) -> None:
    """The recorded actions are those of collect's rule from before it acted through EpsilonGreedy.

    Per episode, numpy and torch are seeded with the episode's policy seed. The random tier
    draws ``rng.integers(n)`` each step. The agent tier draws ``rng.random() < epsilon`` each
    step, then ``rng.integers(n)`` only when it explores, else takes the greedy action of its
    frame stack. Frame ``t`` on disk is what the agent saw before action ``t``, so the rule can
    be replayed from the dataset alone, and a dataset recorded earlier stays reproducible.
    """
    import numpy as np
    import torch

    from simple_game.agents import load_model
    from simple_game.dataset import FrameStacker, frame_name, read_png

    data = collection["data"]
    model = load_model(collection["run"] / "checkpoints" / "step_256.zip", "ppo")
    explored = 0
    for level in (0, 1):
        actions = _actions(data, level)
        n = len(actions["action_meanings"])
        for ep in actions["episodes"]:
            torch.manual_seed(ep["policy_seed"])
            rng = np.random.default_rng(ep["policy_seed"])
            stack = FrameStacker(4, 84)
            folder = data / "raw_gameplay" / ep["episode_id"]
            for t, recorded in enumerate(ep["actions"]):
                stacked = stack.push(read_png(folder / frame_name(t)))
                if level == 0:
                    want = int(rng.integers(n))
                elif rng.random() < ep["epsilon"]:
                    want = int(rng.integers(n))
                    explored += 1
                else:
                    want = int(model.policy.predict(stacked, deterministic=True)[0])
                assert recorded == want, f"{ep['episode_id']} step {t}"
    assert explored > 0  # both branches of the epsilon rule were exercised


@pytest.mark.slow
def test_verify_passes(collection: dict) -> None:
    proc = run_cli("simple_game.collect", "verify", str(collection["data"]))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "all 6 episodes reproduce bit-exactly" in proc.stdout


@pytest.mark.slow
def test_verify_detects_an_altered_frame(collection: dict, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    data = shutil.copytree(collection["data"], tmp_path / "data")
    frame = data / "raw_gameplay/skill_level_0/episode_001/frame_00010.png"
    pixels = np.array(Image.open(frame))
    pixels[40, 40] ^= 1
    Image.fromarray(pixels).save(frame)
    proc = run_cli("simple_game.collect", "verify", str(data))
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "skill_level_0/episode_001" in proc.stdout and "1 of" in proc.stdout and "first frame 10" in proc.stdout
    assert "5 of 6" not in proc.stdout and "FAILED" in proc.stdout


@pytest.mark.slow
def test_verify_detects_an_altered_action(collection: dict, tmp_path: Path) -> None:
    data = shutil.copytree(collection["data"], tmp_path / "data")
    path = data / "actions/skill_level_0_actions.json"
    actions = json.loads(path.read_text())
    ep = actions["episodes"][2]
    new = 3 if ep["actions"][3] != 3 else 2  # LEFT (or RIGHT): the paddle moves differently
    ep["actions"][3], ep["action_names"][3] = new, actions["action_meanings"][new]
    path.write_text(json.dumps(actions))
    proc = run_cli("simple_game.collect", "verify", str(data))
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "skill_level_0/episode_002" in proc.stdout and "frames differ" in proc.stdout


def test_verify_rejects_a_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    proc = run_cli("simple_game.collect", "verify", str(tmp_path))
    assert (
        proc.returncode == 2
        and proc.stderr.strip() == f"error: {tmp_path}: not a simple-game dataset (no manifest.json)"
    )


@pytest.mark.slow
def test_killed_collection_resumes_to_the_same_files(collection: dict, tmp_path: Path) -> None:
    out = tmp_path / "resumed"
    args = [
        sys.executable,
        "-m",
        "simple_game.collect",
        "--config",
        str(collection["config"]),
        "--set",
        f"output={out}",
    ]
    proc = subprocess.Popen(args, cwd=REPO, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "raw_gameplay/skill_level_0/episode_000").is_dir():
            assert proc.poll() is None and time.monotonic() < deadline, "collect ended before it could be killed"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # mid-way through episode 1
    finally:
        proc.wait()
    # Nothing partial is visible: every episode directory is complete.
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is False
    for folder in (out / "raw_gameplay").glob("*/episode_*"):
        if ".tmp-" not in folder.name:
            record = json.loads((folder / "episode.json").read_text())
            assert len(list(folder.glob("*.png"))) == record["frames"]
    resumed = run_cli(
        "simple_game.collect", "--config", str(collection["config"]), "--set", f"output={out}", check=True
    )
    assert "already recorded" in resumed.stdout
    assert _hashes(out) == _hashes(collection["data"])


@pytest.mark.slow
def test_rgb_dataset_rerun_is_a_no_op(tmp_path: Path) -> None:
    """A random-only dataset from `env:` (no run), full-colour frames; a re-run changes nothing."""
    from PIL import Image

    config = tmp_path / "rgb.yaml"
    config.write_text(
        f"env: {{game: Breakout, protocol: modern}}\noutput: {tmp_path / 'data'}\nepisodes: 2\nmax_steps: 25\nrgb: true\nworkers: 0\ntiers: [{{random: true}}]\n"
    )
    run_cli("simple_game.collect", "--config", str(config), check=True)
    before = _hashes(tmp_path / "data")
    with Image.open(tmp_path / "data/raw_gameplay/skill_level_0/episode_000/frame_00025.png") as img:
        assert img.mode == "RGB" and img.size == (160, 210)
    again = run_cli("simple_game.collect", "--config", str(config), check=True)
    assert "2 of 2 episodes already recorded" in again.stdout and _hashes(tmp_path / "data") == before
    proc = run_cli("simple_game.collect", "verify", str(tmp_path / "data"))
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.slow
def test_an_agent_keeps_its_own_frame_stack(collection: dict, tmp_path: Path, write_yaml) -> None:
    """The smoke agent stacks 4 frames; a frame_stack 8 dataset still records it (the frames stored
    do not depend on the agent's stack), and the tier says which stack the agent saw."""
    ckpt = collection["run"] / "checkpoints" / "step_256.zip"
    config = write_yaml(
        f"env: {{game: Breakout, frame_stack: 8}}\noutput: {tmp_path / 'd'}\nepisodes: 1\nmax_steps: 20\n"
        f"tiers: [{{random: true}}, {{checkpoint: {ckpt}}}]\n"
    )
    proc = run_cli("simple_game.collect", "--config", str(config))
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["tiers"][1]["agent"]["frame_stack"] == 4


@pytest.mark.parametrize(
    ("env", "expected"),
    [("screen_size: 64", "screen_size 84"), ("frame_skip: 2", "frame_skip 4")],
    ids=["screen", "frame_skip"],
)
def test_checkpoint_must_fit_the_env(collection: dict, tmp_path: Path, write_yaml, env: str, expected: str) -> None:
    """An agent trained on 84x84 frames at frame skip 4 cannot play a 64x64 dataset, nor one at
    frame skip 2 (it would act twice as often as it learned to): one line naming the tier, nothing written."""
    ckpt = collection["run"] / "checkpoints" / "step_256.zip"
    config = write_yaml(
        f"env: {{game: Breakout, {env}}}\noutput: {tmp_path / 'd'}\ntiers: [{{random: true}}, {{checkpoint: {ckpt}}}]\n"
    )
    proc = run_cli("simple_game.collect", "--config", str(config))
    assert proc.returncode == 2 and expected in proc.stderr and "tiers.1" in proc.stderr, proc.stderr
    assert not (tmp_path / "d").exists()


def test_config_errors_name_file_and_key(write_yaml) -> None:
    config = write_yaml("env: {game: Breakout}\ntiers:\n  - random: true\n    chekpoint: best\n")
    proc = run_cli("simple_game.collect", "--config", str(config))
    assert (
        proc.returncode == 2 and f"{config}: tiers.0.chekpoint: unknown key (did you mean 'checkpoint'?)" in proc.stderr
    )
    proc = run_cli("simple_game.collect", "--config", str(config), "--set", "tiers=[{checkpoint: best}]")
    assert proc.returncode == 2 and "no run is given" in proc.stderr
    proc = run_cli(
        "simple_game.collect", "--config", str(CONFIGS / "collect_breakout.yaml"), "--set", "run=/nonexistent/run"
    )
    assert proc.returncode == 2 and "run: /nonexistent/run: run directory not found" in proc.stderr


def test_shipped_collect_config_and_data_recipe() -> None:
    from simple_game.config import load_collect_config, load_config

    cfg = load_collect_config(CONFIGS / "collect_breakout.yaml")
    assert cfg.tiers[0].random and [t.checkpoint for t in cfg.tiers[1:]] == [
        "skill_level_1",
        "skill_level_2",
        "skill_level_3",
    ]
    assert (cfg.episodes, cfg.validation_fraction, cfg.output, cfg.rgb) == (50, 0.1, "data", False)
    recipe = load_config(CONFIGS / "ppo_breakout_data.yaml")
    assert recipe.env.frame_stack == 8 and recipe.milestones.thresholds == [50, 150, 250] and recipe.algo == "ppo"


def test_policy_sees_the_training_observation() -> None:
    """Our per-episode frame stack equals SB3's VecFrameStack + VecTransposeImage, step by step."""
    import numpy as np

    from simple_game.config import EnvConfig
    from simple_game.dataset import FrameStacker
    from simple_game.envs import make_atari_env, make_vec_env

    cfg = EnvConfig(game="Breakout", frame_stack=8)
    vec = make_vec_env(cfg, training=False, seed=123, n_envs=1, backend="dummy")
    env = make_atari_env(cfg, training=False)
    stacker = FrameStacker(8, 84)
    try:
        expected = vec.reset()
        obs, _ = env.reset(seed=123)
        rng = np.random.default_rng(0)
        for _ in range(40):
            assert np.array_equal(stacker.push(obs[:, :, 0]), expected[0])
            action = int(rng.integers(4))
            expected, *_ = vec.step(np.array([action]))
            obs, *_ = env.step(action)
    finally:
        vec.close()
        env.close()


@pytest.mark.slow
def test_verify_report_names_what_failed_at_80_columns(tmp_path: Path) -> None:
    """A deleted frame and an altered one, verified as a user at an 80-column terminal sees it."""
    import numpy as np
    from PIL import Image

    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"env: {{game: Breakout}}\noutput: {tmp_path / 'data'}\nepisodes: 3\nmax_steps: 20\nworkers: 0\n"
        "tiers: [{random: true}, {random: true}]\n"
    )
    run_cli("simple_game.collect", "--config", str(config), check=True)
    data = tmp_path / "data"
    (data / "raw_gameplay/skill_level_1/episode_002/frame_00010.png").unlink()
    frame = data / "raw_gameplay/skill_level_0/episode_001/frame_00004.png"
    pixels = np.array(Image.open(frame))
    pixels[40, 40] ^= 1
    Image.fromarray(pixels).save(frame)
    proc = subprocess.run(
        [sys.executable, "-m", "simple_game.collect", "verify", str(data)],
        cwd=REPO,
        env={**cli_env(), "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    split = {e["episode_id"]: e["split"] for lv in (0, 1) for e in _actions(data, lv)["episodes"]}
    # One line per failed episode, its id whole; frames counted out of T + 1 = 21, the missing one counted.
    assert (
        f"MISMATCH skill_level_1/episode_002 ({split['skill_level_1/episode_002']}, 20 steps): "
        "1 of 21 frames missing (frame 10)\n" in out
    )
    assert (
        f"MISMATCH skill_level_0/episode_001 ({split['skill_level_0/episode_001']}, 20 steps): "
        "1 of 21 frames differ, first frame 4\n" in out
    )
    assert "…" not in out and "unexpected" not in out and "[]" not in out and "0 dataset problems" not in out
    assert out.rstrip().endswith("FAILED: 2 of 6 episodes do not reproduce (MISMATCH above)")
    table = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and max(len(line) for line in table) <= 80
