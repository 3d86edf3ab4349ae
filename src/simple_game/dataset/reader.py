"""Reading a recorded dataset: its tiers, episodes and splits, and one episode as arrays.

    from simple_game.dataset import open_dataset

    data = open_dataset("data")
    data.tiers                                  # ['skill_level_0', 'skill_level_1', ...]
    data.episodes(tiers=[1], split="train")     # EpisodeInfo of each, in a fixed order
    ep = data.load_episode("skill_level_1/episode_003")
    ep.frames.shape, ep.actions.shape           # (T+1, 84, 84) uint8, (T,)

**Pairing.** Frame ``t`` is what the agent saw when it chose ``actions[t]``; frame ``t + 1`` is
the result, and ``rewards[t]``, ``lives[t + 1]``, ``terminated[t]``, ``truncated[t]`` and
``life_lost[t]`` are what action ``t`` led to. Nothing is loaded until asked: listing reads the
manifest and the actions files, :meth:`DatasetReader.load_frames` decodes only the frames it
is asked for.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from simple_game.dataset.format import (
    EPISODE_RECORD,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    RAW_DIR,
    DatasetError,
    frame_name,
    read_json,
    read_png,
    tier_name,
)
from simple_game.dataset.npz import shard_problems, shard_table

SPLITS = ("train", "validation")
TierSelection = Union[None, int, str, Iterable[Union[int, str]]]


def load_manifest(root: Union[str, Path]) -> dict[str, Any]:
    """A dataset's manifest, checked to be one this simple-game reads (its format and version)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset directory not found")
    path = root / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{root}: not a simple-game dataset (no {MANIFEST})")
    manifest = read_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DatasetError(f"{path}: not a simple-game dataset manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{path}: format version {manifest.get('format_version')} is not supported "
            f"(this simple-game reads {FORMAT_VERSION})"
        )
    return manifest


@dataclass(frozen=True)
class EpisodeInfo:
    """One episode as the actions file lists it; ``length`` is T (actions), it has T + 1 frames."""

    episode_id: str
    tier: str
    skill_level: int
    index: int
    split: str
    length: int
    score: float
    end: str

    @property
    def frames(self) -> int:
        return self.length + 1


@dataclass(frozen=True)
class EpisodeSteps:
    """The per-step record of one episode as arrays (T actions; ``lives`` has T + 1 entries)."""

    actions: np.ndarray  # int64 [T]: the agent's choices
    rewards: np.ndarray  # float32 [T]: raw, unclipped
    lives: np.ndarray  # int64 [T+1]: lives at frame 0, then after each action
    terminated: np.ndarray  # bool [T]: the game ended with action t
    truncated: np.ndarray  # bool [T]: the emulator's frame cap ended it
    life_lost: np.ndarray  # bool [T]: action t cost a life (lives[t+1] < lives[t])


@dataclass(frozen=True)
class Episode:
    """One whole episode: its listing, its T + 1 frames and its T steps (as in :class:`EpisodeSteps`)."""

    info: EpisodeInfo
    frames: np.ndarray  # uint8 [T+1, H, W] (grayscale) or [T+1, H, W, 3] (rgb)
    actions: np.ndarray
    rewards: np.ndarray
    lives: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    life_lost: np.ndarray


def _info(entry: dict[str, Any], path: Path) -> EpisodeInfo:
    try:
        episode_id = str(entry["episode_id"])
        return EpisodeInfo(
            episode_id=episode_id,
            tier=episode_id.split("/")[0],
            skill_level=int(entry["skill_level"]),
            index=int(entry["episode_index"]),
            split=str(entry["split"]),
            length=int(entry["length"]),
            score=float(entry["score"]),
            end=str(entry["end"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: an episode entry is unusable ({exc!r})") from None


class DatasetReader:
    """A dataset directory opened for reading: listings now, frames and steps when asked.

    Holds only the manifest and one small :class:`EpisodeInfo` per episode, so it pickles
    cheaply into DataLoader workers.
    """

    def __init__(self, root: Union[str, Path], *, allow_incomplete: bool = False):
        self.root = Path(root)
        self.manifest = load_manifest(self.root)
        if not self.manifest.get("complete") and not allow_incomplete:
            raise DatasetError(
                f"{self.root}: the collection is incomplete (interrupted?): run collect again to finish it, "
                "or open it with allow_incomplete=True"
            )
        frames = self.manifest.get("frames", {})
        self.rgb = frames.get("color") == "rgb"
        self.frame_shape: tuple[int, ...] = tuple(int(n) for n in frames.get("shape", ()))
        self.action_meanings: list[str] = list(self.manifest.get("action_meanings", []))
        self.tiers: list[str] = [str(t.get("name")) for t in self.manifest.get("tiers", [])]
        self._episodes: list[EpisodeInfo] = []
        for tier in self.manifest.get("tiers", []):
            path = self.root / str(tier.get("actions_file"))
            if not path.is_file():
                raise DatasetError(f"{path}: actions file of {tier.get('name')} missing")
            listing = read_json(path)
            entries = listing.get("episodes", []) if isinstance(listing, dict) else None
            if not isinstance(entries, list):
                raise DatasetError(f"{path}: no list of episodes")
            self._episodes += [_info(entry, path) for entry in entries]
        self._by_id = {info.episode_id: info for info in self._episodes}
        self.shards = shard_table(self.manifest)  # episode id -> its shard's entry (empty: PNGs only)
        self._open_shards: OrderedDict[str, np.ndarray] = OrderedDict()
        self._hashed: set[str] = set()  # shards this process has checked against the manifest

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_open_shards"] = OrderedDict()  # a DataLoader worker maps its own shards
        state["_hashed"] = set()
        return state

    @property
    def game(self) -> str:
        return str(self.manifest.get("game"))

    @property
    def protocol(self) -> str:
        return str(self.manifest.get("protocol"))

    @property
    def frame_skip(self) -> int:
        """Emulator frames per step: each logged action was repeated this many frames (``env.frame_skip``)."""
        return int(self.manifest.get("env", {}).get("frame_skip") or 4)

    @property
    def sticky_probability(self) -> float:
        """Above 0, a logged action is the agent's choice, not always the one executed."""
        return float(self.manifest.get("env", {}).get("sticky_probability") or 0.0)

    @property
    def splits(self) -> tuple[str, ...]:
        return SPLITS

    def __repr__(self) -> str:
        return f"DatasetReader({str(self.root)!r}: {self.game}, {len(self._episodes)} episodes in {self.tiers})"

    def tier_names(self, tiers: TierSelection = None) -> list[str]:
        """Tier names for a selection: None (all), a level (1), a name ('skill_level_1') or a list of them."""
        if tiers is None:
            return list(self.tiers)
        wanted = [tiers] if isinstance(tiers, (int, str)) else list(tiers)
        names = [tier_name(t) if isinstance(t, int) else str(t) for t in wanted]
        unknown = [n for n in names if n not in self.tiers]
        if unknown:
            raise DatasetError(f"{self.root}: no tier {', '.join(unknown)} (tiers: {', '.join(self.tiers)})")
        return names

    def episodes(self, tiers: TierSelection = None, split: Optional[str] = None) -> list[EpisodeInfo]:
        """The episodes of some tiers and one split (None: both), in manifest order: tier, then index."""
        if split is not None and split not in SPLITS:
            raise DatasetError(f"split {split!r} does not exist (splits: {', '.join(SPLITS)})")
        names = self.tier_names(tiers)
        return [e for e in self._episodes if e.tier in names and split in (None, e.split)]

    def episode(self, episode_id: Union[str, EpisodeInfo]) -> EpisodeInfo:
        if isinstance(episode_id, EpisodeInfo):
            return episode_id
        info = self._by_id.get(episode_id)
        if info is None:
            raise DatasetError(f"{self.root}: no episode {episode_id!r} (ids look like skill_level_0/episode_000)")
        return info

    def load_episode(self, episode_id: Union[str, EpisodeInfo]) -> Episode:
        """One whole episode: every frame decoded, every step as an array."""
        info = self.episode(episode_id)
        return Episode(info, self.load_frames(info), **vars(self.load_steps(info)))

    def load_steps(self, episode_id: Union[str, EpisodeInfo]) -> EpisodeSteps:
        """An episode's actions, rewards, lives and flags (from its own ``episode.json``; no frames)."""
        info = self.episode(episode_id)
        path = self.root / RAW_DIR / info.episode_id / EPISODE_RECORD
        record = read_json(path) if path.is_file() else None
        if not isinstance(record, dict):
            raise DatasetError(f"{path}: episode record missing")
        try:
            lives = [int(record["start_lives"])] + [int(n) for n in record["lives"]]
            steps = EpisodeSteps(
                actions=np.asarray(record["actions"], dtype=np.int64),
                rewards=np.asarray(record["rewards"], dtype=np.float32),
                lives=np.asarray(lives, dtype=np.int64),
                terminated=np.asarray(record["terminated"], dtype=bool),
                truncated=np.asarray(record["truncated"], dtype=bool),
                life_lost=np.diff(np.asarray(lives, dtype=np.int64)) < 0,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: unusable ({exc!r})") from None
        lengths = {len(steps.actions), len(steps.rewards), len(steps.terminated), len(steps.truncated)}
        if lengths != {info.length} or len(steps.lives) != info.length + 1:
            raise DatasetError(
                f"{path}: does not match the actions file ({info.length} steps); "
                f"check the dataset: python -m simple_game.collect verify {self.root}"
            )
        return steps

    def load_frames(
        self, episode_id: Union[str, EpisodeInfo], start: int = 0, stop: Optional[int] = None
    ) -> np.ndarray:
        """Frames ``start .. stop - 1`` of an episode (default: all T + 1) as one uint8 array.

        From the episode's shard when the dataset is packed (``collect pack``), else from its PNGs.
        """
        info = self.episode(episode_id)
        stop = info.frames if stop is None else stop
        if not 0 <= start <= stop <= info.frames:
            raise DatasetError(f"{info.episode_id}: frames {start}..{stop - 1} outside 0..{info.length}")
        if info.episode_id in self.shards:
            return np.array(self._shard(info)[start:stop])
        folder = self.root / RAW_DIR / info.episode_id
        out = np.empty((stop - start, *self.frame_shape), dtype=np.uint8)
        for i, t in enumerate(range(start, stop)):
            path = folder / frame_name(t)
            try:
                frame = read_png(path)
            except (OSError, ValueError):
                raise DatasetError(
                    f"{path}: frame missing or unreadable; check the dataset: "
                    f"python -m simple_game.collect verify {self.root}"
                ) from None
            if frame.shape != out.shape[1:]:
                raise DatasetError(f"{path}: frame of shape {frame.shape}, the manifest says {list(out.shape[1:])}")
            out[i] = frame
        return out

    def _shard(self, info: EpisodeInfo) -> np.ndarray:
        """An episode's shard, checked against the manifest's sha256 when this process first opens it."""
        frames = self._open_shards.pop(info.episode_id, None)
        if frames is None:
            check = info.episode_id not in self._hashed
            frames, problems = shard_problems(self.root, self.shards[info.episode_id], check_hash=check)
            if frames is not None and len(frames) != info.frames:
                problems = [f"shard {self.shards[info.episode_id].get('file')} holds {len(frames)} frames"]
                frames = None
            if frames is None:
                raise DatasetError(
                    f"{info.episode_id}: {problems[0]}; check the dataset: python -m simple_game.collect verify "
                    f"{self.root} (or pack it again)"
                )
            self._hashed.add(info.episode_id)
        self._open_shards[info.episode_id] = frames
        while len(self._open_shards) > 4:  # a mapped shard costs nothing; an inflated one an episode
            self._open_shards.popitem(last=False)
        return frames


def open_dataset(root: Union[str, Path], *, allow_incomplete: bool = False) -> DatasetReader:
    """Open a dataset directory (the one holding ``manifest.json``) for reading."""
    return DatasetReader(root, allow_incomplete=allow_incomplete)
