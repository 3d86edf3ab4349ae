"""The on-disk format of a gameplay dataset: names, seeds, the split, JSON and PNG.

Everything here is a pure function of its arguments, so a reader, a writer and a verifier that
share it agree on where every file lies and what it holds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from simple_game.errors import SimpleGameError
from simple_game.fsio import atomic_write_text

FORMAT = "simple-game-gameplay"
FORMAT_VERSION = 1
RAW_DIR = "raw_gameplay"
ACTIONS_DIR = "actions"
MANIFEST = "manifest.json"
EPISODE_RECORD = "episode.json"
PAIRING = (
    "An episode of T actions has T+1 frames. Frame t (t < T) is what the agent saw when it chose "
    "action t: the newest frame of its stack (grayscale) or the screen at that moment (rgb). "
    "Frame T is the screen after the last action. rewards[t], lives[t], terminated[t] and "
    "truncated[t] are what action t led to."
)
# Keys of a per-step list in an episode record; each has one entry per action.
STEP_KEYS = ("actions", "action_names", "rewards", "lives", "terminated", "truncated")


class DatasetError(SimpleGameError, ValueError):
    """A dataset that cannot be read as asked (not a dataset, unknown version, no such tier ...).

    A ``ValueError`` for Python callers; a :class:`SimpleGameError`, so a command prints the
    same text as one line and exits 2.
    """


# --------------------------------------------------------------------------------------------
# Names, seeds and the split
# --------------------------------------------------------------------------------------------


def tier_name(level: int) -> str:
    return f"skill_level_{level}"


def episode_name(index: int) -> str:
    return f"episode_{index:03d}"


def frame_name(t: int) -> str:
    return f"frame_{t:05d}.png"


def episode_id(level: int, index: int) -> str:
    return f"{tier_name(level)}/{episode_name(index)}"


def actions_file(level: int) -> str:
    return f"{ACTIONS_DIR}/{tier_name(level)}_actions.json"


def episode_seeds(seed: int, level: int, index: int) -> tuple[int, int]:
    """(env seed, policy seed) of one episode: a function of these three numbers only.

    That is what makes collection resumable: episode 7 of tier 2 gets the same seeds whether
    it is the first episode this process plays or the last.
    """
    env_seed, policy_seed = np.random.SeedSequence([seed, level, index]).generate_state(2)
    return int(env_seed) & 0x7FFF_FFFF, int(policy_seed) & 0x7FFF_FFFF


def validation_indices(seed: int, level: int, episodes: int, fraction: float) -> list[int]:
    """Which episode indices of a tier form the validation split (a seeded permutation).

    ``round(fraction * episodes)`` of them, at least one when ``fraction > 0`` and the tier has
    two or more episodes, and never all of them. Splitting by whole episode (not by frame)
    keeps near-identical neighbouring frames from landing on both sides.
    """
    if fraction <= 0 or episodes < 2:
        return []
    n_val = min(episodes - 1, max(1, round(fraction * episodes)))
    rng = np.random.default_rng(np.random.SeedSequence([seed, level, 0x5917]))
    return sorted(int(i) for i in rng.permutation(episodes)[:n_val])


# --------------------------------------------------------------------------------------------
# JSON and PNG
# --------------------------------------------------------------------------------------------


def dumps(obj: Any, indent: int = 2, _level: int = 0) -> str:
    """JSON like ``json.dumps(indent=2)``, but lists of plain values stay on one line.

    A whole game has thousands of steps; one action per line would make the files unreadable.
    """
    pad, end = " " * (indent * (_level + 1)), " " * (indent * _level)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(str(k))}: {dumps(v, indent, _level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(x, (dict, list, tuple)) for x in obj):
            return json.dumps(list(obj), separators=(",", ":"))
        return "[\n" + ",\n".join(pad + dumps(x, indent, _level + 1) for x in obj) + "\n" + end + "]"
    return json.dumps(obj)


def write_json(path: Path, data: Any) -> None:
    """Replace ``path`` atomically (readers see the old file or the whole new one)."""
    atomic_write_text(path, dumps(data) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None


def encode_png(frame: np.ndarray) -> bytes:
    """PNG bytes of a ``(H, W)`` grayscale or ``(H, W, 3)`` RGB uint8 frame (lossless)."""
    if frame.ndim == 3:
        frame = frame[:, :, ::-1]  # OpenCV writes BGR
    ok, buf = cv2.imencode(".png", frame)
    if not ok:  # pragma: no cover - cv2 fails only on bad input
        raise SimpleGameError(f"cannot encode a frame of shape {frame.shape} as PNG")
    return buf.tobytes()


def write_png(path: Path, frame: np.ndarray) -> int:
    """Write ``frame`` as a PNG file; returns the bytes written."""
    data = encode_png(frame)
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise SimpleGameError(f"{path}: cannot write frame ({exc.strerror or exc})") from None
    return len(data)


def read_png(path: Path) -> np.ndarray:
    """A stored frame back as the array it was made from (RGB channel order)."""
    raw = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw.size else None
    if img is None:
        raise ValueError(f"{path.name} is not a readable PNG")
    return img[:, :, ::-1] if img.ndim == 3 else img
