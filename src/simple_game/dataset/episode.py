"""Playing one recorded episode: the env it is played in and the loop, shared by collection and replay.

Emulation is deterministic given the reset seed (which fixes the random no-op start and the
sticky-action draws) and the actions, so the same loop that records an episode can replay it
from its seed and recorded actions, frame for frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import numpy as np

from simple_game.config import EnvConfig
from simple_game.envs import make_atari_env
from simple_game.stats import whole_number

if TYPE_CHECKING:
    import gymnasium as gym


def make_env(env_cfg: EnvConfig, rgb: bool) -> gym.Env:
    """The evaluation-protocol env episodes are recorded (and replayed) in.

    Whole games (no life-loss ends), raw rewards, random no-op starts, sticky actions as the
    protocol says, and the frame cap; one env, reset with an explicit seed per episode.
    """
    return make_atari_env(env_cfg, training=False, render_mode="rgb_array" if rgb else None)


@dataclass
class EpisodeResult:
    """What one episode's actions led to, one entry per action."""

    actions: list[int] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    lives: list[int] = field(default_factory=list)
    terminated: list[bool] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)
    start_lives: int = 0
    end: str = "game_over"

    @property
    def length(self) -> int:
        return len(self.actions)

    @property
    def score(self) -> float:
        return whole_number(sum(self.rewards))


def play_episode(
    env: gym.Env,
    seed: int,
    choose: Callable[[int, np.ndarray], Optional[int]],
    on_frame: Callable[[int, np.ndarray], None],
    *,
    rgb: bool,
    max_steps: Optional[int] = None,
) -> EpisodeResult:
    """Reset with ``seed`` and play until the game ends, ``max_steps`` or ``choose`` returns None.

    ``choose(t, obs)`` gets the newest 84x84 observation and returns action ``t``;
    ``on_frame(t, frame)`` receives frame ``t`` (grayscale observation, or the RGB screen).
    """
    obs, _ = env.reset(seed=seed)
    ale = env.unwrapped.ale  # type: ignore[attr-defined]
    result = EpisodeResult(start_lives=int(ale.lives()))
    t = 0
    on_frame(0, _frame(env, obs, rgb))
    while True:
        if max_steps is not None and t >= max_steps:
            result.end = "max_steps"
            break
        action = choose(t, obs[:, :, 0])
        if action is None:
            result.end = "stopped"
            break
        obs, reward, terminated, truncated, info = env.step(int(action))
        t += 1
        result.actions.append(int(action))
        result.rewards.append(whole_number(float(reward)))
        result.lives.append(int(info.get("lives", ale.lives())))
        result.terminated.append(bool(terminated))
        result.truncated.append(bool(truncated))
        on_frame(t, _frame(env, obs, rgb))
        if terminated or truncated:
            result.end = "game_over" if terminated else "frame_cap"
            break
    return result


def _frame(env: gym.Env, obs: np.ndarray, rgb: bool) -> np.ndarray:
    if rgb:
        return np.ascontiguousarray(env.render())
    return np.ascontiguousarray(obs[:, :, 0])
