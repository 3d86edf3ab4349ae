"""Skill milestones: the checkpoints a gameplay dataset is recorded from."""

from __future__ import annotations

from collections import deque

from stable_baselines3.common.callbacks import BaseCallback

from simple_game.callbacks.failure_gate import save_if_finite
from simple_game.callbacks.periodic import MetadataFn
from simple_game.runs import RunDirectory
from simple_game.stats import summarize


class MilestoneCallback(BaseCallback):
    """Save ``checkpoints/skill_level_<k>.zip`` the first time the agent reaches skill tier k.

    Tier k (1-based) is reached when the mean true game score over the last ``window`` whole
    games first reaches ``thresholds[k-1]``. Tier 0 is the random policy and has no checkpoint.
    These checkpoints are the agents a gameplay dataset is recorded from (``simple_game.collect``).
    """

    def __init__(self, run: RunDirectory, thresholds: list[float], window: int, metadata: MetadataFn):
        super().__init__()
        self.run = run
        self.thresholds = list(thresholds)
        self.window = window
        self.metadata = metadata
        self.scores: deque[float] = deque(maxlen=window)
        self.reached: list[int] = []

    def _on_training_start(self) -> None:
        # On resume, tiers already saved stay reached (never overwritten by a later, weaker agent).
        self.reached = [k for k in range(1, len(self.thresholds) + 1) if self.run.skill_path(k).is_file()]

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            episode = info.get("episode")
            if episode is not None:
                self.scores.append(float(episode["r"]))
                self._check()
        return True

    def _check(self) -> None:
        recent = summarize(self.scores) if len(self.scores) >= self.window else None
        if recent is None:
            return
        mean = recent.mean
        for level, threshold in enumerate(self.thresholds, start=1):
            if level not in self.reached and mean >= threshold:
                meta = self.metadata(self.num_timesteps) | {
                    "skill_level": level,
                    "threshold": threshold,
                    "rolling_mean_score": mean,
                    "window": self.window,
                }
                save_if_finite(self.model, self.run.skill_path(level), meta)
                self.reached.append(level)
                self.logger.record("milestones/skill_level", level)
                if self.verbose:
                    print(
                        f"skill level {level} reached at {self.num_timesteps} steps (mean {mean:.1f} >= {threshold:g})"
                    )
