"""A fresh model of the configured algorithm, with the config's hyperparameters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simple_game.config import ExperimentConfig, algorithm_class, model_kwargs
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def build_model(cfg: ExperimentConfig, env: VecEnv, device: str) -> BaseAlgorithm:
    """A fresh model of ``cfg.algo`` with the config's hyperparameters, seeded."""
    cls = algorithm_class(cfg.algo)
    kwargs = model_kwargs(cfg)
    try:
        return cls(cfg.policy, env, seed=cfg.seed, device=device, verbose=0, **kwargs)
    except (ValueError, TypeError, AssertionError) as exc:
        # SB3 validates some combinations itself (e.g. batch_size vs n_steps * n_envs).
        where = cfg.source or "<config>"
        raise SimpleGameError(
            f"{where}: hyperparams: {cfg.algo} rejected the configuration: {str(exc).splitlines()[0]}"
        ) from None
