"""Packed shards (collect pack) and the Minari export (collect export), on a dataset these tests record."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Classic protocol, grayscale: tier 0 three episodes capped at 30 steps, tier 1 two capped at 50."""
    tmp = tmp_path_factory.mktemp("shards")
    (tmp / "collect.yaml").write_text(
        f"env: {{game: Breakout}}\noutput: {tmp / 'data'}\nseed: 7\nepisodes: 3\nworkers: 0\n"
        "tiers:\n  - random: true\n    max_steps: 30\n  - random: true\n    episodes: 2\n    max_steps: 50\n"
    )
    run_cli("simple_game.collect", "--config", str(tmp / "collect.yaml"), check=True)
    return tmp / "data"


@pytest.fixture
def data(recorded: Path, tmp_path: Path) -> Path:
    """A fresh copy of the recorded dataset (PNGs only) for each test."""
    return Path(shutil.copytree(recorded, tmp_path / "data"))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _windows(root: Path, k: int, stride: int) -> list[tuple]:
    from simple_game.dataset import FrameWindows

    windows = FrameWindows(root, k, split=None, stride=stride)
    items = (windows[i] for i in range(len(windows)))
    return [(w["episode_id"], w["start"], w["frames"].numpy(), w["actions"].numpy()) for w in items]


def test_pack_then_verify_and_the_loader_reads_shards(data: Path, tmp_path: Path) -> None:
    before = {(k, s): _windows(data, k, s) for k, s in ((1, 1), (4, 3), (16, 5))}
    proc = run_cli("simple_game.collect", "pack", str(data), check=True)
    assert "packed 5 episodes" in proc.stdout and "stored shards" in proc.stdout
    manifest = json.loads((data / "manifest.json").read_text())
    shards = manifest["shards"]
    assert shards["format"] == "npz" and shards["compression"] == "stored"
    assert len(shards["episodes"]) == 5
    for episode_id, entry in shards["episodes"].items():
        path = data / entry["file"]
        assert path.parent == data / "raw_gameplay" / episode_id  # next to its PNGs
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        frames = np.load(path)["frames"]  # a plain .npz: numpy reads it
        assert list(frames.shape) == entry["shape"] and frames.dtype == np.uint8
    verify = run_cli("simple_game.collect", "verify", str(data))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "and its shards" in verify.stdout and "OK: all 5 episodes" in verify.stdout
    # The loader reads the shards: with every PNG gone the windows are still the same.
    for png in data.rglob("*.png"):
        png.unlink()
    for (k, s), want in before.items():
        got = _windows(data, k, s)
        assert [(e, t) for e, t, _, _ in got] == [(e, t) for e, t, _, _ in want]
        for (_, _, frames, actions), (_, _, want_frames, want_actions) in zip(got, want, strict=True):
            assert np.array_equal(frames, want_frames) and np.array_equal(actions, want_actions)


def test_compressed_shards_give_the_same_frames(data: Path) -> None:
    from simple_game.dataset import open_dataset, pack_dataset

    want = {e.episode_id: open_dataset(data).load_frames(e) for e in open_dataset(data).episodes()}
    report = pack_dataset(data, compress=True)
    assert report.compressed and report.bytes_per_frame < report.png_bytes_per_frame
    reader = open_dataset(data)
    assert reader.manifest["shards"]["compression"] == "deflate"
    for episode_id, frames in want.items():
        assert np.array_equal(reader.load_frames(episode_id), frames)
        assert np.array_equal(reader.load_frames(episode_id, 3, 9), frames[3:9])
    again = pack_dataset(data, compress=True)  # the same frames pack to the same bytes
    assert json.loads((data / "manifest.json").read_text())["shards"] == reader.manifest["shards"]
    assert again.shard_bytes == report.shard_bytes
    assert sorted(p.name for p in (data / "raw_gameplay").rglob("*.npz")) == sorted(
        Path(e["file"]).name for e in reader.shards.values()
    )


def test_a_flipped_byte_in_a_shard_is_caught_and_named(data: Path) -> None:
    from simple_game.dataset import DatasetError, open_dataset

    run_cli("simple_game.collect", "pack", str(data), check=True)
    entry = json.loads((data / "manifest.json").read_text())["shards"]["episodes"]["skill_level_1/episode_001"]
    path = data / entry["file"]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit of one frame
    path.write_bytes(bytes(raw))
    proc = run_cli("simple_game.collect", "verify", str(data))
    assert proc.returncode == 1
    mismatch = [line for line in proc.stdout.splitlines() if line.startswith("MISMATCH")]
    assert len(mismatch) == 1 and mismatch[0].startswith("MISMATCH skill_level_1/episode_001")
    assert f"shard {entry['file']}: sha256 differs from the manifest" in mismatch[0]
    with pytest.raises(DatasetError, match=r"skill_level_1/episode_001: shard .*sha256 differs"):
        open_dataset(data).load_frames("skill_level_1/episode_001")
    path.unlink()
    proc = run_cli("simple_game.collect", "verify", str(data))
    assert proc.returncode == 1 and f"shard {entry['file']} missing" in proc.stdout


def test_a_failed_pack_changes_nothing(data: Path) -> None:
    run_cli("simple_game.collect", "pack", str(data), check=True)
    (data / "raw_gameplay" / "skill_level_0" / "episode_002" / "frame_00007.png").unlink()
    before = _snapshot(data)
    proc = run_cli("simple_game.collect", "pack", str(data), "--compress")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "frame_00007.png: frame missing or unreadable" in proc.stderr
    assert _snapshot(data) == before  # no shard replaced, no temporary file left, the same manifest


def test_minari_export_reads_back(data: Path, tmp_path: Path) -> None:
    minari = pytest.importorskip("minari")
    from simple_game.dataset import open_dataset
    from simple_game.dataset.minari_export import datasets_root

    out = tmp_path / "minari"
    proc = run_cli("simple_game.collect", "export", str(data), "--minari", "breakout", "--to", str(out), check=True)
    assert "simple-game/breakout-skill0-v0" in proc.stdout and "simple-game/breakout-skill1-v0" in proc.stdout
    reader = open_dataset(data)
    with datasets_root(out):
        for level, n in ((0, 3), (1, 2)):
            exported = minari.load_dataset(f"simple-game/breakout-skill{level}-v0")
            episodes = reader.episodes(tiers=level)
            assert exported.total_episodes == n == len(episodes)
            assert exported.total_steps == sum(e.length for e in episodes)
            meta = exported.storage.metadata["simple_game"]
            assert meta["tier"]["name"] == f"skill_level_{level}" and meta["protocol"] == "classic"
            for ep, info in zip(exported.iterate_episodes(), episodes, strict=True):
                source = reader.load_episode(info)
                assert ep.observations.shape == (info.length + 1, 84, 84) and ep.actions.shape == (info.length,)
                assert np.array_equal(ep.observations, source.frames)
                assert np.array_equal(ep.actions, source.actions) and np.allclose(ep.rewards, source.rewards)
                assert np.array_equal(ep.terminations, source.terminated)
                assert ep.truncations[-1] == (info.end == "max_steps" or bool(source.truncated[-1]))
    before = _snapshot(out)
    again = run_cli("simple_game.collect", "export", str(data), "--minari", "breakout", "--to", str(out))
    assert again.returncode == 2 and again.stderr.strip().count("\n") == 0
    assert "simple-game/breakout-skill0-v0 exists" in again.stderr
    assert _snapshot(out) == before
