"""Experiment configs: YAML files -> one validated :class:`ExperimentConfig`, and back to YAML.

Loading is :func:`~simple_game.config.loading.load_yaml_model` (``extends:``, ``--set``, pydantic)
followed by one more step: the algorithm's hyperparameters are checked against its constructor.
Every error is a :class:`~simple_game.errors.ConfigError` whose message names the file and the
key, e.g. ``configs/ppo_breakout.yaml: env.game: unknown game 'breakot' (did you mean 'breakout'?)``.

The constructor check imports SB3 (torch first, then gymnasium, in SB3's own order); the schema
itself imports neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import yaml

from simple_game.config.hyperparams import check_hyperparams
from simple_game.config.loading import load_yaml_model, validate_model
from simple_game.config.schema import ExperimentConfig


def load_config(
    path: str | Path, overrides: Optional[list[str]] = None, name: Optional[str] = None
) -> ExperimentConfig:
    """Load, merge, override and validate one experiment config (its name defaults to the file stem)."""
    path = Path(path)
    flags = {"name": ("--name", name)} if name is not None else None
    cfg, origins = load_yaml_model(path, ExperimentConfig, overrides, defaults={"name": path.stem}, flags=flags)
    return _checked(cfg, str(path), origins)


def validate_config(
    data: dict[str, Any], source: str = "<config>", origins: Optional[dict[str, str]] = None
) -> ExperimentConfig:
    """Validate already-merged data (also used for a run directory's saved config.yaml)."""
    origins = origins or {}
    return _checked(validate_model(data, ExperimentConfig, source, origins), source, origins)


def _checked(cfg: ExperimentConfig, source: str, origins: Mapping[str, str]) -> ExperimentConfig:
    cfg.source = source
    cfg.hyperparams = check_hyperparams(cfg, source, origins)
    return cfg


def dump_config(cfg: ExperimentConfig) -> str:
    """YAML text of the resolved config (what ``runs/<exp>/config.yaml`` holds)."""
    return yaml.safe_dump(cfg.to_yaml_dict(), sort_keys=False)
