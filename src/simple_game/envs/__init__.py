"""Atari environments for training and evaluation.

An Atari observation here is the standard DeepMind preprocessing (Mnih et al. 2015):

- up to 30 random no-op actions at reset, so episodes do not all start identically;
- FIRE pressed at reset in games that need it to start;
- the agent acts every 4th emulator frame (frame skip), seeing the max of the last two frames
  (Atari sprites flicker between frames);
- frames shrunk to 84x84 grayscale, and the last 4 (or 8) stacked so motion is visible;
- for training only: an episode ends when a life is lost and rewards are clipped to -1/0/+1,
  which makes one set of hyperparameters work across games.

Evaluation plays whole games with raw scores: that is the number people report. Training
statistics (``rollout/ep_rew_mean``) are also whole-game raw scores, because SB3's ``Monitor``
sits *inside* the life-loss and clipping wrappers and sees the unmodified game.

Two protocols: ``classic`` (no sticky actions, the RL Zoo / DQN-paper protocol, equal to
``<Game>NoFrameskip-v4``) and ``modern`` (sticky actions with probability 0.25, the
``ALE/<Game>-v5`` protocol of Machado et al. 2018, which punishes memorised action sequences).

Backends: ``dummy`` (all envs in this process), ``subproc`` (one process per env), and
``ale_vector`` (ale-py's C++ ``AtariVectorEnv``: threads, preprocessing and stacking in C++).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Optional

from simple_game.config import EnvConfig
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    import gymnasium as gym
    from stable_baselines3.common.vec_env import VecEnv

EVAL_SEED_OFFSET = 10_000


def register_ale() -> None:
    """Register the ``ALE/...`` ids with gymnasium. Must run in every process that makes an env."""
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)


@functools.cache
def gym_id(game: str) -> str:
    """``breakout`` -> ``ALE/Breakout-v5`` (looked up in the registry, so odd names work)."""
    import gymnasium as gym

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
    """Emulator settings: every emulator frame is exposed (we skip frames ourselves, with max-pooling)."""
    return {
        "frameskip": 1,
        "repeat_action_probability": cfg.sticky_probability,
        "full_action_space": False,
        "max_num_frames_per_episode": cfg.max_frames_per_episode,
    }


def make_atari_env(
    cfg: EnvConfig, *, training: bool, seed: Optional[int] = None, render_mode: Optional[str] = None
) -> gym.Env:
    """One preprocessed Atari env (no frame stacking; that is done on the vector env).

    ``render_mode='rgb_array'`` lets callers grab full-colour 210x160 frames for videos.
    """
    import gymnasium as gym
    from stable_baselines3.common.atari_wrappers import (
        ClipRewardEnv,
        EpisodicLifeEnv,
        FireResetEnv,
        MaxAndSkipEnv,
        NoopResetEnv,
        WarpFrame,
    )
    from stable_baselines3.common.monitor import Monitor

    register_ale()
    env = gym.make(gym_id(cfg.game), render_mode=render_mode, **ale_kwargs(cfg))
    if cfg.noop_max > 0:
        env = NoopResetEnv(env, noop_max=cfg.noop_max)
    if cfg.frame_skip > 1:
        env = MaxAndSkipEnv(env, skip=cfg.frame_skip)
    # Monitor sits above frame skipping (lengths count agent steps, as the C++ backend does)
    # and below life-loss episodes and clipping: it records the true score of whole games.
    env = Monitor(env)
    if training and cfg.terminal_on_life_loss:
        env = EpisodicLifeEnv(env)
    if "FIRE" in env.unwrapped.get_action_meanings():
        env = FireResetEnv(env)
    env = WarpFrame(env, width=cfg.screen_size, height=cfg.screen_size)
    if training and cfg.clip_reward:
        env = ClipRewardEnv(env)
    if seed is not None:
        env.action_space.seed(seed)
    return env


def _env_factory(cfg_data: dict[str, Any], training: bool, seed: int, render_mode: Optional[str] = None) -> gym.Env:
    # Module-level and built from plain data so SubprocVecEnv can pickle it; the worker
    # re-registers ALE ids because registrations do not cross process boundaries.
    return make_atari_env(EnvConfig.model_validate(cfg_data), training=training, seed=seed, render_mode=render_mode)


def resolve_backend(cfg: EnvConfig) -> str:
    """``auto`` picks the C++ vector env when the installed ale-py has it, else ``dummy``."""
    if cfg.backend != "auto":
        return cfg.backend
    return "ale_vector" if ale_vector_available() else "dummy"


@functools.lru_cache(maxsize=1)
def ale_vector_available() -> bool:
    try:
        from ale_py.vector_env import AtariVectorEnv  # noqa: F401

        import simple_game.envs.ale_vector  # noqa: F401
    except ImportError:
        return False
    return True


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
        if not ale_vector_available():
            raise SimpleGameError(
                "env.backend: 'ale_vector' needs ale-py >= 0.10 with ale_py.vector_env (use backend: dummy)"
            )
        from simple_game.envs.ale_vector import AleVectorEnv

        return AleVectorEnv(
            cfg.game,
            n_envs,
            seed=seed,
            frame_stack=cfg.frame_stack,
            repeat_action_probability=cfg.sticky_probability,
            training=training,
            noop_max=cfg.noop_max,
            frame_skip=cfg.frame_skip,
            screen_size=cfg.screen_size,
            max_frames_per_episode=cfg.max_frames_per_episode,
        )

    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecFrameStack, VecTransposeImage

    data = cfg.model_dump()
    fns = [functools.partial(_env_factory, data, training, seed + i, render_mode) for i in range(n_envs)]
    vec: VecEnv = SubprocVecEnv(fns) if backend == "subproc" else DummyVecEnv(fns)
    vec.seed(seed)  # env i is reset with seed + i
    vec = VecFrameStack(vec, n_stack=cfg.frame_stack)
    return VecTransposeImage(vec)


def make_train_env(cfg: EnvConfig, seed: int) -> VecEnv:
    """Training envs: life loss ends an episode, rewards clipped (statistics stay raw)."""
    return make_vec_env(cfg, training=True, seed=seed)


def make_eval_env(cfg: EnvConfig, seed: int, n_envs: int = 1) -> VecEnv:
    """Evaluation envs: whole games, raw rewards, a seed stream separate from training."""
    return make_vec_env(cfg, training=False, seed=seed + EVAL_SEED_OFFSET, n_envs=n_envs)


def action_meanings(cfg: EnvConfig) -> list[str]:
    """The game's minimal action set, e.g. ``['NOOP', 'FIRE', 'RIGHT', 'LEFT']`` for Breakout."""
    import gymnasium as gym

    register_ale()
    env = gym.make(gym_id(cfg.game), **ale_kwargs(cfg))
    try:
        return list(env.unwrapped.get_action_meanings())
    finally:
        env.close()
