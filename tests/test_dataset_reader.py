"""Reading a recorded dataset: the reader, the PyTorch windows and the docs example, on datasets
these tests record themselves (random tiers, a few short episodes)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, cli_env, run_cli

SHORT = 24  # the capped tier's max_steps


def _collect(tmp: Path, text: str) -> tuple[Path, str]:
    config = tmp / "collect.yaml"
    config.write_text(text)
    proc = run_cli("simple_game.collect", "--config", str(config), check=True)
    return tmp / "data", proc.stdout


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Classic protocol, grayscale: tier 0 four episodes capped at SHORT steps, tier 1 four whole random games."""
    tmp = tmp_path_factory.mktemp("reader")
    return _collect(
        tmp,
        f"env: {{game: Breakout}}\noutput: {tmp / 'data'}\nseed: 5\nepisodes: 4\nworkers: 0\n"
        f"tiers:\n  - random: true\n    max_steps: {SHORT}\n  - random: true\n",
    )


@pytest.fixture(scope="module")
def data(dataset: tuple[Path, str]) -> Path:
    return dataset[0]


def _listing(data: Path) -> dict[str, dict]:
    """Every episode as its tier's actions file lists it, by id (the JSON the windows come from)."""
    out = {}
    for path in sorted((data / "actions").glob("*_actions.json")):
        out.update({e["episode_id"]: e for e in json.loads(path.read_text())["episodes"]})
    return out


def _png_frames(data: Path, episode_id: str, n: int) -> np.ndarray:
    """The stored frames, decoded with Pillow (not the reader's OpenCV path)."""
    from PIL import Image

    folder = data / "raw_gameplay" / episode_id
    return np.stack([np.asarray(Image.open(folder / f"frame_{t:05d}.png")) for t in range(n)])


# ------------------------------------------------------------------------------------ the reader


@pytest.mark.slow
def test_reader_lists_and_loads_episodes(data: Path) -> None:
    from simple_game.dataset import open_dataset

    reader = open_dataset(data)
    listing = _listing(data)
    manifest = json.loads((data / "manifest.json").read_text())
    assert reader.tiers == ["skill_level_0", "skill_level_1"] and reader.splits == ("train", "validation")
    assert [e.episode_id for e in reader.episodes()] == list(listing)
    assert [e.episode_id for e in reader.episodes(split="validation")] == manifest["split"]["validation"]
    assert [e.episode_id for e in reader.episodes(split="train")] == manifest["split"]["train"]
    assert [e.episode_id for e in reader.episodes(tiers=1)] == [f"skill_level_1/episode_{i:03d}" for i in range(4)]
    assert reader.episodes(tiers=[1]) == reader.episodes(tiers="skill_level_1")
    for info in reader.episodes():
        want = listing[info.episode_id]
        ep = reader.load_episode(info.episode_id)
        T = want["length"]
        assert ep.info == info and info.length == T and info.split == want["split"]
        assert ep.frames.dtype == np.uint8 and ep.frames.shape == (T + 1, 84, 84)
        assert np.array_equal(ep.frames, _png_frames(data, info.episode_id, T + 1))
        assert ep.actions.tolist() == want["actions"] and ep.rewards.tolist() == want["rewards"]
        assert ep.lives.tolist() == [want["start_lives"]] + want["lives"]
        assert ep.terminated.tolist() == want["terminated"] and ep.truncated.tolist() == want["truncated"]
        assert ep.life_lost.tolist() == [b < a for a, b in zip(ep.lives[:-1], ep.lives[1:])]
        assert (ep.actions.dtype, ep.rewards.dtype, ep.lives.dtype, ep.life_lost.dtype) == (
            np.int64,
            np.float32,
            np.int64,
            np.bool_,
        )
        if info.tier == "skill_level_1":  # whole random games: they end by game over, losing all 5 lives
            assert info.end == "game_over" and ep.terminated[-1] and not ep.terminated[:-1].any()
            assert ep.life_lost.sum() == 5 and ep.lives[-1] == 0
        else:
            assert T == SHORT and info.end == "max_steps"


def test_reading_is_light() -> None:
    """The reader brings in no torch, gymnasium, ale-py or SB3; FrameWindows loads torch when asked for."""
    code = (
        "import sys\nfrom simple_game.dataset import open_dataset, DatasetError\nimport simple_game.dataset as d\n"
        "heavy = [m for m in ('torch', 'gymnasium', 'ale_py', 'stable_baselines3') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))\nd.FrameWindows\nprint('TORCH:' + str('torch' in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=cli_env(), cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY:\n" in proc.stdout and "TORCH:True" in proc.stdout


# ----------------------------------------------------------------------------------- the windows


@pytest.mark.slow
@pytest.mark.parametrize(("k", "stride"), [(1, 1), (4, 3), (16, 5), (SHORT, 2), (60, 17)])
def test_windows_are_the_frames_and_actions_they_came_from(data: Path, k: int, stride: int) -> None:
    from simple_game.dataset import FrameWindows

    listing = _listing(data)
    windows = FrameWindows(data, k, split=None, stride=stride)
    # Exactly the windows t = 0, stride, ... with t + k <= T of every episode long enough, in order.
    expected = [(eid, t) for eid, e in listing.items() for t in range(0, e["length"] - k + 1, stride)]
    got = [windows.locate(i) for i in range(len(windows))]
    assert [(info.episode_id, t) for info, t in got] == expected and len(windows) == len(expected)
    frames = {eid: _png_frames(data, eid, e["length"] + 1) for eid, e in listing.items() if e["length"] >= k}
    for i, (info, t) in enumerate(got):
        item, e = windows[i], listing[info.episode_id]
        assert (item["episode_id"], item["start"]) == (info.episode_id, t)
        assert item["frames"].shape == (k + 1, 84, 84) and str(item["frames"].dtype) == "torch.uint8"
        assert np.array_equal(item["frames"].numpy(), frames[info.episode_id][t : t + k + 1])
        assert item["actions"].tolist() == e["actions"][t : t + k]
        assert item["rewards"].tolist() == e["rewards"][t : t + k]
        assert item["lives"].tolist() == ([e["start_lives"]] + e["lives"])[t : t + k + 1]
        assert item["terminated"].tolist() == e["terminated"][t : t + k]
        assert item["truncated"].tolist() == e["truncated"][t : t + k]
        # Never across an episode end: the game can only end on a window's last step.
        assert t + k <= e["length"] and not item["terminated"][:-1].any()
    assert windows.skipped_episodes == sum(e["length"] < k for e in listing.values())


@pytest.mark.slow
def test_float_frames_and_tier_selection(data: Path) -> None:
    import torch

    from simple_game.dataset import FrameWindows

    as_uint8 = FrameWindows(data, 3, tiers=[0], stride=4)
    as_float = FrameWindows(data, 3, tiers="skill_level_0", stride=4, as_float=True)
    assert len(as_uint8) == len(as_float) > 0
    assert {as_uint8.locate(i)[0].tier for i in range(len(as_uint8))} == {"skill_level_0"}
    a, b = as_uint8[len(as_uint8) - 1], as_float[len(as_float) - 1]
    assert b["frames"].dtype == torch.float32 and 0.0 <= float(b["frames"].min()) <= float(b["frames"].max()) <= 1.0
    assert torch.equal(b["frames"], a["frames"].float() / 255)


@pytest.mark.slow
def test_validation_never_leaks_into_train(data: Path) -> None:
    from simple_game.dataset import FrameWindows

    manifest = json.loads((data / "manifest.json").read_text())
    train, val = FrameWindows(data, 8, split="train"), FrameWindows(data, 8, split="validation")
    train_ids = {train.locate(i)[0].episode_id for i in range(len(train))}
    val_ids = {val.locate(i)[0].episode_id for i in range(len(val))}
    assert train_ids == set(manifest["split"]["train"]) and val_ids == set(manifest["split"]["validation"])
    assert not train_ids & val_ids and len(val_ids) == 2  # one validation episode per tier


@pytest.mark.slow
def test_two_workers_yield_the_same_windows_as_one_process(data: Path) -> None:
    from torch.utils.data import DataLoader

    from simple_game.dataset import FrameWindows

    windows = FrameWindows(data, 6, split=None, stride=3)

    def seen(num_workers: int) -> list[tuple]:
        out = []
        for batch in DataLoader(windows, batch_size=7, num_workers=num_workers):
            for j, eid in enumerate(batch["episode_id"]):
                out.append(
                    (
                        eid,
                        int(batch["start"][j]),
                        batch["frames"][j].numpy().tobytes(),
                        tuple(batch["actions"][j].tolist()),
                    )
                )
        return out

    one, two = seen(0), seen(2)
    assert one == two and len(set(one)) == len(windows)


# ------------------------------------------------------------------------------------- bad input


@pytest.mark.slow
def test_bad_selections_are_one_line(data: Path) -> None:
    from simple_game.dataset import DatasetError, FrameWindows, open_dataset

    cases = {
        f"k=100: a window of 100 actions (101 frames) is longer than every episode of skill_level_0 (train) "
        f"(the longest has {SHORT} actions)": dict(k=100, tiers=0),
        "split 'test' does not exist (splits: train, validation)": dict(k=2, split="test"),
        f"{data}: no tier skill_level_7 (tiers: skill_level_0, skill_level_1)": dict(k=2, tiers=[0, 7]),
        f"{data}: no tier level_1 (tiers: skill_level_0, skill_level_1)": dict(k=2, tiers="level_1"),
        "k=0: a window needs k >= 1 actions (k + 1 frames)": dict(k=0),
        "stride=0: must be a whole number >= 1": dict(k=2, stride=0),
    }
    for message, kwargs in cases.items():
        with pytest.raises(ValueError) as caught:
            FrameWindows(data, **kwargs)
        assert isinstance(caught.value, DatasetError) and str(caught.value) == message
    with pytest.raises(DatasetError, match=r"no episode 'skill_level_0/episode_099'"):
        open_dataset(data).load_episode("skill_level_0/episode_099")


@pytest.mark.slow
def test_unknown_format_version_is_the_line_the_command_prints(data: Path, tmp_path: Path) -> None:
    from simple_game.dataset import FrameWindows, open_dataset

    copy = shutil.copytree(data, tmp_path / "data")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = 99
    (copy / "manifest.json").write_text(json.dumps(manifest))
    message = f"{copy / 'manifest.json'}: format version 99 is not supported (this simple-game reads 1)"
    for opener in (open_dataset, lambda root: FrameWindows(root, 1)):
        with pytest.raises(ValueError) as caught:
            opener(copy)
        assert str(caught.value) == message
    proc = run_cli("simple_game.collect", "verify", str(copy))
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {message}"


@pytest.mark.slow
def test_a_missing_frame_names_the_file(data: Path, tmp_path: Path) -> None:
    from simple_game.dataset import DatasetError, FrameWindows

    copy = shutil.copytree(data, tmp_path / "data")
    (copy / "raw_gameplay/skill_level_0/episode_000/frame_00003.png").unlink()
    windows = FrameWindows(copy, 2, tiers=0, split=None)
    windows[0]  # frames 0..2 are there
    with pytest.raises(DatasetError, match=r"episode_000/frame_00003.png: frame missing or unreadable"):
        windows[1]


# ------------------------------------------------------------------------ docs and sticky actions


@pytest.mark.slow
def test_docs_training_loop_runs(data: Path, tmp_path: Path) -> None:
    """The training-loop example of docs/dataset.md "Using a dataset", run as written on ./data."""
    text = (REPO / "docs" / "dataset.md").read_text()
    section = text[text.index("## Using a dataset") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    example = next(b for b in blocks if "DataLoader" in b)
    assert len(example.strip().splitlines()) <= 22
    (tmp_path / "data").symlink_to(data)
    (tmp_path / "example.py").write_text(example)
    proc = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"epoch 1: loss \d+\.\d{3}", proc.stdout), proc.stdout
    listing = next(b for b in blocks if "open_dataset" in b)  # the reader tour runs too
    (tmp_path / "tour.py").write_text(listing)
    proc = subprocess.run(
        [sys.executable, "tour.py"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_classic_labels_are_the_executed_actions(dataset: tuple[Path, str]) -> None:
    data, stdout = dataset
    labels = json.loads((data / "manifest.json").read_text())["action_labels"]
    assert labels["always_executed"] is True and labels["sticky_probability"] == 0.0
    assert not [line for line in stdout.splitlines() if line.startswith("warning")]


@pytest.mark.slow
def test_sticky_rgb_dataset_warns_and_reads_back(tmp_path: Path) -> None:
    """Modern protocol (sticky actions) in RGB: one warning line, the manifest says so, frames come back."""
    from simple_game.dataset import FrameWindows, open_dataset

    data, stdout = _collect(
        tmp_path,
        f"env: {{game: Breakout, protocol: modern}}\noutput: {tmp_path / 'data'}\nepisodes: 2\nmax_steps: 6\n"
        "rgb: true\nworkers: 0\ntiers: [{random: true}]\n",
    )
    warnings = [line for line in stdout.splitlines() if line.startswith("warning")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: the modern protocol has sticky actions (p=0.25)")
    assert "use protocol: classic for action-labelled data" in warnings[0]
    labels = json.loads((data / "manifest.json").read_text())["action_labels"]
    assert labels["always_executed"] is False and labels["sticky_probability"] == 0.25
    assert "not always the one executed" in labels["note"]
    reader = open_dataset(data)
    assert reader.rgb and reader.sticky_probability == 0.25
    ep = reader.load_episode("skill_level_0/episode_000")
    assert ep.frames.shape == (7, 210, 160, 3)
    assert np.array_equal(ep.frames, _png_frames(data, "skill_level_0/episode_000", 7))
    item = FrameWindows(data, 6, split=None)[0]
    assert item["frames"].shape == (7, 210, 160, 3) and np.array_equal(item["frames"].numpy(), ep.frames)
