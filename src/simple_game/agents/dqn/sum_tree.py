"""A sum tree: sample leaves in proportion to their priority in O(log N), vectorised over a batch.

Prioritized replay (Schaul et al. 2016) draws transition ``i`` with probability
``p_i / sum_j p_j``. A binary tree whose every node holds the sum of its two children makes
both an update and a draw cost ``log2(N)`` steps: to draw, pick ``u`` uniformly in
``[0, total)`` and walk down, going left when ``u`` is below the left child's sum, else right
(subtracting that sum). Here a whole batch walks down together, one numpy step per level.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """Priorities of ``capacity`` leaves in a flat array: node ``k`` has children ``2k`` and ``2k+1``.

    The root is node 1; leaf ``i`` is node ``leaves + i`` where ``leaves`` is ``capacity``
    rounded up to a power of two (the extra leaves keep priority 0 and are never drawn).
    Sums are float64 and recomputed from the children on every update, so they never drift.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a sum tree needs at least one leaf, got {capacity}")
        self.capacity = capacity
        self.leaves = 1 << (capacity - 1).bit_length()
        self.nodes = np.zeros(2 * self.leaves, dtype=np.float64)

    @property
    def total(self) -> float:
        """The sum of all priorities (the root)."""
        return float(self.nodes[1])

    def get(self, indices: np.ndarray) -> np.ndarray:
        """The priorities of leaves ``indices``."""
        return self.nodes[np.asarray(indices) + self.leaves]

    def set(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Set leaves ``indices`` to ``priorities`` (a repeated index keeps its last value) and fix the sums."""
        nodes = np.asarray(indices, dtype=np.int64) + self.leaves
        self.nodes[nodes] = priorities
        parents = np.unique(nodes // 2)
        while parents.size and parents[0] >= 1:
            self.nodes[parents] = self.nodes[2 * parents] + self.nodes[2 * parents + 1]
            parents = np.unique(parents // 2)

    def find(self, targets: np.ndarray) -> np.ndarray:
        """For each ``u`` in ``targets`` (in ``[0, total)``), the leaf whose cumulative range holds it.

        A step never enters an empty subtree (float rounding could otherwise send ``u`` just
        past the last positive leaf), so every leaf found has a positive priority.
        """
        u = np.asarray(targets, dtype=np.float64).copy()
        node = np.ones(u.shape, dtype=np.int64)
        while self.leaves > 1 and node[0] < self.leaves:  # all walkers are at the same depth
            left = 2 * node
            left_sum = self.nodes[left]
            go_right = (u >= left_sum) & (self.nodes[left + 1] > 0)
            u = np.where(go_right, u - left_sum, u)
            node = left + go_right
        return node - self.leaves

    def sample(self, batch_size: int, rng: np.random.RandomState | None = None) -> np.ndarray:
        """``batch_size`` leaves drawn in proportion to priority, one from each of ``batch_size`` equal strata.

        Stratifying (one draw per slice of ``[0, total)``, as in the paper) lowers the variance
        of a batch without changing each draw's probability. ``rng`` defaults to numpy's global
        generator, the one SB3 seeds.
        """
        if self.total <= 0:
            raise ValueError("cannot sample from an empty sum tree")
        uniform = (rng or np.random).random_sample(batch_size)
        targets = (np.arange(batch_size) + uniform) * (self.total / batch_size)
        return self.find(np.minimum(targets, np.nextafter(self.total, 0)))
