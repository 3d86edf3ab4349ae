"""What every checkpoint records about itself, so it can be checked before it is loaded."""

from __future__ import annotations

from typing import Any

from simple_game import __version__
from simple_game.config import ExperimentConfig


def checkpoint_metadata(cfg: ExperimentConfig, step: int, **extra: Any) -> dict[str, Any]:
    """Version, algorithm, game, protocol, frame stack, screen size, experiment and step (+ ``extra``)."""
    return {
        "simple_game_version": __version__,
        "algo": cfg.algo,
        "game": cfg.env.game,
        "protocol": cfg.env.protocol,
        "frame_stack": cfg.env.frame_stack,
        "screen_size": cfg.env.screen_size,
        "frame_skip": cfg.env.frame_skip,
        "full_action_space": cfg.env.full_action_space,
        "experiment": cfg.name,
        "step": int(step),
        **extra,
    }
