#!/usr/bin/env python
"""Dataset loading: windows/s from PNGs and from packed shards, bytes on disk, time to pack and export.

    python bench/dataset_loader.py DATA [--tier 0] [--k 16] [--batch 64] [--workers 2] [--batches 20]
    python bench/dataset_loader.py --collect 10       # record a 10-episode random tier first (tmp dir)

DATA is copied (PNGs and JSON only) into a temporary directory three times: as recorded, packed
into stored (uncompressed) shards, packed into deflated shards. For each copy: bytes on disk per
frame, the time to pack, the time to load every episode whole, and windows/s through a shuffled
``DataLoader`` (``FrameWindows(k)``, batch ``--batch``, ``--workers`` workers, the first batch
not timed: it pays for the workers' start). With ``--minari`` it also times a Minari export.
Wall-clock figures depend on other load on the machine, so the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

try:  # runnable from a clean clone without `pip install -e .`
    import simple_game  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

COLLECT = "env: {{game: Breakout}}\noutput: {out}\nseed: 3\nepisodes: {n}\nworkers: 0\ntiers:\n  - random: true\n"


def copy_dataset(src: Path, dst: Path) -> Path:
    """The dataset without any shards (and with a manifest that lists none)."""
    from simple_game.dataset import MANIFEST, read_json, write_json

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.npz"))
    manifest = read_json(dst / MANIFEST)
    manifest.pop("shards", None)
    write_json(dst / MANIFEST, manifest)
    return dst


def windows_per_s(root: Path, tier: str, k: int, batch: int, workers: int, batches: int) -> float:
    from torch.utils.data import DataLoader

    from simple_game.dataset import FrameWindows

    windows = FrameWindows(root, k, tiers=tier, split=None)
    loader = DataLoader(windows, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True)
    seen, t0 = 0, 0.0
    for i, item in enumerate(loader):
        if i == 0:
            t0 = time.perf_counter()  # the first batch pays for starting the workers
            continue
        seen += len(item["frames"])
        if i >= batches:
            break
    return seen / (time.perf_counter() - t0)


def measure(root: Path, name: str, args: argparse.Namespace) -> dict[str, float]:
    from simple_game.dataset import open_dataset, pack_dataset

    row: dict[str, float] = {"pack_s": 0.0}
    if name != "png":
        row["pack_s"] = pack_dataset(root, compress=name == "npz-deflate").wall_s
    reader = open_dataset(root)
    episodes = reader.episodes(tiers=args.tier)
    frames = sum(e.frames for e in episodes)
    pattern = "*.png" if name == "png" else "*.npz"
    size = sum(p.stat().st_size for p in (root / "raw_gameplay" / reader.tier_names(args.tier)[0]).rglob(pattern))
    row["bytes_per_frame"] = size / frames
    t0 = time.perf_counter()
    for info in episodes:
        reader.load_frames(info)
    row["episode_load_ms"] = 1000 * (time.perf_counter() - t0) / len(episodes)
    tier = reader.tier_names(args.tier)[0]
    row["windows_per_s"] = windows_per_s(root, tier, args.k, args.batch, args.workers, args.batches)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", help="a recorded dataset directory")
    parser.add_argument("--collect", type=int, metavar="N", help="record an N-episode random tier first")
    parser.add_argument("--tier", type=int, default=0)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=20, help="timed batches per format")
    parser.add_argument("--minari", action="store_true", help="also time a Minari export (needs the extra)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-dataset-"))
    try:
        if args.collect:
            import subprocess

            (tmp / "collect.yaml").write_text(COLLECT.format(out=tmp / "recorded", n=args.collect))
            cmd = [sys.executable, "-m", "simple_game.collect", "--config", str(tmp / "collect.yaml")]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            args.data = str(tmp / "recorded")
        if not args.data:
            parser.error("give a dataset directory or --collect N")
        from simple_game.dataset import export_minari, open_dataset

        info = open_dataset(args.data).episodes(tiers=args.tier)
        print(
            f"{args.data} tier {args.tier}: {len(info)} episodes, {sum(e.frames for e in info):,} frames | "
            f"k={args.k} batch={args.batch} workers={args.workers} | load average {os.getloadavg()[0]:.1f}"
        )
        print(f"{'format':<12} {'B/frame':>9} {'pack s':>8} {'episode ms':>11} {'windows/s':>10}")
        for name in ("png", "npz-stored", "npz-deflate"):
            row = measure(copy_dataset(Path(args.data), tmp / name), name, args)
            print(
                f"{name:<12} {row['bytes_per_frame']:>9.0f} {row['pack_s']:>8.2f} {row['episode_load_ms']:>11.1f} "
                f"{row['windows_per_s']:>10.0f}"
            )
        if args.minari:
            t0 = time.perf_counter()
            export_minari(tmp / "png", "bench", directory=tmp / "minari")
            print(f"minari export (every tier): {time.perf_counter() - t0:.2f}s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
