"""Algorithms: building an SB3 model from a config, and loading one from a checkpoint.

The registry itself (``ALGORITHMS`` in :mod:`simple_game.config`) maps a name to an import
path, so adding an algorithm is one line. PPO and A2C are on-policy actor-critics (learn from
the rollout just collected, then throw it away); DQN and QR-DQN are off-policy value methods
(learn from a replay buffer of past transitions).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import ALGORITHMS, ExperimentConfig, algorithm_class, model_kwargs
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

__all__ = [
    "ALGORITHMS",
    "build_model",
    "load_model",
    "load_checked_model",
    "checkpoint_metadata",
    "parameters_finite",
    "rng_state",
    "restore_rng_state",
]


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


def load_model(
    path: Path, algo: str, env: Optional[VecEnv] = None, device: str = "cpu", **kwargs: Any
) -> BaseAlgorithm:
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
    except (
        ValueError,
        KeyError,
        RuntimeError,
        AssertionError,
        TypeError,
        AttributeError,
        EOFError,
        zipfile.BadZipFile,
    ) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SimpleGameError(f"{path}: cannot load as {algo}: {first}") from None


def load_checked_model(
    path: Path, cfg: ExperimentConfig, env: Optional[VecEnv] = None, device: str = "cpu", *, train: bool = False
) -> BaseAlgorithm:
    """Load a checkpoint that will act in ``cfg``'s game, checking first that it fits.

    Our checkpoints carry metadata (algorithm, game, frame stack, screen size); a plain SB3 zip
    is checked by its network class and its observation and action spaces. A mismatch is one
    clear :class:`SimpleGameError` instead of a shape error deep inside PyTorch.
    With ``train=True`` the model is attached to ``env`` (resuming training).
    """
    path = Path(path)
    if not path.is_file():
        raise SimpleGameError(f"{path}: checkpoint not found")
    meta = read_checkpoint_metadata(path)
    env_cfg = cfg.env
    if meta.get("algo") and meta["algo"] != cfg.algo:
        raise SimpleGameError(f"{path}: checkpoint is a {meta['algo']} model, but the config says algo: {cfg.algo}")
    if meta.get("game") and meta["game"] != env_cfg.game:
        raise SimpleGameError(f"{path}: checkpoint was trained on {meta['game']}, but the config plays {env_cfg.game}")
    for key in ("frame_stack", "screen_size"):
        if meta.get(key) is not None and int(meta[key]) != int(getattr(env_cfg, key)):
            raise SimpleGameError(
                f"{path}: checkpoint was trained with env.{key}: {meta[key]}, but the config has {getattr(env_cfg, key)}"
            )
    obs_space, action_space, policy_class = _saved_spaces(path)
    expected_policy = getattr(algorithm_class(cfg.algo), "policy_aliases", {}).get(cfg.policy)
    if (
        isinstance(policy_class, type)
        and isinstance(expected_policy, type)
        and not issubclass(policy_class, expected_policy)
    ):
        raise SimpleGameError(
            f"{path}: checkpoint holds a {policy_class.__name__} network ({policy_class.__module__}), "
            f"which {cfg.algo} cannot load: it was trained with another algorithm"
        )
    if env is not None:
        want_obs, want_act = env.observation_space, env.action_space
        if obs_space is not None and getattr(obs_space, "shape", None) != want_obs.shape:
            raise SimpleGameError(
                f"{path}: checkpoint expects observations of shape {tuple(obs_space.shape)}, but the env gives "
                f"{tuple(want_obs.shape)} (another frame stack or screen size?)"
            )
        if action_space is not None and getattr(action_space, "n", None) != getattr(want_act, "n", None):
            raise SimpleGameError(
                f"{path}: checkpoint has {getattr(action_space, 'n', '?')} actions, but {env_cfg.game} has "
                f"{getattr(want_act, 'n', '?')} (trained on another game?)"
            )
    return load_model(path, cfg.algo, env=env if train else None, device=device)


def _saved_spaces(path: Path) -> tuple[Any, Any, Any]:
    """Observation space, action space and policy class from an SB3 zip, without the weights."""
    from stable_baselines3.common.save_util import json_to_data

    try:
        with zipfile.ZipFile(path) as archive:
            if "data" not in archive.namelist():
                raise SimpleGameError(f"{path}: not a Stable-Baselines3 checkpoint (no 'data' entry)")
            data = json_to_data(archive.read("data").decode("utf-8"))
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as exc:
        raise SimpleGameError(f"{path}: not a readable checkpoint ({exc})") from None
    return data.get("observation_space"), data.get("action_space"), data.get("policy_class")


def parameters_finite(model: BaseAlgorithm) -> bool:
    """True when every network weight is a finite number (no NaN or inf)."""
    import torch

    with torch.no_grad():
        return all(bool(torch.isfinite(p).all()) for p in model.policy.parameters())


def rng_state(model: Optional[BaseAlgorithm] = None) -> dict[str, Any]:
    """The random number generators' states as JSON data (stored in step checkpoints).

    Python's ``random``, NumPy's global generator (PPO's minibatch shuffling), PyTorch's CPU
    generator (sampling actions) and the action space's generator (DQN's random actions).
    """
    import base64
    import random

    import numpy as np
    import torch

    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode("ascii"),
    }
    space_rng = getattr(getattr(model, "action_space", None), "_np_random", None)
    if space_rng is not None:
        state["action_space"] = space_rng.bit_generator.state
    return state


def restore_rng_state(state: dict[str, Any], model: Optional[BaseAlgorithm] = None) -> list[str]:
    """Put back what :func:`rng_state` saved; returns the names restored."""
    import base64
    import random

    import numpy as np
    import torch

    restored = []
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
        restored.append("python")
    if "numpy" in state:
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        restored.append("numpy")
    if "torch" in state:
        raw = np.frombuffer(base64.b64decode(state["torch"]), dtype=np.uint8).copy()
        torch.set_rng_state(torch.from_numpy(raw))
        restored.append("torch")
    space = getattr(model, "action_space", None)
    if "action_space" in state and space is not None:
        space.seed(0)  # creates the generator; the saved state replaces it
        space.np_random.bit_generator.state = state["action_space"]
        restored.append("action_space")
    return restored
