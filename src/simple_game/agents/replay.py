"""The replay buffer of a resumed DQN/QR-DQN: loaded from beside its checkpoint, or refilled by playing.

DQN learns from minibatches drawn from its replay buffer. Resumed without one (the default
``checkpoint.save_replay_buffer: false``: a 100k-transition Atari buffer is about 5.6 GB on
disk, 0.75 GB with the shared-frame ``FrameReplayBuffer``) its first gradient steps would draw
from the handful of transitions collected since, so the buffer is refilled first, as the DQN
paper's warm-up does: ``learning_starts`` transitions before any gradient step.

The refill plays the loaded policy epsilon-greedily at its current exploration rate (DQN's own
``predict(deterministic=False)``, through SB3's ``_sample_action``), not at random: the buffer
then holds what the current policy sees, as it did before the interruption; random play would
fill it with early-game, low-skill transitions the agent no longer meets. Transitions are
stored by SB3's own ``_store_transition``, so terminal observations and time-limit truncations
are kept as SB3 keeps them, and ``learn`` then continues from that env state.

The refill steps are real agent steps and count toward ``num_timesteps`` (and so toward the
budget); the exploration rate stays at its checkpoint value while refilling. No gradient step
is taken, and the gradient-step (``_n_updates``) and target-update (``_n_calls``) counters carry
on from the checkpoint untouched: target syncs stay as many gradient steps apart as before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

if TYPE_CHECKING:
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

Report = Callable[[str], None]


def buffered_transitions(model: Any) -> int:
    """Transitions in the model's replay buffer (``size()`` counts vector steps of ``n_envs`` each)."""
    buffer = getattr(model, "replay_buffer", None)
    return 0 if buffer is None else int(buffer.size()) * int(buffer.n_envs)


def load_replay_buffer(model: Any, path: Path, wanted: bool) -> str:
    """Load the buffer saved at ``path`` if there is one; a note for the resume line."""
    if getattr(model, "replay_buffer", None) is None:
        return ""
    if path.is_file():
        model.load_replay_buffer(path)
        return f"; replay buffer restored ({buffered_transitions(model):,} transitions)"
    if wanted:
        return "; [yellow]replay buffer file missing[/yellow]"
    return "; replay buffer not saved: checkpoint.save_replay_buffer is false"


def transitions_to_refill(model: Any) -> int:
    """How many transitions to play before learning resumes: up to ``learning_starts`` in the buffer.

    Before ``learning_starts`` steps SB3 is still in its random warm-up and fills the rest itself.
    """
    if getattr(model, "replay_buffer", None) is None:
        return 0
    target = min(int(model.learning_starts), int(model.num_timesteps), int(model.buffer_size))
    return max(0, target - buffered_transitions(model))


def refill_replay_buffer(model: OffPolicyAlgorithm, n_transitions: int, report: Report, every_s: float = 10.0) -> int:
    """Play ``n_transitions`` (rounded up to whole vector steps) into the buffer; returns how many.

    ``report`` gets a progress line at most every ``every_s`` seconds and one at the end.
    """
    env, buffer = model.env, model.replay_buffer
    assert env is not None and buffer is not None
    n_envs = env.num_envs
    steps = math.ceil(n_transitions / n_envs)
    if model._last_obs is None:  # a loaded model: SB3 would reset the env at the start of learn
        model._last_obs = env.reset()  # type: ignore[assignment]
        model._last_episode_starts = np.ones((n_envs,), dtype=bool)
    model.policy.set_training_mode(False)
    t0 = last = time.monotonic()
    for i in range(1, steps + 1):
        actions, buffer_actions = model._sample_action(0, None, n_envs)  # 0: the policy acts, no warm-up
        new_obs, rewards, dones, infos = env.step(actions)
        model.num_timesteps += n_envs
        model._update_info_buffer(infos, dones)
        model._store_transition(buffer, buffer_actions, new_obs, rewards, dones, infos)  # type: ignore[arg-type]
        model._episode_num += int(np.sum(dones))
        if time.monotonic() - last >= every_s and i < steps:
            last = time.monotonic()
            report(f"refilling the replay buffer: {i * n_envs:,}/{steps * n_envs:,} transitions")
    report(
        f"replay buffer refilled: {steps * n_envs:,} transitions in {time.monotonic() - t0:.0f}s; "
        f"learning resumes at step {model.num_timesteps:,}"
    )
    return steps * n_envs


def refill_note(model: Any, n_transitions: int) -> Optional[str]:
    """The line announcing a refill (``None`` when there is nothing to refill)."""
    if n_transitions <= 0:
        return None
    rate = getattr(model, "exploration_rate", None)
    how = f"epsilon-greedy at its exploration rate {rate:.3g}" if rate is not None else "its own actions"
    return (
        f"refilling the replay buffer with {n_transitions:,} transitions (learning_starts) before any gradient "
        f"step: the loaded policy plays, {how}, so the buffer holds what the current policy sees "
        "(random play would fill it with early-game, low-skill transitions); these steps count toward the budget"
    )
