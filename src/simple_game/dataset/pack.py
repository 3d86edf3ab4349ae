"""Packing a dataset: every episode's PNGs into one shard (:mod:`~simple_game.dataset.npz`).

Shards are written to temporary names first, renamed when all are complete, then the manifest
(listing each shard and its sha256) is replaced; a failed pack changes nothing already there.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from simple_game.dataset.format import MANIFEST, RAW_DIR, DatasetError, frame_name, read_png, write_json
from simple_game.dataset.npz import MEMBER, SHARD_FORMAT, sha256_file, shard_table, write_shard
from simple_game.dataset.reader import EpisodeInfo, load_manifest, open_dataset
from simple_game.fsio import fsync_dir


@dataclass
class PackReport:
    """What a pack wrote: shards, frames, bytes (and the PNG bytes they replace), time."""

    root: Path
    compressed: bool
    wall_s: float = 0.0
    episodes: int = 0
    frames: int = 0
    shard_bytes: int = 0
    png_bytes: int = 0  # the PNGs of the same frames, for comparison

    @property
    def bytes_per_frame(self) -> float:
        return self.shard_bytes / max(1, self.frames)

    @property
    def png_bytes_per_frame(self) -> float:
        return self.png_bytes / max(1, self.frames)

    def line(self) -> str:
        """What was packed, in one line, and how to check it."""
        return (
            f"packed {self.episodes} episodes ({self.frames:,} frames) into "
            f"{'deflated' if self.compressed else 'stored'} shards: {self.shard_bytes / 1e6:.1f} MB, "
            f"{self.bytes_per_frame:.0f} B/frame (PNGs {self.png_bytes_per_frame:.0f} B/frame) in {self.wall_s:.1f}s; "
            f"check it: python -m simple_game.collect verify {self.root}"
        )


def _png_frames(root: Path, info: EpisodeInfo, shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """An episode's T + 1 PNGs as one array, and their bytes on disk."""
    folder = root / RAW_DIR / info.episode_id
    out = np.empty((info.frames, *shape), dtype=np.uint8)
    size = 0
    for t in range(info.frames):
        path = folder / frame_name(t)
        try:
            out[t] = read_png(path)
            size += path.stat().st_size
        except (OSError, ValueError):
            raise DatasetError(f"{path}: frame missing or unreadable; nothing was packed") from None
    return out, size


def _pack_episode(root: Path, info: EpisodeInfo, shape: tuple[int, ...], compress: bool) -> tuple[Path, dict, int]:
    """Write one episode's shard to a temporary file; return it, its manifest entry and its PNG bytes."""
    frames, png_bytes = _png_frames(root, info, shape)
    folder = root / RAW_DIR / info.episode_id
    fd, tmp = tempfile.mkstemp(prefix=".frames.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "wb") as fh:
        write_shard(fh, frames, compress=compress)
        fh.flush()
        os.fsync(fh.fileno())
    digest = sha256_file(Path(tmp))
    rel = f"{RAW_DIR}/{info.episode_id}/frames-{digest[:12]}.npz"
    entry = {"file": rel, "sha256": digest, "bytes": os.path.getsize(tmp), "shape": list(frames.shape)}
    return Path(tmp), entry, png_bytes


def pack_dataset(
    root: Union[str, Path], *, compress: bool = False, progress: Optional[Callable[[str], None]] = None
) -> PackReport:
    """Write every episode's frames into one shard and list the shards (with sha256) in the manifest."""
    root = Path(root)
    reader = open_dataset(root)  # refuses an incomplete or unknown dataset
    manifest = load_manifest(root)
    old = shard_table(manifest)
    report = PackReport(root, compressed=compress)
    t0 = time.perf_counter()
    written: list[tuple[Path, dict[str, Any]]] = []
    for leftover in (root / RAW_DIR).glob("*/*/.frames.*.tmp"):  # of a pack that was killed
        leftover.unlink()
    try:
        for info in reader.episodes():
            tmp, entry, png_bytes = _pack_episode(root, info, reader.frame_shape, compress)
            written.append((tmp, entry))
            report.episodes += 1
            report.frames += info.frames
            report.shard_bytes += entry["bytes"]
            report.png_bytes += png_bytes
            if progress:
                progress(f"{info.episode_id}: {info.frames} frames, {entry['bytes'] / 1e6:.2f} MB")
        for tmp, entry in written:  # every shard is complete: give them their names
            os.replace(tmp, root / entry["file"])
            fsync_dir((root / entry["file"]).parent)
    finally:
        for tmp, _ in written:
            with contextlib.suppress(OSError):
                tmp.unlink()
    ids = [info.episode_id for info in reader.episodes()]
    manifest["shards"] = {
        "format": SHARD_FORMAT,
        "member": MEMBER,
        "compression": "deflate" if compress else "stored",
        "frames": "uint8 [T+1, H, W] (or [T+1, H, W, 3] for rgb), the same arrays as the PNGs",
        "episodes": {eid: entry for eid, (_, entry) in zip(ids, written, strict=True)},
    }
    write_json(root / MANIFEST, manifest)
    new_files = {entry["file"] for _, entry in written}
    for entry in old.values():  # shards the manifest no longer lists
        if entry.get("file") not in new_files:
            with contextlib.suppress(OSError):
                (root / str(entry.get("file"))).unlink()
    report.wall_s = time.perf_counter() - t0
    return report
