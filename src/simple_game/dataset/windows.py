"""A PyTorch ``Dataset`` of frame windows: what a world model or a latent-action model learns from.

Window ``i`` is ``k + 1`` consecutive frames ``t .. t+k`` of one episode and the ``k`` steps
between them: ``actions[j]`` was chosen on ``frames[j]`` and led to ``frames[j + 1]`` (with
``rewards[j]`` and the flags). Windows start at ``t = 0, stride, 2 * stride, ...`` while
``t + k <= T``, so none crosses an episode end, and they are numbered tier by tier, episode by
episode, start by start: the same numbers in every process.

Nothing but the manifest and the episode listings is read when the dataset is made; an item
decodes only its own ``k + 1`` PNGs (or slices them from the episode's packed shard), and
each process keeps the steps of a few recent episodes.
With ``DataLoader(num_workers=N)`` every worker has its own copy and its own small cache.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from simple_game.dataset.format import DatasetError
from simple_game.dataset.reader import EpisodeInfo, EpisodeSteps, TierSelection, open_dataset


class FrameWindows(Dataset[dict[str, Any]]):
    """Windows of ``k + 1`` frames and the ``k`` actions between them, from some tiers and one split.

    An item is a dict: ``frames`` uint8 ``[k+1, H, W]`` (``[k+1, H, W, 3]`` for RGB), or float32
    in [0, 1] with ``as_float=True``; ``actions`` int64 ``[k]``; ``rewards`` float32 ``[k]``;
    ``lives`` int64 ``[k+1]`` (at each frame); ``terminated``, ``truncated``, ``life_lost`` bool
    ``[k]``; ``episode_id`` and ``start`` (t) say where the window came from.
    """

    def __init__(
        self,
        root: Union[str, Path],
        k: int,
        *,
        tiers: TierSelection = None,
        split: Optional[str] = "train",
        stride: int = 1,
        as_float: bool = False,
        allow_incomplete: bool = False,
        cache_episodes: int = 8,
    ):
        if not isinstance(k, int) or k < 1:
            raise DatasetError(f"k={k!r}: a window needs k >= 1 actions (k + 1 frames)")
        if not isinstance(stride, int) or stride < 1:
            raise DatasetError(f"stride={stride!r}: must be a whole number >= 1")
        self.reader = open_dataset(root, allow_incomplete=allow_incomplete)
        self.k, self.stride, self.as_float, self.split = k, stride, as_float, split
        selected = self.reader.episodes(tiers, split)
        what = f"{', '.join(self.reader.tier_names(tiers))} ({split or 'train and validation'})"
        if not selected:
            raise DatasetError(f"{self.reader.root}: no episodes in {what}")
        longest = max(e.length for e in selected)
        if longest < k:
            raise DatasetError(
                f"k={k}: a window of {k} actions ({k + 1} frames) is longer than every episode of {what} "
                f"(the longest has {longest} actions)"
            )
        self.episodes: list[EpisodeInfo] = [e for e in selected if e.length >= k]
        self.skipped_episodes = len(selected) - len(self.episodes)  # shorter than one window
        self._ends = np.cumsum([(e.length - k) // stride + 1 for e in self.episodes])
        self._cache_size = max(1, cache_episodes)
        self._cache: OrderedDict[str, EpisodeSteps] = OrderedDict()

    @property
    def action_meanings(self) -> list[str]:
        return self.reader.action_meanings

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self.reader.frame_shape

    @property
    def frame_skip(self) -> int:
        """Emulator frames between two frames of a window: each action was repeated this many frames."""
        return self.reader.frame_skip

    def __len__(self) -> int:
        return int(self._ends[-1])

    def __repr__(self) -> str:
        return (
            f"FrameWindows({str(self.reader.root)!r}, k={self.k}, stride={self.stride}, split={self.split!r}: "
            f"{len(self)} windows from {len(self.episodes)} episodes)"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"] = OrderedDict()  # a worker starts with nothing loaded
        return state

    def locate(self, index: int) -> tuple[EpisodeInfo, int]:
        """The episode and the first frame ``t`` of window ``index``."""
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"window {index} out of range (this selection has {n})")
        e = int(np.searchsorted(self._ends, index, side="right"))
        begin = int(self._ends[e - 1]) if e else 0
        return self.episodes[e], (index - begin) * self.stride

    def _steps(self, info: EpisodeInfo) -> EpisodeSteps:
        """An episode's steps from this process's small cache (least recently used goes first)."""
        steps = self._cache.pop(info.episode_id, None)
        if steps is None:
            steps = self.reader.load_steps(info)
        self._cache[info.episode_id] = steps
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return steps

    def __getitem__(self, index: int) -> dict[str, Any]:
        info, t = self.locate(int(index))
        steps = self._steps(info)
        frames = torch.from_numpy(self.reader.load_frames(info, t, t + self.k + 1))
        between = slice(t, t + self.k)
        return {
            "frames": frames.float().div_(255) if self.as_float else frames,
            "actions": torch.tensor(steps.actions[between]),
            "rewards": torch.tensor(steps.rewards[between]),
            "lives": torch.tensor(steps.lives[t : t + self.k + 1]),
            "terminated": torch.tensor(steps.terminated[between]),
            "truncated": torch.tensor(steps.truncated[between]),
            "life_lost": torch.tensor(steps.life_lost[between]),
            "episode_id": info.episode_id,
            "start": t,
        }
