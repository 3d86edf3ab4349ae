"""One preprocessed Atari env (DeepMind preprocessing), its gymnasium id and emulator settings.

The wrapper chain, bottom to top: no-op starts, frame skip with max-pooling, ``Monitor`` (true
whole-game scores), life loss as episode end (training only), FIRE at reset, 84x84 grayscale,
reward clipping (training only). Frame stacking happens on the vector env (:mod:`.vector`).
"""

from __future__ import annotations

import functools
from typing import Any, Optional, cast

import ale_py
import gymnasium as gym
from ale_py.env import AtariEnv
from stable_baselines3.common.atari_wrappers import (
    ClipRewardEnv,
    EpisodicLifeEnv,
    FireResetEnv,
    NoopResetEnv,
    WarpFrame,
)
from stable_baselines3.common.monitor import Monitor

from simple_game.config import EnvConfig
from simple_game.envs.frame_skip import MaxAndSkip
from simple_game.errors import SimpleGameError

__all__ = ["register_ale", "gym_id", "ale_kwargs", "make_atari_env", "action_meanings"]


def register_ale() -> None:
    """Register the ``ALE/...`` ids with gymnasium. Must run in every process that makes an env."""
    gym.register_envs(ale_py)


@functools.cache
def gym_id(game: str) -> str:
    """``breakout`` -> ``ALE/Breakout-v5`` (looked up in the registry, so odd names work)."""
    register_ale()
    for spec in gym.registry.values():
        if (
            spec.id.startswith("ALE/")
            and spec.id.endswith("-v5")
            and spec.kwargs.get("game") == game
            and spec.kwargs.get("obs_type", "rgb") == "rgb"
        ):
            return spec.id
    raise SimpleGameError(f"env.game: no gymnasium id registered for ROM {game!r}")


def ale_kwargs(cfg: EnvConfig) -> dict[str, Any]:
    """Emulator settings: every emulator frame is exposed (we skip frames ourselves, with max-pooling).

    ``full_action_space``: all 18 joystick actions, or the game's minimal set (Breakout: 4).
    """
    return {
        "frameskip": 1,
        "repeat_action_probability": cfg.sticky_probability,
        "full_action_space": cfg.full_action_space,
        "max_num_frames_per_episode": cfg.max_frames_per_episode,
    }


def make_atari_env(
    cfg: EnvConfig, *, training: bool, seed: Optional[int] = None, render_mode: Optional[str] = None
) -> gym.Env:
    """One preprocessed Atari env (no frame stacking; that is done on the vector env).

    ``render_mode='rgb_array'`` lets callers grab full-colour 210x160 frames for videos.
    """
    register_ale()
    env = gym.make(gym_id(cfg.game), render_mode=render_mode, **ale_kwargs(cfg))
    if cfg.noop_max > 0:
        env = NoopResetEnv(env, noop_max=cfg.noop_max)
    if cfg.frame_skip > 1:
        env = MaxAndSkip(env, skip=cfg.frame_skip)  # SB3's MaxAndSkipEnv, unused screens not read
    # Monitor sits above frame skipping (lengths count agent steps, as the C++ backend does)
    # and below life-loss episodes and clipping: it records the true score of whole games.
    env = Monitor(env)
    if training and cfg.terminal_on_life_loss:
        env = EpisodicLifeEnv(env)
    if "FIRE" in _meanings(env):
        env = FireResetEnv(env)
    env = WarpFrame(env, width=cfg.screen_size, height=cfg.screen_size)
    if training and cfg.clip_reward:
        env = ClipRewardEnv(env)
    if seed is not None:
        env.action_space.seed(seed)
    return env


def _meanings(env: gym.Env) -> list[str]:
    return list(cast(AtariEnv, env.unwrapped).get_action_meanings())


def action_meanings(cfg: EnvConfig) -> list[str]:
    """The agent's actions, e.g. ``['NOOP', 'FIRE', 'RIGHT', 'LEFT']`` for Breakout (18 with full_action_space)."""
    register_ale()
    env = gym.make(gym_id(cfg.game), **ale_kwargs(cfg))
    try:
        return _meanings(env)
    finally:
        env.close()
