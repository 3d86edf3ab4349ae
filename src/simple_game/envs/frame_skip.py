"""Frame skipping with max-pooling (DQN, Mnih et al. 2015), without reading screens nobody uses.

The agent sees one step in ``skip`` emulator frames: the action is repeated, the rewards summed,
and the observation is the pixel-wise max of the last two frames (Atari sprites flicker: some
are drawn only on every other frame). SB3's :class:`MaxAndSkipEnv` steps the gymnasium env once
per frame, so the ALE copies out the 210x160 RGB screen on all ``skip`` frames, and two of
every four copies are thrown away. :class:`MaxAndSkip` plays the frames whose screen is not
pooled on the emulator directly (``ale.act``, the call ``AtariEnv.step`` makes) and the last two
through the env as before: the same actions, rewards, ends, info and pixels, frame for frame
(``tests/test_frame_skip.py`` plays both side by side).
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from ale_py.env import AtariEnv
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker
from stable_baselines3.common.atari_wrappers import MaxAndSkipEnv, NoopResetEnv

# Wrappers between this one and the ALE whose ``step`` only passes the call on once the env
# has been reset (OrderEnforcing checks that; PassiveEnvChecker checks the first step only).
_PASS_THROUGH = (NoopResetEnv, OrderEnforcing, PassiveEnvChecker)


def _direct_ale(env: gym.Env) -> bool:
    """Whether frames may be played on ``env``'s emulator directly, skipping the wrappers above it."""
    while isinstance(env, gym.Wrapper):
        if type(env) not in _PASS_THROUGH:
            return False
        env = env.env
    return (
        isinstance(env, AtariEnv)
        and env._frameskip == 1
        and not env.continuous
        and not env.sound_obs
        and type(env).step is AtariEnv.step
    )


class MaxAndSkip(MaxAndSkipEnv):
    """SB3's :class:`MaxAndSkipEnv`, with the frames before the pooled two played on the ALE alone."""

    def __init__(self, env: gym.Env, skip: int = 4) -> None:
        super().__init__(env, skip=skip)
        direct = skip > 2 and _direct_ale(env)  # with skip 2 every frame is pooled
        self._ale_env: AtariEnv | None = env.unwrapped if direct else None  # type: ignore[assignment]
        self._stepped = False  # the first step goes through the wrappers (PassiveEnvChecker's check)

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        self._stepped = False
        return self.env.reset(**kwargs)

    def step(self, action: int) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        atari = self._ale_env
        if atari is None or not self._stepped:
            self._stepped = True
            return super().step(action)
        ale, ale_action = atari.ale, atari._action_set[action]
        total_reward = 0.0
        for _ in range(self._skip - 2):
            total_reward += float(ale.act(ale_action, 1.0))
            terminated, truncated = ale.game_over(with_truncation=False), ale.game_truncated()
            if terminated or truncated:  # as MaxAndSkipEnv: the pooled frames are the last step's
                return self._obs_buffer.max(axis=0), total_reward, terminated, truncated, dict(atari._get_info())
        for i in range(2):
            obs, reward, terminated, truncated, info = self.env.step(action)
            self._obs_buffer[i] = obs
            total_reward += float(reward)
            if terminated or truncated:
                break
        return self._obs_buffer.max(axis=0), total_reward, terminated, truncated, info
