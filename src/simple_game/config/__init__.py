"""Configuration: YAML files -> validated pydantic models, with errors that name file and key.

- :mod:`~simple_game.config.schema`: the experiment schema (``ExperimentConfig`` and its sections);
- :mod:`~simple_game.config.loading`: YAML reading, ``extends:``, ``--set``, and the one loader
  (:func:`load_yaml_model`) and one error formatter (:func:`format_validation_error`) that every
  kind of YAML file uses;
- :mod:`~simple_game.config.experiment`: experiment configs (:func:`load_config`, :func:`dump_config`);
- :mod:`~simple_game.config.collect`: the collect (dataset recording) config;
- :mod:`~simple_game.config.hyperparams`: the algorithm registry, the constructor check, class paths;
- :mod:`~simple_game.config.games`: game names and ale-py's ROM list;
- :mod:`~simple_game.config.schedules`: learning-rate and clip-range schedules;
- :mod:`~simple_game.config.numbers`: the number rules (``1e4`` is a whole number, ``true`` is no number).

A loaded :class:`ExperimentConfig` remembers where each value came from: ``cfg.origin(key)``
(a file, ``--set`` or ``--name``) and ``cfg.where(key)`` start an error about that value;
``cfg.warnings`` holds one-line warnings for the command to print; ``cfg.config_name`` is the
config's name (``ppo_breakout``, or ``ppo_breakout-ms_pacman`` after ``--set env.game=MsPacman``).

Importing this package imports no torch, gymnasium or ale-py.
"""

from simple_game.config.collect import CollectConfig, TierSpec, load_collect_config
from simple_game.config.experiment import dump_config, load_config, validate_config
from simple_game.config.games import available_games, did_you_mean, normalize_game
from simple_game.config.hyperparams import (
    ALGORITHMS,
    MANAGED_ARGS,
    POSITIVE_INTS,
    algorithm_class,
    model_kwargs,
    resolve_class_path,
)
from simple_game.config.loading import (
    _load_with_bases,
    apply_override,
    format_validation_error,
    load_yaml_model,
    origin_of,
)
from simple_game.config.numbers import Float, Int, finite_number, whole_number
from simple_game.config.schema import (
    CheckpointConfig,
    ComputeConfig,
    EnvConfig,
    EvalConfig,
    ExperimentConfig,
    LoggingConfig,
    MilestoneConfig,
    VideoConfig,
    safe_name,
)
from simple_game.errors import ConfigError

# Old private names that cli/collect.py imported; drop them once nothing uses them.
_apply_override = apply_override
_origin = origin_of
_did_you_mean = did_you_mean

__all__ = [
    "ALGORITHMS",
    "MANAGED_ARGS",
    "POSITIVE_INTS",
    "CheckpointConfig",
    "CollectConfig",
    "ComputeConfig",
    "ConfigError",
    "EnvConfig",
    "EvalConfig",
    "ExperimentConfig",
    "Float",
    "Int",
    "LoggingConfig",
    "MilestoneConfig",
    "TierSpec",
    "VideoConfig",
    "algorithm_class",
    "available_games",
    "did_you_mean",
    "dump_config",
    "finite_number",
    "format_validation_error",
    "load_collect_config",
    "load_config",
    "load_yaml_model",
    "model_kwargs",
    "normalize_game",
    "resolve_class_path",
    "safe_name",
    "validate_config",
    "whole_number",
    "_load_with_bases",
]
