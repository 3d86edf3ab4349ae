"""One line for a configuration SB3 or torch refused when the model was built, naming the key.

SB3 and torch check some hyperparameters themselves (``batch_size`` against ``n_steps * n_envs``,
a learning rate below zero); their messages do not name our config's keys or files, so the
keys they mention are found by name and reported with where each value was set.
"""

from __future__ import annotations

import re

from simple_game.config import ExperimentConfig


def refusal_message(cfg: ExperimentConfig, exc: BaseException) -> str:
    """``--set: hyperparams.batch_size: PPO refused 1: `batch_size` must be greater than 1 ...``.

    SB3's and torch's messages do not always name the key: the config keys they mention are
    found by name (``learning rate`` is ``learning_rate``); when none is, the message names
    ``hyperparams`` and the files (or ``--set``) its values came from.
    """
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    algo, keys = cfg.algo.upper(), _keys_named_in(reason, cfg)
    if len(keys) == 1:
        value = _value_at(cfg, keys[0])
        shown = f" {value}" if isinstance(value, (int, float, str)) else " the value"
        return f"{cfg.where(keys[0])}: {algo} refused{shown}: {reason}"
    if keys:
        return f"{'; '.join(cfg.where(k) for k in keys)}: {algo} refused these values: {reason}"
    origins = sorted({cfg.origin(f"hyperparams.{k}") for k in cfg.hyperparams} or {cfg.origin("hyperparams")})
    return f"{', '.join(origins)}: hyperparams: {algo} refused the configuration: {reason}"


def _keys_named_in(message: str, cfg: ExperimentConfig) -> list[str]:
    """The config keys ``message`` mentions (``batch_size``, ``learning rate``), in the order it does."""
    candidates = [f"hyperparams.{k}" for k in cfg.hyperparams] + ["env.n_envs"]
    policy_kwargs = cfg.hyperparams.get("policy_kwargs")
    if isinstance(policy_kwargs, dict):
        candidates += [f"hyperparams.policy_kwargs.{k}" for k in policy_kwargs]
    found: dict[str, int] = {}
    for key in candidates:
        name = key.rsplit(".", 1)[-1].lower()
        for form in {name, name.replace("_", " ")}:
            hit = re.search(rf"(?<![a-z0-9_]){re.escape(form)}(?![a-z0-9_])", message.lower())
            if hit:
                found[key] = min(found.get(key, hit.start()), hit.start())
    return sorted(found, key=found.__getitem__)


def _value_at(cfg: ExperimentConfig, key: str) -> object:
    value: object = cfg.to_yaml_dict()
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
