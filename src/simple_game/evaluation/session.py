"""An agent ready to play: its evaluation env, its loaded policy and the epsilon-greedy actor.

``evaluate`` and ``record`` (and anything else that plays a :class:`Target`) open one with
:func:`open_session`; the env is closed when the ``with`` block ends, whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, cast

from simple_game.envs import make_vec_env
from simple_game.evaluation.acting import EpsilonGreedy, make_policy, setup_inference
from simple_game.evaluation.batched import seeded_games
from simple_game.evaluation.target import Target

if TYPE_CHECKING:
    from gymnasium.spaces import Discrete
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


@dataclass
class Session:
    """A target's agent in its evaluation env; ``model`` is ``None`` for the random policy."""

    target: Target
    env: VecEnv
    model: Optional[BaseAlgorithm]
    act: EpsilonGreedy


@contextmanager
def open_session(
    target: Target,
    *,
    n_envs: int,
    epsilon: float,
    deterministic: bool,
    seed: int,
    device: str = "cpu",
    render_mode: Optional[str] = None,
) -> Iterator[Session]:
    """Seed, make the evaluation env (whole games, raw scores), load the checkpoint and wrap it.

    The games and the random actions both start from ``seed``, so the same ``seed`` plays the
    same games. Without ``render_mode`` the env is :func:`seeded_games`: ``n_envs`` emulators,
    game ``j`` reset with ``seed + j``, so the scores do not depend on ``n_envs``.
    ``render_mode="rgb_array"`` gives one plain vector env with full-colour screens, for videos.
    """
    setup_inference(seed, device)
    env_cfg = target.cfg.env
    env: VecEnv
    if render_mode is None:
        env = seeded_games(env_cfg, seed, n_envs)
    else:
        env = make_vec_env(env_cfg, training=False, seed=seed, n_envs=n_envs, render_mode=render_mode)
    try:
        model = make_policy(target, env, device=device)
        n_actions = int(cast("Discrete", env.action_space).n)  # Atari action sets are discrete
        act = EpsilonGreedy(model, n_actions, epsilon=epsilon, deterministic=deterministic, seed=seed)
        yield Session(target, env, model, act)
    finally:
        env.close()
