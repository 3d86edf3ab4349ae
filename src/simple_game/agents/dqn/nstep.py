"""Minibatches from SB3-layout replay storage, with n-step returns computed at sampling time.

Shared by :class:`~.prioritized.PrioritizedReplayBuffer` and :class:`~.frame_replay.FrameReplayBuffer`:
both keep SB3's ``rewards``, ``dones``, ``timeouts`` arrays (``(buffer_size, n_envs)``, a
position ``pos`` and ``n_steps``/``gamma``) and differ only in how observations are stored,
which they pass in as two functions. The numbers are those of SB3's ``ReplayBuffer``
(``n_steps`` = 1) and ``NStepReplayBuffer`` (``n_steps`` > 1); ``tests/test_dqn_replay.py`` and
``tests/test_dqn_frame_replay.py`` compare them on the same stored data.

n-step: rewards are summed until the first game over (no bootstrap after it) or time-limit
truncation (bootstrap from the observation the episode was cut at), and the newest transition
counts as a cut, so a sequence never runs into the oldest data it overwrote.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from stable_baselines3.common.type_aliases import ReplayBufferSamples

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecNormalize

ObsAt = Callable[[np.ndarray, np.ndarray], np.ndarray]

__all__ = ["gather_samples", "n_step_returns"]


def gather_samples(
    buffer: Any,
    batch_inds: np.ndarray,
    env_inds: np.ndarray,
    env: Optional[VecNormalize],
    obs_at: ObsAt,
    next_obs_at: ObsAt,
) -> ReplayBufferSamples:
    """The (n-step) samples of ``buffer`` at ``batch_inds``, ``env_inds``.

    ``obs_at(inds, envs)`` and ``next_obs_at(inds, envs)`` return the stored observations and
    next observations. With ``n_steps`` = 1 ``discounts`` stays ``None`` (the algorithm uses
    ``gamma``), as in SB3's ``ReplayBuffer``.
    """
    obs = buffer._normalize_obs(obs_at(batch_inds, env_inds), env)
    actions = buffer.actions[batch_inds, env_inds]
    if buffer.n_steps == 1:
        next_obs = buffer._normalize_obs(next_obs_at(batch_inds, env_inds), env)
        dones = buffer.dones[batch_inds, env_inds] * (1 - buffer.timeouts[batch_inds, env_inds])
        rewards = buffer._normalize_reward(buffer.rewards[batch_inds, env_inds].reshape(-1, 1), env)
        data = (obs, actions, next_obs, dones.reshape(-1, 1), rewards)
        return ReplayBufferSamples(*tuple(map(buffer.to_torch, data)))
    returns, discounts, last, final_dones = n_step_returns(buffer, batch_inds, env_inds, env)
    next_obs = buffer._normalize_obs(next_obs_at(last, env_inds), env)
    return ReplayBufferSamples(
        observations=buffer.to_torch(obs),
        actions=buffer.to_torch(actions),
        next_observations=buffer.to_torch(next_obs),
        dones=buffer.to_torch(final_dones),
        rewards=buffer.to_torch(returns),
        discounts=buffer.to_torch(discounts),
    )


def n_step_returns(
    buffer: Any, batch_inds: np.ndarray, env_inds: np.ndarray, env: Optional[VecNormalize]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The n-step return, the bootstrap discount, the last index used and its done flag, per sample.

    ``G = r_t + gamma r_{t+1} + ... + gamma^(k-1) r_{t+k-1}`` where ``k`` <= n stops at the
    first game over or truncation (inclusive); the target is ``G + gamma^k (1 - done) Q(s_{t+k})``.
    """
    n_steps, gamma, size = buffer.n_steps, buffer.gamma, buffer.buffer_size
    steps = np.arange(n_steps).reshape(1, -1)
    indices = (batch_inds[:, None] + steps) % size
    envs = env_inds[:, None]
    rewards = buffer._normalize_reward(buffer.rewards[indices, envs], env)
    dones = buffer.dones[indices, envs]
    # The newest transition is a cut unless it ended the game: what follows it is the oldest data.
    newest = indices == (buffer.pos - 1) % size
    cuts = np.logical_or(buffer.timeouts[indices, envs], newest & np.logical_not(dones))
    stop = np.logical_or(dones, cuts)
    k = np.where(stop.any(axis=1), stop.argmax(axis=1), n_steps - 1)  # index of the last step used
    mask = steps <= k[:, None]
    discounts = (gamma ** mask.sum(axis=1, keepdims=True).astype(np.float32)).astype(np.float32)
    step_discounts = gamma ** np.arange(n_steps, dtype=np.float32).reshape(1, -1)
    returns = (rewards * step_discounts * mask).sum(axis=1, keepdims=True)
    rows = np.arange(len(batch_inds))
    last = indices[rows, k]
    final_dones = (dones[rows, k] * (1.0 - cuts[rows, k]))[:, None].astype(np.float32)
    return returns, discounts, last, final_dones
