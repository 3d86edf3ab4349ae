"""A replay buffer that stores each Atari frame once: 1M transitions in about 7.5 GB instead of 56 GB.

SB3's ``ReplayBuffer`` keeps every transition's observation and next observation, two stacks
of 4 frames (28,224 bytes each for 4x84x84): 8 stored frames for the 1 new frame an agent step
brings. As the DQN paper's code and Dopamine do, :class:`FrameReplayBuffer` stores each frame
once (:class:`~.frame_store.FrameStore`) and rebuilds the stacks when it samples, with the
zero padding ``VecFrameStack`` puts after an episode start, so no frame of the previous episode
enters a stack. Rebuilt stacks are byte-identical to those that were added, whatever was added.

Everything else is SB3's layout (``actions``, ``rewards``, ``dones``, ``timeouts`` of shape
``(buffer_size // n_envs, n_envs)``, ``pos``, ``full``), so sampling draws the same random
numbers as SB3's ``ReplayBuffer`` and returns the same minibatch for the same stored
transitions; n-step returns (``n_steps``, handed over by :class:`simple_game.agents.dqn.DQN`)
are ``NStepReplayBuffer``'s (:mod:`.nstep`). :class:`PrioritizedFrameReplayBuffer` adds
proportional prioritized replay, one priority per transition.

Frames per env: one per agent step plus one per episode end (the terminal observation's newest
frame). The ring holds ``SPARE`` (1/16) more frames than transitions, enough for episodes of 16
agent steps or more on average (an Atari life lasts longer); if episodes are shorter, the
oldest transitions, whose frames the ring has overwritten, are no longer sampled (uniform) or
get priority 0 (prioritized), so the buffer holds somewhat fewer transitions, never a wrong one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import BaseBuffer, ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from simple_game.agents.dqn.frame_store import FrameStore
from simple_game.agents.dqn.nstep import gather_samples
from simple_game.agents.dqn.prioritized import PrioritizedSampling

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecNormalize

__all__ = ["FrameReplayBuffer", "PrioritizedFrameReplayBuffer", "frame_capacity"]

SPARE = 16  # the frame ring holds 1 + 1/SPARE frames per transition slot (see the module docstring)
INDEX_BYTES = 2 * 8  # per transition: where its observation's and next observation's stacks end


def frame_capacity(slots: int, stack: int) -> int:
    """Frames in each env's ring for ``slots`` transitions per env."""
    return slots + slots // SPARE + 4 * stack


def _stack_shape(observation_space: spaces.Space) -> tuple[int, ...]:
    """``(stack, height, width)`` of a channel-first frame-stacked image space; ``ValueError`` otherwise."""
    shape = getattr(observation_space, "shape", None)
    if not isinstance(observation_space, spaces.Box) or shape is None or len(shape) != 3:
        raise ValueError(
            f"FrameReplayBuffer needs frame-stacked image observations (stack, height, width), got {observation_space}"
        )
    return tuple(int(n) for n in shape)


class FrameReplayBuffer(ReplayBuffer):
    """SB3's ``ReplayBuffer`` with each frame stored once and stacks rebuilt when sampling.

    :param n_steps: length of the n-step return (1: the ordinary one-step target).
    :param gamma: discount of the n-step return (the algorithm's ``gamma``).
    The other arguments are SB3's; ``optimize_memory_usage`` is refused (frames are shared anyway).
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        n_steps: int = 1,
        gamma: float = 0.99,
    ) -> None:
        if optimize_memory_usage:
            raise ValueError(f"optimize_memory_usage is not supported by {type(self).__name__} (it shares frames)")
        if not isinstance(n_steps, int) or n_steps < 1 or not 0.0 <= gamma <= 1.0:
            raise ValueError(f"replay_buffer_kwargs: n_steps must be a positive integer and gamma in [0, 1] "
                             f"for {type(self).__name__}")  # fmt: skip
        stack, *frame_shape = _stack_shape(observation_space)
        # SB3's ReplayBuffer.__init__ would allocate the two observation arrays this class replaces.
        BaseBuffer.__init__(self, buffer_size, observation_space, action_space, device, n_envs=n_envs)
        self.buffer_size = max(buffer_size // n_envs, 1)
        self.optimize_memory_usage = False
        self.handle_timeout_termination = handle_timeout_termination
        self.n_steps, self.gamma = int(n_steps), float(gamma)
        slots = (self.buffer_size, self.n_envs)
        self.actions = np.zeros((*slots, self.action_dim), dtype=self._maybe_cast_dtype(action_space.dtype))
        self.rewards = np.zeros(slots, dtype=np.float32)
        self.dones = np.zeros(slots, dtype=np.float32)
        self.timeouts = np.zeros(slots, dtype=np.float32)
        self.obs_ends = np.zeros(slots, dtype=np.int64)  # FrameStore index of each observation's stack
        self.next_ends = np.zeros(slots, dtype=np.int64)  # ... and of each next observation's
        dtype = np.dtype(observation_space.dtype)
        self.store = FrameStore(frame_capacity(self.buffer_size, stack), self.n_envs, stack, tuple(frame_shape), dtype)
        self.added = 0  # vector steps added so far
        self._checked_from = np.zeros(self.n_envs, dtype=np.int64)  # per env: transitions before it are broken

    @classmethod
    def memory_bytes(
        cls, observation_space: spaces.Space, action_space: spaces.Space, buffer_size: int, n_envs: int = 1
    ) -> int:
        """Bytes this buffer allocates for ``buffer_size`` transitions (the memory guard's figure)."""
        stack, *frame_shape = _stack_shape(observation_space)
        slots = max(int(buffer_size) // n_envs, 1)
        frame_bytes = int(np.prod(frame_shape)) * np.dtype(observation_space.dtype).itemsize
        action_dtype = np.dtype(ReplayBuffer._maybe_cast_dtype(action_space.dtype))
        action_bytes = int(np.prod(action_space.shape or (1,))) * action_dtype.itemsize
        per_slot = action_bytes + 3 * 4 + INDEX_BYTES
        store = FrameStore.nbytes(frame_capacity(slots, stack), n_envs, frame_bytes, stack)
        return slots * n_envs * per_slot + store

    def add(self, obs: np.ndarray, next_obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
            done: np.ndarray, infos: list[dict[str, Any]]) -> None:  # fmt: skip
        """Store one vector step: the frames the store lacks, and the transition as SB3 stores it."""
        pos = self.pos
        self.obs_ends[pos] = self.store.add(obs)
        self.next_ends[pos] = self.store.add(next_obs)
        self.actions[pos] = np.array(action).reshape((self.n_envs, self.action_dim))
        self.rewards[pos] = np.array(reward)
        self.dones[pos] = np.array(done)
        if self.handle_timeout_termination:
            self.timeouts[pos] = np.array([info.get("TimeLimit.truncated", False) for info in infos])
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True
            self.pos = 0
        self.added += 1
        self._find_broken()

    def _find_broken(self) -> None:
        """Hand each transition whose oldest frame the ring has overwritten to :meth:`_on_broken`, once.

        Stack indices grow with time, so the broken transitions are each env's oldest ones: one
        comparison per env finds that there is none (the usual case).
        """
        first = np.maximum(self._checked_from, self.added - self.buffer_size)
        envs = np.arange(self.n_envs)
        intact = self.store.intact(self.obs_ends[first % self.buffer_size, envs], envs)
        for env in np.flatnonzero(~intact).tolist():
            count = int(first[env])
            while count < self.added and not self.store.intact(
                self.obs_ends[count % self.buffer_size, env : env + 1], envs[env : env + 1]
            ):
                self._on_broken(count % self.buffer_size, env)
                count += 1
            first[env] = count
        self._checked_from = first

    def _on_broken(self, slot: int, env: int) -> None:
        """A transition can no longer be rebuilt; uniform sampling skips it by itself (see :meth:`sample`)."""

    def sample(self, batch_size: int, env: Optional[VecNormalize] = None) -> ReplayBufferSamples:
        """A uniform minibatch, drawn with the same random numbers as SB3's ``ReplayBuffer.sample``."""
        upper = self.buffer_size if self.full else self.pos
        batch_inds = np.random.randint(0, upper, size=batch_size)
        env_inds = np.random.randint(0, self.n_envs, size=batch_size)
        broken = ~self.store.intact(self.obs_ends[batch_inds, env_inds], env_inds)
        while broken.any():  # only once the ring has overflowed (episodes shorter than SPARE steps)
            n = int(broken.sum())
            batch_inds[broken] = np.random.randint(0, upper, size=n)
            env_inds[broken] = np.random.randint(0, self.n_envs, size=n)
            broken = ~self.store.intact(self.obs_ends[batch_inds, env_inds], env_inds)
        return self.gather(batch_inds, env_inds, env)

    def _get_samples(self, batch_inds: np.ndarray, env: Optional[VecNormalize] = None) -> ReplayBufferSamples:
        """SB3's hook: env indices drawn at random, as SB3 draws them."""
        env_inds = np.random.randint(0, self.n_envs, size=len(batch_inds))
        return self.gather(batch_inds, env_inds, env)

    def gather(
        self, batch_inds: np.ndarray, env_inds: np.ndarray, env: Optional[VecNormalize] = None
    ) -> ReplayBufferSamples:
        """The (n-step) samples at ``batch_inds``, ``env_inds``: the numbers of SB3's buffers."""
        if self.n_steps > 1:
            return gather_samples(self, batch_inds, env_inds, env, self._obs_at, self._next_obs_at)
        ends, next_ends = self.obs_ends[batch_inds, env_inds], self.next_ends[batch_inds, env_inds]
        obs, next_obs = self.store.pairs(ends, next_ends, env_inds)  # one read for both stacks
        return gather_samples(self, batch_inds, env_inds, env, lambda *_: obs, lambda *_: next_obs)

    def _obs_at(self, inds: np.ndarray, envs: np.ndarray) -> np.ndarray:
        return self.store.stacks(self.obs_ends[inds, envs], envs)

    def _next_obs_at(self, inds: np.ndarray, envs: np.ndarray) -> np.ndarray:
        return self.store.stacks(self.next_ends[inds, envs], envs)


class PrioritizedFrameReplayBuffer(PrioritizedSampling, FrameReplayBuffer):
    """Proportional prioritized replay (:mod:`.prioritized`) on shared frames: one priority per transition.

    Options: ``alpha``, ``beta_start``, ``eps`` as for ``PrioritizedReplayBuffer``.
    """

    def _on_broken(self, slot: int, env: int) -> None:
        """A transition that can no longer be rebuilt is never drawn again: priority 0."""
        self.tree.set(np.array([slot * self.n_envs + env]), np.zeros(1))
