"""The shared-frame replay buffer: stacks rebuilt from real ALE play equal VecFrameStack's, sampling equals SB3's.

Every comparison is against SB3's own ``ReplayBuffer`` / ``NStepReplayBuffer`` filled with the same
transitions (as SB3's ``_store_transition`` stores them: a done env's next observation is its
``terminal_observation``), so "equal" means equal to what SB3 would have trained on.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import DQN as SB3DQN
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer

from simple_game.agents.dqn import (
    DQN,
    FrameReplayBuffer,
    PrioritizedFrameReplayBuffer,
    PrioritizedReplayBuffer,
    replay_memory_bytes,
)
from simple_game.config import load_config, model_kwargs
from simple_game.envs.vector import ale_vector_available, make_train_env

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ATARI = spaces.Box(0, 255, (4, 84, 84), np.uint8)
ACTIONS = spaces.Discrete(4)
BACKENDS = ["dummy", "ale_vector"] if ale_vector_available() else ["dummy"]


def _play(backend: str, steps: int, buffers: list[ReplayBuffer], n_envs: int = 2) -> tuple[np.ndarray, int]:
    """Random play on Breakout (lives end episodes, games capped at 800 frames); every buffer gets each step.

    Returns the dones, ``(steps, n_envs)``, and how many games ended by a game over (not the cap).
    """
    sets = [f"env.backend={backend}", f"env.n_envs={n_envs}", "env.max_frames_per_episode=800"]
    cfg = load_config(CONFIGS / "dqn_breakout.yaml", sets)
    env = make_train_env(cfg.env, seed=7)
    rng = np.random.RandomState(0)
    obs, all_dones, game_overs = env.reset(), [], 0
    for _ in range(steps):
        actions = rng.randint(env.action_space.n, size=n_envs)
        new_obs, rewards, dones, infos = env.step(actions)
        next_obs = np.array(new_obs)
        for i, done in enumerate(dones):
            if done and infos[i].get("terminal_observation") is not None:
                next_obs[i] = infos[i]["terminal_observation"]
        for buffer in buffers:
            buffer.add(np.array(obs), next_obs, actions.reshape(-1, 1), rewards, dones, infos)
        obs = new_obs
        all_dones.append(dones)
        game_overs += sum("episode" in info and not info.get("TimeLimit.truncated") for info in infos)
    env.close()
    return np.array(all_dones), game_overs


def _assert_same_storage(ours: FrameReplayBuffer, sb3: ReplayBuffer) -> None:
    """Every stored (slot, env): the rebuilt stacks and the stored scalars equal SB3's arrays."""
    slots = np.repeat(np.arange(sb3.size()), sb3.n_envs)
    envs = np.tile(np.arange(sb3.n_envs), sb3.size())
    assert np.array_equal(ours._obs_at(slots, envs), sb3.observations[slots, envs])
    assert np.array_equal(ours._next_obs_at(slots, envs), sb3.next_observations[slots, envs])
    # Sampling reads both stacks as one window of 5 frames: the same stacks.
    obs, next_obs = ours.store.pairs(ours.obs_ends[slots, envs], ours.next_ends[slots, envs], envs)
    assert np.array_equal(obs, sb3.observations[slots, envs])
    assert np.array_equal(next_obs, sb3.next_observations[slots, envs])
    for name in ("actions", "rewards", "dones", "timeouts"):
        assert np.array_equal(getattr(ours, name), getattr(sb3, name)), name


@pytest.mark.parametrize("backend", BACKENDS)
def test_stacks_rebuilt_equal_vecframestack_across_episode_starts(backend: str) -> None:
    """600 steps of 2 envs: lost lives, game overs and time-limit cuts; one buffer holds all, one wraps twice."""
    big, small = FrameReplayBuffer(1200, ATARI, ACTIONS, "cpu", 2), FrameReplayBuffer(400, ATARI, ACTIONS, "cpu", 2)
    sb3_big, sb3_small = (ReplayBuffer(n, ATARI, ACTIONS, "cpu", 2) for n in (1200, 400))
    dones, game_overs = _play(backend, 600, [big, small, sb3_big, sb3_small])
    assert dones.sum() >= 10 and sb3_big.timeouts.sum() >= 1 and game_overs >= 1  # lives, cuts, game overs
    _assert_same_storage(big, sb3_big)
    _assert_same_storage(small, sb3_small)
    # An episode's first stack holds its first frame only, zero padding before it (VecFrameStack's reset).
    t, e = np.argwhere(dones[:-1])[0]
    first = sb3_big.observations[t + 1, e]
    assert not first[:3].any() and first[3].any()
    assert np.array_equal(big._obs_at(np.array([t + 1]), np.array([e]))[0], first)
    # One frame per agent step and one per episode end, not 8 per transition.
    assert big.store.written.sum() <= 600 * 2 + dones.sum() + 2


def _random_fill(buffers: list[ReplayBuffer], steps: int, n_envs: int, seed: int) -> None:
    """Frame-stack-shaped random play: continuing stacks, episode starts (zero padding), truncations."""
    rng = np.random.RandomState(seed)
    shape = (2, 3)
    stacks = np.zeros((n_envs, 4, *shape), np.uint8)
    stacks[:, -1] = rng.randint(1, 255, (n_envs, *shape))
    for _ in range(steps):
        dones = rng.rand(n_envs) < 0.15
        truncated = dones & (rng.rand(n_envs) < 0.4)
        next_stacks = np.concatenate([stacks[:, 1:], rng.randint(0, 255, (n_envs, 1, *shape)).astype(np.uint8)], 1)
        infos = [{"TimeLimit.truncated": bool(x)} for x in truncated]
        actions, rewards = rng.randint(3, size=(n_envs, 1)), rng.randint(-1, 2, n_envs)
        for buffer in buffers:
            buffer.add(stacks, next_stacks, actions, rewards, dones, infos)
        stacks = next_stacks.copy()
        stacks[dones] = 0
        stacks[dones, -1] = rng.randint(1, 255, (int(dones.sum()), *shape))


SMALL = spaces.Box(0, 255, (4, 2, 3), np.uint8)


@pytest.mark.parametrize("n_steps", [1, 3])
def test_sampling_equals_sb3_for_the_same_transitions(n_steps: int) -> None:
    """Same stored data, same seed: ``sample`` returns SB3's minibatch (``NStepReplayBuffer``'s for n = 3)."""
    ours = FrameReplayBuffer(40, SMALL, ACTIONS, "cpu", 2, n_steps=n_steps, gamma=0.9)
    sb3 = (
        NStepReplayBuffer(40, SMALL, ACTIONS, "cpu", 2, n_steps=n_steps, gamma=0.9)
        if n_steps > 1
        else ReplayBuffer(40, SMALL, ACTIONS, "cpu", 2)
    )
    _random_fill([ours, sb3], 55, n_envs=2, seed=n_steps)  # wraps around the 20 slots per env
    for seed in range(5):
        np.random.seed(seed)
        got = ours.sample(32)
        np.random.seed(seed)
        expected = sb3.sample(32)
        for name in ("observations", "actions", "next_observations", "dones", "rewards"):
            assert th.equal(getattr(got, name), getattr(expected, name)), name
        if n_steps > 1:
            assert th.equal(got.discounts, expected.discounts)


def test_unrelated_stacks_are_stored_whole() -> None:
    """Stacks that continue nothing (random data) are kept exactly, up to 4 frames each."""
    rng = np.random.RandomState(3)
    ours, sb3 = FrameReplayBuffer(10, SMALL, ACTIONS, "cpu", 1), ReplayBuffer(10, SMALL, ACTIONS, "cpu", 1)
    for _ in range(13):
        obs, next_obs = (rng.randint(0, 3, (1, 4, 2, 3)).astype(np.uint8) for _ in range(2))
        for buffer in (ours, sb3):
            buffer.add(obs, next_obs, np.zeros((1, 1)), np.zeros(1), np.zeros(1), [{}])
    assert ours.store.capacity < 13 * 8  # the ring wrapped: the oldest transitions lost their frames
    live = np.flatnonzero(ours.store.intact(ours.obs_ends[:, 0], np.zeros(10, dtype=int)))
    assert 0 < len(live) < 10
    envs = np.zeros(len(live), dtype=int)
    assert np.array_equal(ours._obs_at(live, envs), sb3.observations[live, envs])
    assert np.array_equal(ours._next_obs_at(live, envs), sb3.next_observations[live, envs])
    np.random.seed(0)
    batch = ours.sample(64)  # draws only transitions that can still be rebuilt
    stored = {sb3.observations[i, 0].tobytes() for i in live}
    assert all(o.numpy().tobytes() in stored for o in batch.observations)


def test_prioritized_frames_broken_transitions_get_priority_zero_and_pickle() -> None:
    """With a done at every step the ring overflows; broken transitions leave the sum tree. Pickle keeps it all."""
    buffer = PrioritizedFrameReplayBuffer(64, SMALL, ACTIONS, "cpu", 2, alpha=0.6)
    rng = np.random.RandomState(0)
    for _ in range(80):
        obs = np.zeros((2, 4, 2, 3), np.uint8)
        obs[:, -1] = rng.randint(1, 255, (2, 2, 3))
        next_obs = np.concatenate([obs[:, 1:], rng.randint(1, 255, (2, 1, 2, 3)).astype(np.uint8)], 1)
        buffer.add(obs, next_obs, np.zeros((2, 1)), np.ones(2), np.ones(2), [{}, {}])
    slots, envs = np.repeat(np.arange(32), 2), np.tile(np.arange(2), 32)
    intact = buffer.store.intact(buffer.obs_ends[slots, envs], envs)
    assert not intact.all() and intact.any()
    priorities = buffer.tree.get(slots * 2 + envs)
    assert np.array_equal(priorities > 0, intact)
    again = pickle.loads(pickle.dumps(buffer))
    assert np.array_equal(again.tree.nodes, buffer.tree.nodes)
    assert np.array_equal(again.store.frames, buffer.store.frames)
    assert np.array_equal(again._obs_at(slots, envs), buffer._obs_at(slots, envs))


def test_memory_bytes_true_size_and_the_issues_figure() -> None:
    buffer = FrameReplayBuffer(1000, ATARI, ACTIONS, "cpu", 2)
    arrays = [buffer.actions, buffer.rewards, buffer.dones, buffer.timeouts, buffer.obs_ends, buffer.next_ends]
    arrays += [buffer.store.frames, buffer.store.depth, buffer.store.written, buffer.store.newest]
    assert replay_memory_bytes(ATARI, ACTIONS, 1000, 2, False, FrameReplayBuffer) == sum(a.nbytes for a in arrays)
    million = replay_memory_bytes(ATARI, ACTIONS, 1_000_000, 1, False, FrameReplayBuffer)
    assert 7.0e9 < million < 7.6e9  # against 56.5 GB for SB3's buffer
    per = replay_memory_bytes(ATARI, ACTIONS, 1000, 1, False, PrioritizedFrameReplayBuffer)
    assert per == replay_memory_bytes(ATARI, ACTIONS, 1000, 1, False, FrameReplayBuffer) + 2 * 1024 * 8


def _train(cls: type, extra: dict, steps: int = 200) -> object:
    cfg = load_config(CONFIGS / "dqn_breakout.yaml", ["env.backend=dummy", "env.n_envs=2"])
    kwargs = model_kwargs(cfg)
    kwargs.update(buffer_size=400, learning_starts=64, batch_size=8, train_freq=4, target_update_interval=100)
    env = make_train_env(cfg.env, seed=3)
    model = cls("CnnPolicy", env, seed=3, device="cpu", **{**kwargs, **extra})
    model.learn(total_timesteps=steps)
    env.close()
    return model


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({"replay_buffer_class": FrameReplayBuffer}, {}),
        ({"replay_buffer_class": FrameReplayBuffer, "n_steps": 3}, {"n_steps": 3}),
        ({"replay_buffer_class": PrioritizedFrameReplayBuffer}, {"replay_buffer_class": PrioritizedReplayBuffer}),
    ],
    ids=["uniform", "n_step", "prioritized"],
)
def test_dqn_trains_bit_identically_on_shared_frames(ours: dict, theirs: dict) -> None:
    """2 envs, a buffer that wraps: DQN on shared frames ends with SB3-storage DQN's weights, bit for bit."""
    a = _train(DQN, ours)
    b = _train(DQN if "replay_buffer_class" in theirs else SB3DQN, theirs)
    assert type(a.replay_buffer).__name__ == ours["replay_buffer_class"].__name__ and a._n_updates > 0
    for x, y in zip(a.policy.parameters(), b.policy.parameters()):
        assert th.equal(x, y)
