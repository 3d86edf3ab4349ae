"""Config checks for the DQN options that need the algorithm class: caught before any run starts.

The constructor check in :mod:`simple_game.config.hyperparams` already refuses an argument
the algorithm does not have (``double`` for PPO). What it cannot see is a combination that
every constructor would accept but that would silently do the wrong thing, e.g. QR-DQN with
``PrioritizedReplayBuffer`` (it would never update the priorities).
"""

from __future__ import annotations

from typing import Any, Optional

from simple_game.agents.dqn.algorithm import DQN
from simple_game.agents.dqn.frame_replay import FrameReplayBuffer
from simple_game.agents.dqn.prioritized import PrioritizedSampling
from simple_game.agents.dqn.qrdqn import QRDQN
from simple_game.config.hyperparams import resolve_class_path

__all__ = ["check_dqn_options"]

PER_OPTIONS = ("alpha", "beta_start", "eps")
# Algorithms that give our buffers their n_steps and gamma (SB3's own set up n-step replay only
# for replay_buffer_class None).
N_STEP_ALGOS: tuple[type, ...] = (DQN, QRDQN)
Problem = Optional[tuple[str, str]]


def check_dqn_options(algo_class: type, policy: str, hyperparams: dict[str, Any]) -> Optional[tuple[str, str]]:
    """The first problem as ``(dotted config key, reason)``, or ``None`` when the options fit together."""
    aliases = getattr(algo_class, "policy_aliases", {})
    if aliases and policy not in aliases:
        return "policy", f"{algo_class.__name__} has no policy {policy!r} (allowed: {', '.join(aliases)})"
    buffer_class = hyperparams.get("replay_buffer_class")
    if isinstance(buffer_class, str):
        buffer_class = resolve_class_path(buffer_class, "hyperparams.replay_buffer_class")
    if not isinstance(buffer_class, type):
        buffer_class = None
    return _check_prioritized(algo_class, buffer_class, hyperparams) or _check_storage(
        algo_class, buffer_class, hyperparams
    )


def _check_prioritized(algo_class: type, buffer_class: Optional[type], hyperparams: dict[str, Any]) -> Problem:
    prioritized = buffer_class is not None and issubclass(buffer_class, PrioritizedSampling)
    if prioritized and not issubclass(algo_class, DQN):
        assert buffer_class is not None
        return "hyperparams.replay_buffer_class", (
            f"{buffer_class.__name__} needs algo: dqn (simple_game.agents.dqn.DQN, which updates the priorities "
            f"and weights the loss); {algo_class.__name__} would replay without either"
        )
    buffer_kwargs = hyperparams.get("replay_buffer_kwargs") or {}
    for key in PER_OPTIONS:
        if key in buffer_kwargs and not prioritized:
            return f"hyperparams.replay_buffer_kwargs.{key}", (
                "a prioritized-replay option, but hyperparams.replay_buffer_class is not "
                "simple_game.agents.dqn.PrioritizedReplayBuffer or PrioritizedFrameReplayBuffer"
            )
    return None


def _check_storage(algo_class: type, buffer_class: Optional[type], hyperparams: dict[str, Any]) -> Problem:
    """``optimize_memory_usage`` and n-step returns against the buffer that would store them."""
    ours = buffer_class is not None and issubclass(buffer_class, (PrioritizedSampling, FrameReplayBuffer))
    n_steps = int(hyperparams.get("n_steps", 1))
    if hyperparams.get("optimize_memory_usage") and (ours or n_steps > 1):
        what = buffer_class.__name__ if ours and buffer_class is not None else "n-step returns (n_steps > 1)"
        return "hyperparams.optimize_memory_usage", f"{what} cannot share observations that way; set it to false"
    hands_n_steps = any(issubclass(algo_class, cls) for cls in N_STEP_ALGOS)
    if ours and n_steps > 1 and not hands_n_steps and buffer_class is not None:
        return "hyperparams.n_steps", (
            f"{algo_class.__name__} does not hand n_steps to {buffer_class.__name__} (SB3 would ignore it); "
            "use algo: dqn, or n_steps: 1"
        )
    return None
