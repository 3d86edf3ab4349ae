"""Experiment configs: YAML files -> one validated :class:`ExperimentConfig`, and back to YAML.

Loading is :func:`~simple_game.config.loading.load_yaml_model` (``extends:``, ``--set``, pydantic)
followed by one more step: the algorithm's hyperparameters are checked against its constructor.
Every error is a :class:`~simple_game.errors.ConfigError` whose message names the file and the
key, e.g. ``configs/ppo_breakout.yaml: env.game: unknown game 'breakot' (did you mean 'breakout'?)``.

The constructor check imports SB3 (torch first, then gymnasium, in SB3's own order); the schema
itself imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Optional

import yaml

from simple_game.config.games import normalize_game
from simple_game.config.hyperparams import check_hyperparams
from simple_game.config.loading import load_yaml_data, load_yaml_model, validate_model
from simple_game.config.schema import ExperimentConfig


def load_config(
    path: str | Path, overrides: Optional[list[str]] = None, name: Optional[str] = None
) -> ExperimentConfig:
    """Load, merge, override and validate one experiment config (its name defaults to the file stem).

    Changing the game with ``--set env.game=MsPacman`` on a Breakout config keeps the rest of the
    recipe, but the run must say which game it played: without ``--name`` (or a ``name:`` in a
    file) the experiment is called ``<config stem>-<game>`` (``ppo_breakout-ms_pacman``), which is
    the run folder's and TensorBoard's name. Milestone thresholds are scores of one game, so when
    they come from a file written for another game, ``cfg.warnings`` says so (the command prints it).
    """
    path = Path(path)
    flags = {"name": ("--name", name)} if name is not None else None
    cfg, origins = load_yaml_model(path, ExperimentConfig, overrides, defaults={"name": path.stem}, flags=flags)
    cfg = _checked(cfg, str(path), origins)
    written_for = cache(_game_of_file)
    if cfg.origin("env.game") == "--set" and written_for(str(path)) not in (None, cfg.env.game):
        cfg._config_name = config_name = f"{path.stem}-{cfg.env.game}"
        if "name" not in origins:
            cfg.name = config_name
    cfg.warnings.extend(_milestone_warnings(cfg, written_for))
    return cfg


def validate_config(
    data: dict[str, Any], source: str = "<config>", origins: Optional[dict[str, str]] = None
) -> ExperimentConfig:
    """Validate already-merged data (also used for a run directory's saved config.yaml)."""
    origins = origins or {}
    return _checked(validate_model(data, ExperimentConfig, source, origins), source, origins)


def _checked(cfg: ExperimentConfig, source: str, origins: Mapping[str, str]) -> ExperimentConfig:
    cfg.source = source
    cfg._origins = dict(origins)
    cfg.hyperparams = check_hyperparams(cfg)
    return cfg


def _game_of_file(path: str) -> Optional[str]:
    """The game a config file (with its ``extends:`` chain) was written for, or None if it names none."""
    env = load_yaml_data(path)[0].get("env")
    game = env.get("game") if isinstance(env, dict) else None
    try:
        return normalize_game(game) if isinstance(game, str) else None
    except ValueError:  # a misspelt game that --set replaced
        return None


def _milestone_warnings(cfg: ExperimentConfig, written_for: Callable[[str], Optional[str]]) -> list[str]:
    """A warning when ``milestones.thresholds`` came from a file written for another game."""
    origin = cfg.origin("milestones.thresholds")
    if not cfg.milestones.thresholds or origin.startswith("--"):
        return []
    game = written_for(origin)
    if game is None or game == cfg.env.game:
        return []
    shown = ", ".join(f"{t:g}" for t in cfg.milestones.thresholds)
    return [
        f"milestones.thresholds [{shown}] come from {origin}, written for {game}; "
        f"with env.game={cfg.env.game} check them (--set milestones.thresholds=[...])"
    ]


def dump_config(cfg: ExperimentConfig) -> str:
    """YAML text of the resolved config (what ``runs/<exp>/config.yaml`` holds)."""
    return yaml.safe_dump(cfg.to_yaml_dict(), sort_keys=False)
