"""Algorithms: building an SB3 model from a config, and loading one from a checkpoint.

The registry itself (``ALGORITHMS`` in :mod:`simple_game.config`) maps a name to an import
path, so adding an algorithm is one line. PPO and A2C are on-policy actor-critics (learn from
the rollout just collected, then throw it away); DQN and QR-DQN are off-policy value methods
(learn from a replay buffer of past transitions).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from simple_game.config import ALGORITHMS, ExperimentConfig, algorithm_class, model_kwargs
from simple_game.errors import SimpleGameError
from simple_game.runs import read_checkpoint_metadata

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

__all__ = ["ALGORITHMS", "build_model", "load_model", "checkpoint_metadata"]


def build_model(cfg: ExperimentConfig, env: "VecEnv", device: str) -> "BaseAlgorithm":
    """A fresh model of ``cfg.algo`` with the config's hyperparameters, seeded."""
    cls = algorithm_class(cfg.algo)
    kwargs = model_kwargs(cfg)
    try:
        return cls(cfg.policy, env, seed=cfg.seed, device=device, verbose=0, **kwargs)
    except (ValueError, TypeError, AssertionError) as exc:
        # SB3 validates some combinations itself (e.g. batch_size vs n_steps * n_envs).
        where = cfg.source or "<config>"
        raise SimpleGameError(f"{where}: hyperparams: {cfg.algo} rejected the configuration: {str(exc).splitlines()[0]}") from None


def checkpoint_metadata(cfg: ExperimentConfig, step: int, **extra: Any) -> dict[str, Any]:
    """What we store inside each checkpoint so it can be checked before loading."""
    from simple_game import __version__

    return {
        "simple_game_version": __version__,
        "algo": cfg.algo,
        "game": cfg.env.game,
        "protocol": cfg.env.protocol,
        "frame_stack": cfg.env.frame_stack,
        "screen_size": cfg.env.screen_size,
        "experiment": cfg.name,
        "step": int(step),
        **extra,
    }


def load_model(path: Path, algo: str, env: Optional["VecEnv"] = None, device: str = "cpu", **kwargs: Any) -> "BaseAlgorithm":
    """Load a checkpoint of ``algo``, with a clear error for missing or foreign files."""
    path = Path(path)
    if not path.is_file():
        raise SimpleGameError(f"{path}: checkpoint not found")
    meta = read_checkpoint_metadata(path)
    if meta.get("algo") and meta["algo"] != algo:
        raise SimpleGameError(f"{path}: checkpoint is a {meta['algo']} model, but the config says algo: {algo}")
    cls = algorithm_class(algo)
    try:
        return cls.load(path, env=env, device=device, **kwargs)
    except (ValueError, KeyError, RuntimeError, AssertionError) as exc:
        raise SimpleGameError(f"{path}: cannot load as {algo}: {str(exc).splitlines()[0]}") from None
