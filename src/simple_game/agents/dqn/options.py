"""Config checks for the DQN options that need the algorithm class: caught before any run starts.

The constructor check in :mod:`simple_game.config.hyperparams` already refuses an argument
the algorithm does not have (``double`` for PPO). What it cannot see is a combination that
every constructor would accept but that would silently do the wrong thing, e.g. QR-DQN with
``PrioritizedReplayBuffer`` (it would never update the priorities).
"""

from __future__ import annotations

from typing import Any, Optional

from simple_game.agents.dqn.algorithm import DQN
from simple_game.agents.dqn.prioritized import PrioritizedReplayBuffer
from simple_game.config.hyperparams import resolve_class_path

__all__ = ["check_dqn_options"]

PER_OPTIONS = ("alpha", "beta_start", "eps")


def check_dqn_options(algo_class: type, policy: str, hyperparams: dict[str, Any]) -> Optional[tuple[str, str]]:
    """The first problem as ``(dotted config key, reason)``, or ``None`` when the options fit together."""
    aliases = getattr(algo_class, "policy_aliases", {})
    if aliases and policy not in aliases:
        return "policy", f"{algo_class.__name__} has no policy {policy!r} (allowed: {', '.join(aliases)})"
    buffer_class = hyperparams.get("replay_buffer_class")
    if isinstance(buffer_class, str):
        buffer_class = resolve_class_path(buffer_class, "hyperparams.replay_buffer_class")
    prioritized = isinstance(buffer_class, type) and issubclass(buffer_class, PrioritizedReplayBuffer)
    if prioritized and not issubclass(algo_class, DQN):
        return "hyperparams.replay_buffer_class", (
            f"PrioritizedReplayBuffer needs algo: dqn (simple_game.agents.dqn.DQN, which updates the priorities "
            f"and weights the loss); {algo_class.__name__} would replay without either"
        )
    buffer_kwargs = hyperparams.get("replay_buffer_kwargs") or {}
    for key in PER_OPTIONS:
        if key in buffer_kwargs and not prioritized:
            return f"hyperparams.replay_buffer_kwargs.{key}", (
                "a prioritized-replay option, but hyperparams.replay_buffer_class is not "
                "simple_game.agents.dqn.PrioritizedReplayBuffer"
            )
    if hyperparams.get("optimize_memory_usage") and (prioritized or int(hyperparams.get("n_steps", 1)) > 1):
        what = "PrioritizedReplayBuffer" if prioritized else "n-step returns (n_steps > 1)"
        return "hyperparams.optimize_memory_usage", f"{what} cannot share observations; set it to false"
    return None
