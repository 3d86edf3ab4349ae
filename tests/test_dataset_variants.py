"""The recording options the data recipe plans: `env.frame_skip: 2` with full-resolution RGB frames.

One random tier, two games capped at 12 steps, through collect, verify, the reader, FrameWindows,
packed shards and the Minari export: shapes [T+1, 210, 160, 3], T + 1 frames per episode, and
the action repeat (2 emulator frames per action) recorded and honoured by the replay.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow

STEPS = 12  # actions per episode (the cap); each episode has STEPS + 1 frames
RGB = (210, 160, 3)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("variants")
    (tmp / "collect.yaml").write_text(
        f"env: {{game: Breakout, frame_skip: 2}}\noutput: {tmp / 'data'}\nseed: 3\nepisodes: 2\n"
        f"max_steps: {STEPS}\nrgb: true\nworkers: 1\ntiers:\n  - random: true\n"
    )
    proc = run_cli("simple_game.collect", "--config", str(tmp / "collect.yaml"), check=True)
    assert "frame skip 2" in proc.stdout  # the header says what the dataset is
    return tmp / "data"


@pytest.fixture
def data(recorded: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(recorded, tmp_path / "data"))


def test_manifest_and_reader_say_rgb_and_frame_skip_2(recorded: Path) -> None:
    from simple_game.dataset import open_dataset

    manifest = json.loads((recorded / "manifest.json").read_text())
    assert manifest["env"]["frame_skip"] == 2
    assert manifest["frames"]["color"] == "rgb" and manifest["frames"]["shape"] == list(RGB)
    assert manifest["totals"] == {"episodes": 2, "steps": 2 * STEPS, "frames": 2 * (STEPS + 1)}
    reader = open_dataset(recorded)
    assert reader.frame_skip == 2 and reader.rgb and reader.frame_shape == RGB
    for info in reader.episodes():
        ep = reader.load_episode(info)
        assert ep.frames.shape == (STEPS + 1, *RGB) and ep.frames.dtype == np.uint8
        assert ep.actions.shape == ep.rewards.shape == ep.terminated.shape == (STEPS,)
        assert ep.lives.shape == (STEPS + 1,) and info.end == "max_steps"
        assert len(list((recorded / "raw_gameplay" / info.episode_id).glob("frame_*.png"))) == STEPS + 1
        assert len({f.tobytes() for f in ep.frames}) > 1  # real screens, not one frame repeated


def test_verify_replays_at_the_recorded_frame_skip(data: Path) -> None:
    from simple_game.dataset import verify_dataset

    proc = run_cli("simple_game.collect", "verify", str(data))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"{2 * (STEPS + 1)} frames" in proc.stdout
    manifest_path = data / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["env"]["frame_skip"] = 4  # the same actions, repeated 4 frames each: other screens
    manifest_path.write_text(json.dumps(manifest))
    report = verify_dataset(data)
    assert not report.ok and len(report.failed) == 2


def test_windows_shards_and_minari_keep_shapes_and_counts(data: Path, tmp_path: Path) -> None:
    minari = pytest.importorskip("minari")
    from simple_game.dataset import FrameWindows, export_minari, open_dataset, pack_dataset, verify_dataset
    from simple_game.dataset.minari_export import datasets_root

    k, stride = 4, 3
    windows = FrameWindows(data, k, split=None, stride=stride)
    assert windows.frame_skip == 2 and windows.frame_shape == RGB
    assert len(windows) == 2 * ((STEPS - k) // stride + 1)
    reader = open_dataset(data)
    png = {info.episode_id: reader.load_episode(info).frames for info in reader.episodes()}
    item = windows[len(windows) - 1]
    assert tuple(item["frames"].shape) == (k + 1, *RGB) and tuple(item["actions"].shape) == (k,)
    start, eid = int(item["start"]), item["episode_id"]
    assert np.array_equal(item["frames"].numpy(), png[eid][start : start + k + 1])

    report = pack_dataset(data)
    assert report.episodes == 2 and report.frames == 2 * (STEPS + 1)
    packed = open_dataset(data)
    assert {e["shape"][0] for e in packed.shards.values()} == {STEPS + 1}
    assert all(e["shape"][1:] == list(RGB) for e in packed.shards.values())
    for eid, frames in png.items():
        assert np.array_equal(packed.load_frames(eid), frames)  # read from the shard now
    assert verify_dataset(data).ok  # the shards replay bit for bit too

    out = tmp_path / "minari"
    (dataset_id,) = export_minari(data, "fs2rgb", directory=out)
    with datasets_root(out):
        exported = minari.load_dataset(dataset_id)
        assert exported.total_episodes == 2 and exported.total_steps == 2 * STEPS
        assert exported.observation_space.shape == RGB
        meta = exported.storage.metadata["simple_game"]
        assert meta["frame_skip"] == 2 and meta["env"]["frame_skip"] == 2
        for ep, info in zip(exported.iterate_episodes(), reader.episodes(), strict=True):
            assert ep.observations.shape == (STEPS + 1, *RGB) and ep.actions.shape == (STEPS,)
            assert np.array_equal(ep.observations, png[info.episode_id])
