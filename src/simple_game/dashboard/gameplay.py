"""Datasets for the dashboard: the tiers of each, their episodes, and one step of one episode.

Read through :func:`simple_game.dataset.open_dataset` (the one reader). A step ``t`` pairs
frame ``t`` (what the agent saw) with ``actions[t]`` (what it chose) and what that action led
to: ``rewards[t]`` and the lives after it (``lives[t + 1]``). The last frame ``T`` is the
screen after the last action; no action goes with it (docs/dataset.md, "Pairing").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from simple_game.dataset.format import MANIFEST
from simple_game.dataset.reader import DatasetReader, EpisodeSteps


def find_datasets(data_dir: Path) -> list[Path]:
    """``data_dir`` itself when it holds a manifest, else its sub-folders (two levels) that do."""
    data_dir = Path(data_dir)
    if (data_dir / MANIFEST).is_file():
        return [data_dir]
    if not data_dir.is_dir():
        return []
    found = []
    for child in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        if (child / MANIFEST).is_file():
            found.append(child)
        else:
            found += sorted(g for g in child.iterdir() if g.is_dir() and (g / MANIFEST).is_file())
    return found


def tier_rows(reader: DatasetReader) -> list[dict[str, Any]]:
    """One row per tier from the manifest: who played, episodes, frames, scores and the split."""
    rows = []
    for tier in reader.manifest.get("tiers", []):
        score = tier.get("score") or {}
        rows.append(
            {
                "tier": tier.get("name"),
                "played by": tier.get("checkpoint") or tier.get("source"),
                "episodes": tier.get("episodes"),
                "frames": tier.get("frames"),
                "steps": tier.get("steps"),
                "score mean": score.get("mean"),
                "score std": score.get("std"),
                "score min": score.get("min"),
                "score max": score.get("max"),
                "train": tier.get("train_episodes"),
                "validation": tier.get("validation_episodes"),
            }
        )
    return rows


def episode_rows(reader: DatasetReader, tier: str) -> list[dict[str, Any]]:
    """One row per episode of ``tier``: its id, split, length, score and how it ended."""
    return [
        {
            "episode": e.episode_id,
            "split": e.split,
            "actions": e.length,
            "frames": e.frames,
            "score": e.score,
            "end": e.end,
        }
        for e in reader.episodes(tiers=[tier])
    ]


@dataclass(frozen=True)
class StepView:
    """What goes beside frame ``t``: the action chosen on it and what that action led to."""

    t: int
    last: int  # T: the index of the last frame
    action: Optional[int]  # None on the last frame
    action_name: Optional[str]
    reward: Optional[float]
    lives: int  # lives at frame t
    lives_after: Optional[int]
    terminated: bool
    truncated: bool
    life_lost: bool
    return_so_far: float  # sum of rewards of actions 0..t-1: the score shown on frame t

    def rows(self) -> list[tuple[str, str]]:
        """``(name, value)`` pairs for a small table beside the frame."""
        if self.action is None:
            return [
                ("frame", f"{self.t} of {self.last} (after the last action)"),
                ("lives", str(self.lives)),
                ("score", _num(self.return_so_far)),
            ]
        ends = "terminated" if self.terminated else "truncated" if self.truncated else ""
        return [
            ("frame", f"{self.t} of {self.last}"),
            ("action", f"{self.action} {self.action_name or ''}".strip()),
            ("reward", _num(self.reward or 0.0)),
            ("lives", f"{self.lives} -> {self.lives_after}" + (" (life lost)" if self.life_lost else "")),
            ("score so far", _num(self.return_so_far)),
            ("episode ends here", ends or "no"),
        ]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def step_view(steps: EpisodeSteps, t: int, action_meanings: list[str]) -> StepView:
    """The action, reward and lives that go with frame ``t`` (0 ≤ t ≤ T)."""
    last = len(steps.actions)
    t = max(0, min(int(t), last))
    so_far = float(np.sum(steps.rewards[:t]))
    if t == last:
        return StepView(t, last, None, None, None, int(steps.lives[t]), None, False, False, False, so_far)
    action = int(steps.actions[t])
    name = action_meanings[action] if 0 <= action < len(action_meanings) else None
    return StepView(
        t,
        last,
        action,
        name,
        float(steps.rewards[t]),
        int(steps.lives[t]),
        int(steps.lives[t + 1]),
        bool(steps.terminated[t]),
        bool(steps.truncated[t]),
        bool(steps.life_lost[t]),
        so_far,
    )


def enlarge(frame: np.ndarray, scale: int = 4) -> np.ndarray:
    """A frame scaled up by whole pixels (nearest neighbour: Atari pixels stay sharp, no blur)."""
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)
