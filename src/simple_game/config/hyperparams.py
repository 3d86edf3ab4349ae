"""The algorithm registry and the ``hyperparams:`` section checked against each constructor.

A typo in a hyperparameter (``n_stepz``) or a value the constructor would refuse is a config
error that names the file and the key, raised before a run directory exists. Class paths in a
config (``features_extractor_class``) resolve only from an allowlist of packages.

Importing this module imports no torch or SB3: the registry holds import paths, and an algorithm
class is imported only when a config is checked or a model is built.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from functools import cache
from typing import TYPE_CHECKING, Any

from simple_game.config.games import did_you_mean
from simple_game.config.numbers import finite_number, whole_number
from simple_game.config.schedules import SCHEDULABLE, parse_schedule
from simple_game.errors import ConfigError

if TYPE_CHECKING:
    from simple_game.config.schema import ExperimentConfig

ALLOWED_CLASS_PREFIXES = ("simple_game.", "stable_baselines3.", "sb3_contrib.", "torch.nn.", "torch.optim.")
# The algorithm registry: adding an algorithm is one line here. Values are import paths, so
# listing them costs nothing until an algorithm is actually used.
ALGORITHMS: dict[str, str] = {
    "ppo": "stable_baselines3.PPO",
    "a2c": "stable_baselines3.A2C",
    "dqn": "simple_game.agents.dqn.DQN",  # SB3's DQN, bit-identical by default, plus Double/PER/dueling
    "qrdqn": "simple_game.agents.dqn.QRDQN",  # sb3-contrib's QR-DQN, bit-identical by default, plus Double
}
# Constructor arguments simple-game fills in itself; a config may not set them.
MANAGED_ARGS = {"self", "policy", "env", "tensorboard_log", "verbose", "seed", "device", "_init_setup_model", "kwargs"}
# Hyperparameters that must be strictly positive integers when given.
POSITIVE_INTS = {
    "n_steps",
    "batch_size",
    "n_epochs",
    "buffer_size",
    "target_update_interval",
    "n_quantiles",
}


def algorithm_key(value: str) -> str:
    """The registry key for ``value`` (``PPO`` -> ``ppo``); ``ValueError`` listing the allowed ones."""
    key = value.lower()
    if key not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {value!r}{did_you_mean(key, ALGORITHMS)} (allowed: {', '.join(ALGORITHMS)})"
        )
    return key


def algorithm_class(algo: str) -> type:
    """Import the SB3 / sb3-contrib class registered under ``algo``."""
    module_name, _, cls_name = ALGORITHMS[algo].rpartition(".")
    return getattr(importlib.import_module(module_name), cls_name)


def resolve_class_path(path: str, where: str = "") -> type:
    """Import a dotted class path, but only from the allowlisted packages.

    A YAML file must not be able to name arbitrary callables (``os.system``), so only classes
    under ``simple_game.``, ``stable_baselines3.``, ``sb3_contrib.``, ``torch.nn.`` and
    ``torch.optim.`` resolve. ``src.simple_game.X`` is accepted for older configs.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(path, str):
        raise ConfigError(f"{prefix}expected a dotted class path string, got {path!r}")
    dotted = path[4:] if path.startswith("src.simple_game.") else path
    if not dotted.startswith(ALLOWED_CLASS_PREFIXES):
        raise ConfigError(
            f"{prefix}class path {path!r} is not allowed (allowed prefixes: {', '.join(ALLOWED_CLASS_PREFIXES)})"
        )
    module_name, _, attr = dotted.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise ConfigError(f"{prefix}cannot import {path!r}") from None
    if not isinstance(obj, type):
        raise ConfigError(f"{prefix}{path!r} is not a class")
    return obj


def _is_class_key(key: str) -> bool:
    return key.endswith("_class") or key == "activation_fn"


def check_hyperparams(cfg: ExperimentConfig) -> dict[str, Any]:
    """Check ``hyperparams`` against the algorithm's constructor; parse schedules and numbers.

    Errors name the file (or ``--set``) that set the key, from ``cfg.where``. Class paths stay
    strings here (so the config dumps back to YAML); they are checked against the allowlist and
    test-imported now, and imported for use by :func:`model_kwargs`.
    """
    params = dict(cfg.hyperparams)
    signature = _constructor_defaults(cfg.algo)
    allowed = sorted(k for k in signature if k not in MANAGED_ARGS)
    for key, value in params.items():
        loc = f"hyperparams.{key}"
        where = cfg.where(loc)
        if key not in signature or key in MANAGED_ARGS:
            hint = did_you_mean(key, allowed)
            raise ConfigError(f"{where}: unknown hyperparameter for {cfg.algo}{hint} (allowed: {', '.join(allowed)})")
        try:
            params[key] = parse_schedule(value) if key in SCHEDULABLE else _checked_value(key, value, signature[key])
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        # Importing now (SB3, hence torch, is already loaded for the constructor check above) turns
        # a typo into a config error that names the file, before a run directory is created.
        if key.endswith("_class") and value is not None:
            resolve_class_path(value, where)
        if key == "policy_kwargs" and value is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a mapping, got {value!r}")
            for sub, sub_value in value.items():
                if _is_class_key(sub):
                    resolve_class_path(sub_value, cfg.where(f"{loc}.{sub}"))
    _check_combination(cfg, params)
    return params


def _check_combination(cfg: ExperimentConfig, params: dict[str, Any]) -> None:
    """Options that are each valid but do not fit together (a DQN-family replay option on another
    algorithm, a dueling policy on PPO): one line naming the key, before anything is built."""
    # By path, not an import statement: this package stays free of torch until a config is checked.
    options = importlib.import_module("simple_game.agents.dqn")
    problem = options.check_dqn_options(algorithm_class(cfg.algo), cfg.policy, params)
    if problem:
        key, reason = problem
        raise ConfigError(f"{cfg.where(key)}: {reason}")


def _checked_value(key: str, value: Any, default: Any) -> Any:
    """``value`` checked against the type of the constructor's default; ``ValueError`` if wrong.

    Integers follow the schema's rule (``1e4`` is 10000, ``1.5`` and ``true`` are refused); a
    number written as a string (``1e-3``, which PyYAML reads as text) becomes a float.
    """
    if key == "train_freq":
        return _train_freq(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        number = whole_number(value)
        if key in POSITIVE_INTS and number <= 0:
            raise ValueError(f"must be a positive integer, got {number}")
        return number
    if isinstance(default, float):
        real = finite_number(value)
        if real < 0:
            raise ValueError(f"must not be negative, got {real:g}")
        return value if isinstance(value, (int, float)) else real
    return value


def _train_freq(value: Any) -> Any:
    """``train_freq``: a positive integer (steps) or ``[N, "step" | "episode"]``."""
    pair = isinstance(value, (list, tuple)) and len(value) == 2
    try:
        steps = whole_number(value[0] if pair else value)
    except ValueError:
        steps = 0
    if steps <= 0 or (pair and value[1] not in ("step", "episode")):
        raise ValueError(f"expected a positive integer or [N, 'step'|'episode'], got {value!r}")
    return [steps, value[1]] if pair else steps


@cache
def _constructor_defaults(algo: str) -> dict[str, Any]:
    """The algorithm's constructor arguments and their defaults (``self`` is not one)."""
    cls = algorithm_class(algo)
    return {name: p.default for name, p in inspect.signature(cls).parameters.items()}


def model_kwargs(cfg: ExperimentConfig) -> dict[str, Any]:
    """Hyperparameters ready for the SB3 constructor: class paths imported (allowlist only)."""
    kwargs = copy.deepcopy(cfg.hyperparams)
    for key, value in list(kwargs.items()):
        if key.endswith("_class") and isinstance(value, str):
            kwargs[key] = resolve_class_path(value, f"hyperparams.{key}")
    policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
    for key, value in list(policy_kwargs.items()):
        if _is_class_key(key) and isinstance(value, str):
            policy_kwargs[key] = resolve_class_path(value, f"hyperparams.policy_kwargs.{key}")
    if policy_kwargs:
        kwargs["policy_kwargs"] = policy_kwargs
    if isinstance(kwargs.get("train_freq"), list):
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    return kwargs
