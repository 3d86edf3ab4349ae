"""Vector envs: ``n_envs`` games stepped together, frame-stacked and channel-first.

Backends: ``dummy`` (all envs in this process, SB3's ``DummyVecEnv``), ``subproc`` (one
process per env, ``SubprocVecEnv``) and ``ale_vector`` (ale-py's C++ ``AtariVectorEnv``:
threads, preprocessing and stacking in C++; see :mod:`.ale_vector`). Training and evaluation
envs differ in the preprocessing (life loss, clipping, reward shaping) and in their seed streams.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Optional

import gymnasium as gym
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecFrameStack, VecTransposeImage

from simple_game.config import EnvConfig
from simple_game.envs.atari import make_atari_env
from simple_game.envs.shaping import RewardShaping
from simple_game.errors import SimpleGameError

try:  # ale-py >= 0.10 has the C++ vector env; without it the SB3 backends still work
    from simple_game.envs.ale_vector import AleVectorEnv
except ImportError:
    _HAS_ALE_VECTOR = False
else:
    _HAS_ALE_VECTOR = True

__all__ = [
    "EVAL_SEED_OFFSET",
    "resolve_backend",
    "ale_vector_available",
    "make_vec_env",
    "make_train_env",
    "make_eval_env",
]

EVAL_SEED_OFFSET = 10_000


def _env_factory(cfg_data: dict[str, Any], training: bool, seed: int, render_mode: Optional[str] = None) -> gym.Env:
    # Module-level and built from plain data so SubprocVecEnv can pickle it; the worker
    # re-registers ALE ids because registrations do not cross process boundaries.
    return make_atari_env(EnvConfig.model_validate(cfg_data), training=training, seed=seed, render_mode=render_mode)


def ale_vector_available() -> bool:
    """True when the installed ale-py has the C++ ``AtariVectorEnv``."""
    return _HAS_ALE_VECTOR


def resolve_backend(cfg: EnvConfig) -> str:
    """``auto`` picks the C++ vector env when the installed ale-py has it, else ``dummy``."""
    if cfg.backend != "auto":
        return cfg.backend
    return "ale_vector" if ale_vector_available() else "dummy"


def _ale_vector_env(cfg: EnvConfig, n_envs: int, *, training: bool, seed: int) -> VecEnv:
    if not ale_vector_available():
        raise SimpleGameError(
            "env.backend: 'ale_vector' needs ale-py >= 0.10 with ale_py.vector_env (use backend: dummy)"
        )
    return AleVectorEnv(
        cfg.game,
        n_envs,
        seed=seed,
        frame_stack=cfg.frame_stack,
        repeat_action_probability=cfg.sticky_probability,
        # Evaluation envs play whole games with raw rewards, whatever the config says for training.
        clip_reward=training and cfg.clip_reward,
        terminal_on_life_loss=training and cfg.terminal_on_life_loss,
        full_action_space=cfg.full_action_space,
        noop_max=cfg.noop_max,
        frame_skip=cfg.frame_skip,
        screen_size=cfg.screen_size,
        max_frames_per_episode=cfg.max_frames_per_episode,
    )


def _sb3_vec_env(
    cfg: EnvConfig, n_envs: int, *, training: bool, seed: int, subproc: bool, render_mode: Optional[str]
) -> VecEnv:
    data = cfg.model_dump()
    fns: list[Callable[[], gym.Env]] = [
        functools.partial(_env_factory, data, training, seed + i, render_mode) for i in range(n_envs)
    ]
    vec: VecEnv = SubprocVecEnv(fns) if subproc else DummyVecEnv(fns)
    vec.seed(seed)  # env i is reset with seed + i
    vec = VecFrameStack(vec, n_stack=cfg.frame_stack)
    return VecTransposeImage(vec)


def make_vec_env(
    cfg: EnvConfig,
    *,
    training: bool,
    seed: int,
    n_envs: Optional[int] = None,
    backend: Optional[str] = None,
    render_mode: Optional[str] = None,
) -> VecEnv:
    """A vector env of ``n_envs`` (default ``cfg.n_envs``) channel-first, frame-stacked envs.

    Observations are ``uint8`` arrays of shape ``(n_envs, frame_stack, 84, 84)``.
    ``render_mode='rgb_array'`` (SB3 backends only) makes ``get_images()`` return full-colour frames.
    """
    n_envs = n_envs or cfg.n_envs
    backend = backend or resolve_backend(cfg)
    if render_mode is not None and backend == "ale_vector":
        backend = "dummy"
    if backend == "ale_vector":
        return _ale_vector_env(cfg, n_envs, training=training, seed=seed)
    return _sb3_vec_env(
        cfg, n_envs, training=training, seed=seed, subproc=backend == "subproc", render_mode=render_mode
    )


def make_train_env(cfg: EnvConfig, seed: int) -> VecEnv:
    """Training envs: life loss ends an episode, rewards clipped, shaped if asked (statistics stay raw).

    ``env.reward_shaping`` wraps whichever backend made the env, so the penalties act on all of them.
    """
    env = make_vec_env(cfg, training=True, seed=seed)
    shaping = cfg.reward_shaping
    if shaping.active:
        env = RewardShaping(env, living_penalty=shaping.living_penalty, life_loss_penalty=shaping.life_loss_penalty)
    return env


def make_eval_env(cfg: EnvConfig, seed: int, n_envs: int = 1) -> VecEnv:
    """Evaluation envs: whole games, raw rewards, a seed stream separate from training."""
    return make_vec_env(cfg, training=False, seed=seed + EVAL_SEED_OFFSET, n_envs=n_envs)
