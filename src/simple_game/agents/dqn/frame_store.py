"""Frames stored once, stacks rebuilt on demand: the storage under :class:`~.frame_replay.FrameReplayBuffer`.

An Atari observation is a stack of the last 4 grayscale 84x84 frames, so consecutive
observations share 3 of their 4 frames, and a transition's next observation is the following
transition's observation. SB3's buffer stores both stacks of every transition: 8 frames for 1
new one. Here each env has a ring of frames, each frame written once, and a stack is named by
the ring index of its newest frame: the stack ending at index ``j`` is frames
``j-3 .. j``, of which only the newest ``depth[j]`` belong to its episode; the older ones
are zeros, as ``VecFrameStack`` pads the stack after a reset (``[0, 0, 0, f0]``, then
``[0, 0, f0, f1]``, ...), so no frame of the previous episode enters a stack.

:meth:`FrameStore.add` is given whole stacks and decides from their content alone how to store
them (the env, a resume or a test may hand it anything, and nothing is ever assumed):

- the same stack as the env's newest one (an observation that was the previous transition's
  next observation): stored as that index, nothing is written;
- the newest stack shifted by one frame (``stack[:-1] == newest[1:]``): one frame is written;
- anything else (the first observation of an episode, a resume, unrelated data): a new
  segment, its leading all-zero frames taken as padding and the others written.

So a rebuilt stack always equals, byte for byte, the stack that was added (a padding frame and
a black frame are both zeros). In training that is 1 frame per agent step plus 1 per episode
end (the terminal observation's frame, then the reset frame).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FrameStore"]


class FrameStore:
    """Per-env rings of ``capacity`` frames of shape ``frame_shape``; stacks of ``stack`` frames.

    Indices are absolute (the n-th frame written for an env is index n); index ``i`` lives in
    ring slot ``i % capacity``, so a stack stays intact until frames written after it wrap
    around onto its oldest frame (:meth:`intact`).
    """

    def __init__(self, capacity: int, n_envs: int, stack: int, frame_shape: tuple[int, ...], dtype: np.dtype) -> None:
        if capacity < 2 * stack:
            raise ValueError(f"a frame store needs room for two stacks, got capacity {capacity} for stack {stack}")
        self.capacity, self.n_envs, self.stack = int(capacity), int(n_envs), int(stack)
        self.frames = np.zeros((self.capacity, self.n_envs, *frame_shape), dtype=dtype)
        self.depth = np.zeros((self.capacity, self.n_envs), dtype=np.uint8)  # frames of its episode in the stack
        self.written = np.zeros(self.n_envs, dtype=np.int64)  # frames written per env so far
        # Each env's newest stack as it was added (what stacks(written - 1) rebuilds), kept so that
        # add() compares with it without rebuilding it.
        self.newest = np.zeros((self.n_envs, self.stack, *frame_shape), dtype=dtype)
        self._envs = np.arange(self.n_envs)
        self._offsets = np.arange(1 - self.stack, 1)  # oldest .. newest, relative to the stack's end

    @staticmethod
    def nbytes(capacity: int, n_envs: int, frame_bytes: int, stack: int) -> int:
        """Bytes of a store: the frames, the depths, the counters and each env's newest stack."""
        return capacity * n_envs * (frame_bytes + 1) + n_envs * (8 + stack * frame_bytes)

    def stacks(self, ends: np.ndarray, envs: np.ndarray) -> np.ndarray:
        """The stacks ending at absolute indices ``ends`` of ``envs``: ``(batch, stack, *frame_shape)``."""
        ends = np.asarray(ends, dtype=np.int64)
        envs = np.asarray(envs, dtype=np.int64)
        rows = ((ends[:, None] + self._offsets) % self.capacity) * self.n_envs + envs[:, None]
        flat = self.frames.reshape(self.capacity * self.n_envs, *self.frames.shape[2:])  # a view
        out = np.take(flat, rows.ravel(), axis=0).reshape(len(ends), self.stack, *self.frames.shape[2:])
        depth = self.depth[ends % self.capacity, envs].astype(np.int64)
        padding = np.arange(self.stack)[None, :] < (self.stack - depth)[:, None]
        if padding.any():
            out[padding] = 0
        return out

    def pairs(self, ends: np.ndarray, next_ends: np.ndarray, envs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`stacks` at ``ends`` and at ``next_ends``, read as one window of ``stack + 1`` frames when they chain.

        A next observation is its observation shifted by one frame (index ``+ 1``, one more frame
        of the episode), so both stacks are views of the same frames and their zero padding is
        at the same frames: 5 frames read per sample instead of 8.
        """
        ends = np.asarray(ends, dtype=np.int64)
        next_ends = np.asarray(next_ends, dtype=np.int64)
        envs = np.asarray(envs, dtype=np.int64)
        depth = self.depth[ends % self.capacity, envs].astype(np.int64)
        next_depth = self.depth[next_ends % self.capacity, envs].astype(np.int64)
        if not np.all((next_ends == ends + 1) & (next_depth == np.minimum(depth + 1, self.stack))):
            return self.stacks(ends, envs), self.stacks(next_ends, envs)
        offsets = np.arange(-self.stack + 1, 2)
        rows = ((ends[:, None] + offsets) % self.capacity) * self.n_envs + envs[:, None]
        flat = self.frames.reshape(self.capacity * self.n_envs, *self.frames.shape[2:])
        window = np.take(flat, rows.ravel(), axis=0).reshape(len(ends), self.stack + 1, *self.frames.shape[2:])
        padding = np.arange(self.stack + 1)[None, :] < (self.stack - depth)[:, None]
        if padding.any():
            window[padding] = 0
        return window[:, :-1], window[:, 1:]

    def intact(self, ends: np.ndarray, envs: np.ndarray) -> np.ndarray:
        """Whether every frame the stacks ending at ``ends`` may use is still in the ring."""
        return np.asarray(ends) - (self.stack - 1) >= self.written[np.asarray(envs)] - self.capacity

    def add(self, stacks: np.ndarray) -> np.ndarray:
        """Store one stack per env (``(n_envs, stack, *frame_shape)``); the absolute index naming each."""
        stacks = np.asarray(stacks)
        newest = self.written - 1
        started = self.written > 0
        same = started & _rows_equal(stacks, self.newest)
        shifted = started & ~same & _rows_equal(stacks[:, :-1], self.newest[:, 1:])
        out = newest.copy()
        grow = np.flatnonzero(shifted)
        if grow.size:
            depth = np.minimum(self.depth[newest[grow] % self.capacity, grow].astype(np.int64) + 1, self.stack)
            slots = self.written[grow] % self.capacity
            self.frames[slots, grow] = stacks[grow, -1]
            self.depth[slots, grow] = depth
            self.written[grow] += 1
            out[grow] = self.written[grow] - 1
        for env in np.flatnonzero(~same & ~shifted).tolist():
            out[env] = self._new_segment(env, stacks[env])
        changed = np.flatnonzero(~same)
        self.newest[changed] = stacks[changed]
        return out

    def _new_segment(self, env: int, stack: np.ndarray) -> int:
        """Write a stack that continues nothing stored: its frames after the leading all-zero ones."""
        nonzero = stack.reshape(self.stack, -1).any(axis=1)
        first = int(nonzero.argmax()) if nonzero.any() else self.stack - 1
        count = self.stack - first
        slots = (self.written[env] + np.arange(count)) % self.capacity
        self.frames[slots, env] = stack[first:]
        self.depth[slots, env] = np.arange(1, count + 1)
        self.written[env] += count
        return int(self.written[env] - 1)


def _rows_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a[i] == b[i]`` everywhere, per leading row (``True`` for empty rows)."""
    if a.shape[1] == 0:
        return np.ones(len(a), dtype=bool)
    return (a == b).reshape(len(a), -1).all(axis=1)
