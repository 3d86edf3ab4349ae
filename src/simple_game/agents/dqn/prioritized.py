"""Proportional prioritized replay (Schaul et al. 2016), with optional n-step returns.

Uniform replay shows the network every stored transition equally often, although most of
them it already predicts well. Prioritized replay draws transition ``i`` with probability
``P(i) = p_i / sum_j p_j`` where ``p_i = (|delta_i| + eps) ** alpha`` and ``delta_i`` is its
last TD error: surprising transitions come back more often. ``alpha`` = 0 is uniform replay.

Drawing non-uniformly biases the update (the expectation is over the wrong distribution);
importance-sampling weights ``w_i = (N * P(i)) ** -beta``, divided by the batch's largest so
they only scale updates down, undo the bias fully at ``beta`` = 1. ``beta`` grows from
``beta_start`` to 1 over training, because the bias matters most at the end, when the values
should converge. A new transition gets the largest priority seen so far, so it is replayed
at least once before its TD error is known.

The priorities live in a :class:`~simple_game.agents.dqn.sum_tree.SumTree`, an attribute of
the buffer, so ``save_replay_buffer`` (a pickle) keeps them and ``--resume`` draws from the
same distribution.

n-step returns (``n_steps`` > 1, set by :class:`simple_game.agents.dqn.DQN` from its own
``n_steps`` and ``gamma``) are computed at sampling time as SB3's ``NStepReplayBuffer`` does
(:mod:`.nstep`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Optional

import numpy as np
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from simple_game.agents.dqn.nstep import gather_samples
from simple_game.agents.dqn.sum_tree import SumTree

if TYPE_CHECKING:
    from gymnasium import spaces
    from stable_baselines3.common.vec_env import VecNormalize


class PrioritizedBatch(NamedTuple):
    """A prioritized minibatch: the samples, their importance weights ``(batch, 1)``, and where they are stored."""

    samples: ReplayBufferSamples
    weights: th.Tensor
    batch_inds: np.ndarray
    env_inds: np.ndarray


class PrioritizedSampling(ReplayBuffer):
    """Proportional prioritized sampling over any SB3-layout storage; see the module docstring.

    A mixin placed before a storage class (:class:`PrioritizedReplayBuffer` on SB3's arrays,
    :class:`~.frame_replay.PrioritizedFrameReplayBuffer` on shared frames); the storage
    provides ``gather(batch_inds, env_inds, env)``.

    :param alpha: how strongly priorities skew sampling (0: uniform, 1: fully proportional).
    :param beta_start: importance-weight exponent at the start of training; annealed to 1.
    :param eps: added to ``|TD error|`` so no transition's priority is ever 0.
    :param n_steps: length of the n-step return (1: the ordinary one-step target).
    :param gamma: discount of the n-step return (the algorithm's ``gamma``).
    """

    if TYPE_CHECKING:

        def gather(
            self, batch_inds: np.ndarray, env_inds: np.ndarray, env: Optional[VecNormalize] = None
        ) -> ReplayBufferSamples: ...

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        alpha: float = 0.6,
        beta_start: float = 0.4,
        eps: float = 1e-6,
        n_steps: int = 1,
        gamma: float = 0.99,
    ) -> None:
        if optimize_memory_usage:
            raise ValueError(f"optimize_memory_usage is not supported by {type(self).__name__}")
        _check_options(alpha, beta_start, eps, n_steps, gamma, type(self).__name__)
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device,
            n_envs,
            optimize_memory_usage,
            handle_timeout_termination,
        )
        self.alpha, self.beta_start, self.eps = float(alpha), float(beta_start), float(eps)
        self.n_steps, self.gamma = int(n_steps), float(gamma)
        self.tree = SumTree(self.buffer_size * self.n_envs)  # leaf = position * n_envs + env
        self.max_priority = 1.0

    def add(self, obs: np.ndarray, next_obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
            done: np.ndarray, infos: list[dict[str, Any]]) -> None:  # fmt: skip
        """Store one vector step; each new transition gets the largest priority so far."""
        pos = self.pos
        super().add(obs, next_obs, action, reward, done, infos)
        leaves = pos * self.n_envs + np.arange(self.n_envs)
        self.tree.set(leaves, np.full(self.n_envs, self.max_priority))

    def beta(self, progress_remaining: float) -> float:
        """The importance-weight exponent: ``beta_start`` at the start of training (progress 1), 1 at the end."""
        return self.beta_start + (1.0 - self.beta_start) * (1.0 - float(progress_remaining))

    def sample(self, batch_size: int, env: Optional[VecNormalize] = None) -> ReplayBufferSamples:
        """SB3's interface; an algorithm that never updates priorities would replay near-uniformly."""
        return self.sample_prioritized(batch_size, self.beta_start, env).samples

    def sample_prioritized(self, batch_size: int, beta: float, env: Optional[VecNormalize] = None) -> PrioritizedBatch:
        """``batch_size`` transitions drawn in proportion to priority, with their importance weights."""
        leaves = self.tree.sample(batch_size)
        batch_inds, env_inds = np.divmod(leaves, self.n_envs)
        stored = (self.buffer_size if self.full else self.pos) * self.n_envs
        probabilities = self.tree.get(leaves) / self.tree.total
        weights = (stored * probabilities) ** -beta
        weights = (weights / weights.max()).astype(np.float32).reshape(-1, 1)
        samples = self.gather(batch_inds, env_inds, env)
        return PrioritizedBatch(samples, self.to_torch(weights), batch_inds, env_inds)

    def update_priorities(self, batch_inds: np.ndarray, env_inds: np.ndarray, td_errors: np.ndarray) -> None:
        """New priorities ``(|TD error| + eps) ** alpha`` for the transitions just learned from."""
        priorities = (np.abs(np.asarray(td_errors, dtype=np.float64)).reshape(-1) + self.eps) ** self.alpha
        self.tree.set(np.asarray(batch_inds) * self.n_envs + np.asarray(env_inds), priorities)
        self.max_priority = max(self.max_priority, float(priorities.max()))


class PrioritizedReplayBuffer(PrioritizedSampling):
    """SB3's ``ReplayBuffer`` storage, sampled in proportion to priority; see the module docstring.

    Options: those of :class:`PrioritizedSampling` (``alpha``, ``beta_start``, ``eps``).
    """

    def gather(
        self, batch_inds: np.ndarray, env_inds: np.ndarray, env: Optional[VecNormalize] = None
    ) -> ReplayBufferSamples:
        """The (n-step) samples stored at ``batch_inds``, ``env_inds``; the same numbers as SB3's buffers.

        With ``n_steps`` = 1 this is ``ReplayBuffer._get_samples`` (``discounts`` stays ``None``:
        the algorithm uses ``gamma``), with ``n_steps`` > 1 ``NStepReplayBuffer._get_samples``.
        """
        return gather_samples(self, batch_inds, env_inds, env, self._obs_at, self._next_obs_at)

    def _obs_at(self, inds: np.ndarray, envs: np.ndarray) -> np.ndarray:
        return self.observations[inds, envs]

    def _next_obs_at(self, inds: np.ndarray, envs: np.ndarray) -> np.ndarray:
        return self.next_observations[inds, envs]


def _check_options(alpha: float, beta_start: float, eps: float, n_steps: int, gamma: float, owner: str) -> None:
    """One ``ValueError`` naming the option, so the config error names ``replay_buffer_kwargs``."""
    checks = (
        ("alpha", 0.0 <= alpha <= 1.0, "in [0, 1]"),
        ("beta_start", 0.0 <= beta_start <= 1.0, "in [0, 1]"),
        ("eps", eps > 0.0, "positive"),
        ("n_steps", isinstance(n_steps, int) and n_steps >= 1, "a positive integer"),
        ("gamma", 0.0 <= gamma <= 1.0, "in [0, 1]"),
    )
    for name, ok, rule in checks:
        if not ok:
            raise ValueError(f"replay_buffer_kwargs.{name} must be {rule} for {owner}")
