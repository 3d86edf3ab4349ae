"""Algorithms: building an SB3 model from a config, loading one from a checkpoint, and its state.

The registry itself (``ALGORITHMS`` in :mod:`simple_game.config`) maps a name to an import
path, so adding an algorithm is one line. PPO and A2C are on-policy actor-critics (learn from
the rollout just collected, then throw it away); DQN and QR-DQN are off-policy value methods
(learn from a replay buffer of past transitions).

- :mod:`.build`: a fresh model from a config;
- :mod:`.loading`: a checkpoint back into a model, checked against the config and env first;
- :mod:`.metadata`: what each checkpoint records about itself;
- :mod:`.rng`: the random generators' states, saved and restored for ``train --resume``;
- :mod:`.schedules`: schedules that go on without a jump when a resume grows the budget;
- :mod:`.replay`: a resumed DQN's replay buffer, loaded or refilled before learning goes on;
- :mod:`.health`: whether the network's weights are still finite numbers;
- :mod:`.shipping`: policy-only copies of a run's agents, in a folder others can play (``agents ship``).
"""

from __future__ import annotations

from simple_game.agents.build import build_model
from simple_game.agents.health import parameters_finite
from simple_game.agents.loading import load_checked_model, load_model, saved_spaces
from simple_game.agents.metadata import checkpoint_metadata
from simple_game.agents.rng import restore_rng_state, rng_state
from simple_game.config import ALGORITHMS

__all__ = [
    "ALGORITHMS",
    "build_model",
    "load_model",
    "load_checked_model",
    "saved_spaces",
    "checkpoint_metadata",
    "parameters_finite",
    "rng_state",
    "restore_rng_state",
]
