"""Loading a checkpoint back into a model, checked first against the config and the env.

Our checkpoints carry metadata (algorithm, game, frame stack, screen size); a plain SB3 zip
is checked by its network class and its observation and action spaces. A mismatch is one
clear :class:`~simple_game.errors.SimpleGameError` instead of a shape error deep inside PyTorch.
A model loaded to act (``acting=True``: evaluate, record, collect) is loaded without the objects
only training needs, so zips from other tools load too (:mod:`simple_game.agents.sources`).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, cast

from simple_game.agents.sources.sb3_zip import load_for_acting, read_saved_agent
from simple_game.checkpoints import read_checkpoint_metadata
from simple_game.config import ExperimentConfig, algorithm_class
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

# What SB3 (or a foreign or damaged zip) raises when a file is not the model it claims to be.
_LOAD_ERRORS = (
    ValueError,
    KeyError,
    RuntimeError,
    AssertionError,
    TypeError,
    AttributeError,
    EOFError,
    zipfile.BadZipFile,
)


def load_model(
    path: Path, algo: str, env: Optional[VecEnv] = None, device: str = "cpu", *, acting: bool = False, **kwargs: Any
) -> BaseAlgorithm:
    """Load a checkpoint of ``algo``, with a clear error for missing or foreign files.

    ``acting=True``: to act only; schedules, buffers and other training-only objects are left out.
    """
    path = Path(path)
    if not path.is_file():
        raise SimpleGameError(f"{path}: checkpoint not found")
    meta = read_checkpoint_metadata(path)
    if meta.get("algo") and meta["algo"] != algo:
        raise SimpleGameError(f"{path}: checkpoint is a {meta['algo']} model, but the config says algo: {algo}")
    cls = cast("type[BaseAlgorithm]", algorithm_class(algo))
    try:
        if acting:
            return cast("BaseAlgorithm", load_for_acting(cls, path, device=device, env=env))
        return cls.load(path, env=env, device=device, **kwargs)
    except _LOAD_ERRORS as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SimpleGameError(f"{path}: cannot load as {algo}: {first}") from None


def load_checked_model(
    path: Path, cfg: ExperimentConfig, env: Optional[VecEnv] = None, device: str = "cpu", *, train: bool = False
) -> BaseAlgorithm:
    """Load a checkpoint that will act in ``cfg``'s game, checking first that it fits.

    With ``env`` the saved observation and action spaces are checked against it; with
    ``train=True`` the model is also attached to ``env`` (resuming training).
    """
    path = Path(path)
    if not path.is_file():
        raise SimpleGameError(f"{path}: checkpoint not found")
    _check_metadata(path, cfg)
    obs_space, action_space, policy_class = saved_spaces(path)
    _check_policy_class(path, cfg, policy_class)
    if env is not None:
        _check_spaces(path, cfg, env, obs_space, action_space)
    return load_model(path, cfg.algo, env=env if train else None, device=device, acting=not train)


def _check_metadata(path: Path, cfg: ExperimentConfig) -> None:
    """Our checkpoints' own record: the same algorithm, game, frame stack and screen size."""
    meta = read_checkpoint_metadata(path)
    env_cfg = cfg.env
    if meta.get("algo") and meta["algo"] != cfg.algo:
        raise SimpleGameError(f"{path}: checkpoint is a {meta['algo']} model, but the config says algo: {cfg.algo}")
    if meta.get("game") and meta["game"] != env_cfg.game:
        raise SimpleGameError(f"{path}: checkpoint was trained on {meta['game']}, but the config plays {env_cfg.game}")
    for key in ("frame_stack", "screen_size"):
        if meta.get(key) is not None and int(meta[key]) != int(getattr(env_cfg, key)):
            raise SimpleGameError(
                f"{path}: checkpoint was trained with env.{key}: {meta[key]}, "
                f"but the config has {getattr(env_cfg, key)}"
            )
    trained_full = bool(meta.get("full_action_space", False))  # older checkpoints: the minimal action set
    if meta and trained_full != env_cfg.full_action_space:
        raise SimpleGameError(
            f"{path}: checkpoint was trained with env.full_action_space: {str(trained_full).lower()}, "
            f"but the config has {str(env_cfg.full_action_space).lower()}"
        )


def _check_policy_class(path: Path, cfg: ExperimentConfig, policy_class: Any) -> None:
    """A plain SB3 zip of another algorithm holds a network class this one cannot load."""
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


def _check_spaces(path: Path, cfg: ExperimentConfig, env: VecEnv, obs_space: Any, action_space: Any) -> None:
    """The network's input shape and number of actions must be the env's."""
    want_obs, want_act = env.observation_space, env.action_space
    if obs_space is not None and getattr(obs_space, "shape", None) != want_obs.shape:
        raise SimpleGameError(
            f"{path}: checkpoint expects observations of shape {tuple(obs_space.shape)}, but the env gives "
            f"{want_obs.shape} (another frame stack or screen size?)"
        )
    if action_space is not None and getattr(action_space, "n", None) != getattr(want_act, "n", None):
        raise SimpleGameError(
            f"{path}: checkpoint has {getattr(action_space, 'n', '?')} actions, but {cfg.env.game} has "
            f"{getattr(want_act, 'n', '?')} (trained on another game?)"
        )


def saved_spaces(path: Path) -> tuple[Any, Any, Any]:
    """Observation space, action space and policy class from an SB3 zip, without the weights.

    Only these three are unpickled (gym-era spaces read as gymnasium's); schedules from
    packages that are not installed here do not stop the check.
    """
    saved = read_saved_agent(path)
    return saved.decode("observation_space"), saved.decode("action_space"), saved.decode("policy_class")
