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


class EpisodeRun:
    """One episode played step by step: reset with ``seed``, then one :meth:`step` per action.

    The loop of :func:`play_episode`, cut at the point where an action is needed, so the choice
    can be made elsewhere (in a batch with other games, in another process) without changing a
    single frame: :attr:`wants_action` says whether the episode goes on, :attr:`obs` is the newest
    84x84 observation, and ``on_frame(t, frame)`` receives frame ``t`` as it is made.
    """

    def __init__(
        self,
        env: gym.Env,
        seed: int,
        on_frame: Callable[[int, np.ndarray], None],
        *,
        rgb: bool,
        max_steps: Optional[int] = None,
    ):
        self.env, self.on_frame, self.rgb, self.max_steps = env, on_frame, rgb, max_steps
        obs, _ = env.reset(seed=seed)
        self.ale = env.unwrapped.ale  # type: ignore[attr-defined]
        self.result = EpisodeResult(start_lives=int(self.ale.lives()))
        self.t = 0
        self.over = False
        self._set_obs(obs)
        on_frame(0, _frame(env, obs, rgb))

    def _set_obs(self, obs: np.ndarray) -> None:
        self.obs = obs[:, :, 0]

    @property
    def wants_action(self) -> bool:
        """True while the game goes on and ``max_steps`` is not reached (sets ``result.end`` when not)."""
        if not self.over and self.max_steps is not None and self.t >= self.max_steps:
            self.result.end, self.over = "max_steps", True
        return not self.over

    def stop(self) -> None:
        """The chooser gave no action: the episode ends here."""
        self.result.end, self.over = "stopped", True

    def step(self, action: int) -> None:
        """Play action ``t``, record what it led to, and hand frame ``t + 1`` to ``on_frame``."""
        obs, reward, terminated, truncated, info = self.env.step(int(action))
        self.t += 1
        result = self.result
        result.actions.append(int(action))
        result.rewards.append(whole_number(float(reward)))
        result.lives.append(int(info.get("lives", self.ale.lives())))
        result.terminated.append(bool(terminated))
        result.truncated.append(bool(truncated))
        self._set_obs(obs)
        self.on_frame(self.t, _frame(self.env, obs, self.rgb))
        if terminated or truncated:
            result.end, self.over = ("game_over" if terminated else "frame_cap"), True


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
    run = EpisodeRun(env, seed, on_frame, rgb=rgb, max_steps=max_steps)
    while run.wants_action:
        action = choose(run.t, run.obs)
        if action is None:
            run.stop()
        else:
            run.step(action)
    return run.result


def _frame(env: gym.Env, obs: np.ndarray, rgb: bool) -> np.ndarray:
    if rgb:
        return np.ascontiguousarray(env.render())
    return np.ascontiguousarray(obs[:, :, 0])
