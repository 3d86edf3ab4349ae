"""Packed shards: each episode's T + 1 frames in one ``.npz`` file next to its PNGs.

    simple-game collect pack data/          # or: pack_dataset("data")

A tier of 100,000 small PNGs is slow to list, copy and read; one file per episode is not. A
shard is a numpy ``.npz`` (a zip) holding one member, ``frames.npy``: uint8 ``[T+1, H, W]``
(``[T+1, H, W, 3]`` for RGB). Stored uncompressed by default, so the reader maps the array
straight from disk (``np.memmap``) and a window reads only its own ``k + 1`` frames;
``compress=True`` deflates it (smaller, but a reader must inflate the whole episode).

The manifest lists every shard with its sha256; the bytes are reproducible (fixed zip
timestamps), and a shard's name carries the start of its hash, so packing again never
overwrites a file with different content. Shards are written to temporary names first, renamed
when all are complete, then the manifest is replaced; a failed pack changes nothing.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Optional

import numpy as np

from simple_game.dataset.format import DatasetError
from simple_game.fsio import sha256_file

SHARD_FORMAT = "npz"
MEMBER = "frames.npy"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so packing the same frames gives the same bytes


def write_shard(fh: Any, frames: np.ndarray, *, compress: bool) -> None:
    """An ``.npz`` with one member, ``frames.npy``, written to an open binary file."""
    info = zipfile.ZipInfo(MEMBER, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(fh, "w") as zf, zf.open(info, "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.ascontiguousarray(frames), allow_pickle=False)


def read_shard(path: Path) -> np.ndarray:
    """A shard's frames: mapped from disk when stored uncompressed, else inflated into memory."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(MEMBER)
            if info.compress_type != zipfile.ZIP_STORED:
                with zf.open(info) as member:
                    return np.lib.format.read_array(member, allow_pickle=False)
        with open(path, "rb") as fh:
            # The member's data follows its local header: 30 bytes, then the name and the extra field.
            fh.seek(info.header_offset + 26)
            name_len, extra_len = np.frombuffer(fh.read(4), dtype="<u2")
            fh.seek(info.header_offset + 30 + int(name_len) + int(extra_len))
            fmt = np.lib.format
            version = fmt.read_magic(fh)
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: shard unreadable ({exc})") from None


def shard_table(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's shards by episode id (empty when the dataset is not packed)."""
    shards = manifest.get("shards")
    return dict(shards.get("episodes", {})) if isinstance(shards, dict) else {}


def shard_problems(
    root: Path, entry: dict[str, Any], *, check_hash: bool = True
) -> tuple[Optional[np.ndarray], list[str]]:
    """A listed shard's frames if it is there, whole and the one the manifest hashed; else what is wrong."""
    rel = str(entry.get("file"))
    path = Path(root) / rel
    if not path.is_file():
        return None, [f"shard {rel} missing"]
    if check_hash and sha256_file(path) != entry.get("sha256"):
        return None, [f"shard {rel}: sha256 differs from the manifest (tampered or damaged)"]
    try:
        frames = read_shard(path)
    except DatasetError as exc:
        return None, [f"shard {rel}: {exc}"]
    if list(frames.shape) != list(entry.get("shape", [])):
        return None, [f"shard {rel}: frames of shape {list(frames.shape)}, the manifest says {entry.get('shape')}"]
    return frames, []
