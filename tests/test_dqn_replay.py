"""Prioritized replay against hand-computed numbers: sum tree, sampling frequencies, weights, n-step returns."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer

import simple_game.envs  # noqa: F401  (import order)
from simple_game.agents.dqn import PrioritizedReplayBuffer, SumTree

OBS = spaces.Box(0, 255, (2,), np.uint8)
ACT = spaces.Discrete(3)
GAMMA = 0.5


def test_sum_tree_sums_and_find() -> None:
    tree = SumTree(5)  # 8 leaves, 3 of them padding
    tree.set(np.arange(5), np.array([1.0, 2.0, 3.0, 4.0, 0.0]))
    assert tree.total == 10.0
    # cumulative ranges: [0,1) -> 0, [1,3) -> 1, [3,6) -> 2, [6,10) -> 3; leaf 4 has priority 0
    assert tree.find(np.array([0.0, 0.99, 1.0, 2.99, 3.0, 5.99, 6.0, 9.99])).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    tree.set(np.array([1, 1]), np.array([5.0, 0.5]))  # a repeated index keeps its last value
    assert tree.total == 8.5 and tree.get(np.array([1]))[0] == 0.5
    assert tree.find(np.array([8.4999999999])).tolist() == [3]  # never a zero-priority leaf


def test_sum_tree_single_leaf() -> None:
    tree = SumTree(1)
    tree.set(np.array([0]), np.array([2.0]))
    assert tree.total == 2.0 and tree.sample(4).tolist() == [0, 0, 0, 0]


def test_sampling_frequencies_follow_priorities() -> None:
    """200k stratified draws from priorities 1:2:3:4 land within 1% of 0.1/0.2/0.3/0.4 (fixed seed)."""
    tree = SumTree(4)
    tree.set(np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]))
    rng = np.random.RandomState(0)
    draws = np.concatenate([tree.sample(32, rng) for _ in range(6250)])
    freq = np.bincount(draws, minlength=4) / len(draws)
    assert np.allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.01), freq


def _buffer(cls: type = PrioritizedReplayBuffer, size: int = 8, n_envs: int = 1, **kwargs: object) -> ReplayBuffer:
    return cls(size, OBS, ACT, device="cpu", n_envs=n_envs, **kwargs)


def _fill(buffer: ReplayBuffer, steps: list[tuple[float, bool, bool]]) -> None:
    """One transition per (reward, done, truncated); observation t is [t, t], the next one [t+1, t+1]."""
    for t, (reward, done, truncated) in enumerate(steps):
        buffer.add(
            np.full((1, 2), t), np.full((1, 2), t + 1), np.array([[t % 3]]), np.array([reward]),
            np.array([done]), [{"TimeLimit.truncated": truncated}],
        )  # fmt: skip


def test_importance_weights_hand_computed() -> None:
    """Priorities 1, 1, 2 (N = 3): P = 1/4, 1/4, 1/2; w = (N P)^-beta / max, beta = 1: 1, 1, 0.5."""
    buffer = _buffer(alpha=1.0, eps=1e-9)
    _fill(buffer, [(0.0, False, False)] * 3)
    buffer.update_priorities(np.arange(3), np.zeros(3, dtype=int), np.array([1.0, -1.0, 2.0]))
    np.random.seed(0)
    batch = buffer.sample_prioritized(64, beta=1.0)
    expected = np.where(batch.batch_inds == 2, 0.5, 1.0)
    assert np.allclose(batch.weights.numpy().ravel(), expected, atol=1e-6)
    assert buffer.max_priority == pytest.approx(2.0)
    half = buffer.sample_prioritized(64, beta=0.5).weights.numpy().ravel()
    assert np.allclose(sorted(set(np.round(half, 6))), [np.round(0.5**0.5, 6), 1.0])


def test_new_transitions_get_the_max_priority_and_beta_anneals() -> None:
    buffer = _buffer(alpha=0.5, eps=0.0 + 1e-6, beta_start=0.4)
    _fill(buffer, [(0.0, False, False)] * 2)
    buffer.update_priorities(np.array([0]), np.array([0]), np.array([8.0]))  # (8 + 1e-6) ** 0.5
    _fill(buffer, [(0.0, False, False)])
    assert buffer.tree.get(np.array([0, 1, 2])) == pytest.approx([8**0.5, 1.0, 8**0.5], rel=1e-6)
    assert (buffer.beta(1.0), buffer.beta(0.5), buffer.beta(0.0)) == pytest.approx((0.4, 0.7, 1.0))


def test_n_step_returns_hand_computed() -> None:
    """gamma = 0.5, n = 3. Game over at t=1, truncation at t=4, t=6 is the newest transition."""
    buffer = _buffer(n_steps=3, gamma=GAMMA)
    _fill(buffer, [(1.0, False, False), (2.0, True, False), (4.0, False, False), (8.0, False, False),
                   (16.0, True, True), (32.0, False, False), (64.0, False, False)])  # fmt: skip
    s = buffer.gather(np.arange(7), np.zeros(7, dtype=int))
    # t=0: 1 + 0.5*2, game over at t=1: no bootstrap (done), discount 0.5^2
    # t=1: 2, done. t=2: 4 + 0.5*8 + 0.25*16, truncated at t=4: bootstrap from obs 5 with 0.5^3
    # t=3: 8 + 0.5*16, truncated: bootstrap from 5 with 0.25. t=4: 16, bootstrap from 5 with 0.5
    # t=5: 32 + 0.5*64 and stop at the newest (t=6): bootstrap from 7 with 0.25. t=6: 64, from 7, 0.5
    assert s.rewards.ravel().tolist() == [2.0, 2.0, 12.0, 16.0, 16.0, 64.0, 64.0]
    assert s.dones.ravel().tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert s.discounts.ravel().tolist() == [0.25, 0.5, 0.125, 0.25, 0.5, 0.25, 0.5]
    assert s.next_observations[:, 0].tolist() == [2, 2, 5, 5, 5, 7, 7]


@pytest.mark.parametrize("n_steps", [1, 3])
def test_gather_equals_sb3_buffers(n_steps: int) -> None:
    """For the same stored data and indices: SB3's ReplayBuffer (n = 1) or NStepReplayBuffer (n = 3), wrapped."""
    rng = np.random.RandomState(1)
    steps = [(float(rng.randint(5)), bool(rng.rand() < 0.2), False) for _ in range(19)]
    steps = [(r, d, d and rng.rand() < 0.5) for r, d, _ in steps]
    ours = _buffer(size=8, n_steps=n_steps, gamma=0.9)
    sb3 = _buffer(NStepReplayBuffer, size=8, n_steps=n_steps, gamma=0.9) if n_steps > 1 else _buffer(ReplayBuffer, 8)
    _fill(ours, steps)
    _fill(sb3, steps)
    inds = np.arange(8)
    np.random.seed(5)  # SB3 draws the env indices (all 0 with one env)
    expected = sb3._get_samples(inds)
    got = ours.gather(inds, np.zeros(8, dtype=int))
    for name in ("observations", "actions", "next_observations", "dones", "rewards"):
        assert np.allclose(getattr(got, name).numpy(), getattr(expected, name).numpy()), name
    if n_steps > 1:
        assert np.allclose(got.discounts.numpy(), expected.discounts.numpy())


def test_priorities_survive_pickle() -> None:
    buffer = _buffer(n_envs=2)
    for t in range(3):
        buffer.add(np.zeros((2, 2)), np.ones((2, 2)), np.zeros((2, 1)), np.zeros(2), np.zeros(2), [{}, {}])
    buffer.update_priorities(np.array([0, 2]), np.array([1, 0]), np.array([3.0, 0.5]))
    again = pickle.loads(pickle.dumps(buffer))
    assert np.array_equal(again.tree.nodes, buffer.tree.nodes) and again.max_priority == buffer.max_priority
    # leaf = position * n_envs + env
    assert again.tree.get(np.array([1, 4])) == pytest.approx([(3.0 + 1e-6) ** 0.6, (0.5 + 1e-6) ** 0.6])


def test_optimize_memory_usage_refused() -> None:
    with pytest.raises(ValueError, match="optimize_memory_usage"):
        _buffer(optimize_memory_usage=True, handle_timeout_termination=False)
