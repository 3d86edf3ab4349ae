"""Env builders: shapes, dtypes, channel-first, and episode statistics that are true game scores."""

from __future__ import annotations

import numpy as np
import pytest

from simple_game.config import EnvConfig
from simple_game.envs import make_atari_env, make_vec_env


def _cfg(**kw) -> EnvConfig:
    return EnvConfig(game="breakout", **kw)


@pytest.mark.parametrize("backend", ["dummy", "subproc"])
@pytest.mark.parametrize("stack", [4, 8])
def test_vec_env_shapes(backend: str, stack: int) -> None:
    env = make_vec_env(_cfg(frame_stack=stack, n_envs=2, backend=backend), training=True, seed=0)
    try:
        obs = env.reset()
        assert obs.shape == (2, stack, 84, 84) and obs.dtype == np.uint8
        assert env.observation_space.shape == (stack, 84, 84)
        obs, rewards, dones, infos = env.step(np.array([1, 1]))
        assert obs.shape == (2, stack, 84, 84) and len(infos) == 2
    finally:
        env.close()


def _play_whole_game(training: bool, seed: int = 3) -> tuple[float, float, list[float], int]:
    """Random play on one env until the game ends; returns Monitor score, hand sum of raw rewards,
    the rewards the agent saw, and the number of agent episodes (life losses end them in training)."""
    env = make_atari_env(_cfg(), training=training, seed=seed)
    monitor = env
    while monitor.__class__.__name__ != "Monitor":
        monitor = monitor.env
    raw_rewards: list[float] = []
    original_step = monitor.env.step

    def spy(action):
        out = original_step(action)
        raw_rewards.append(float(out[1]))
        return out

    monitor.env.step = spy
    env.reset(seed=seed)
    agent_rewards: list[float] = []
    episodes, rng = 1, np.random.default_rng(seed)
    try:
        for _ in range(20_000):
            _, r, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
            agent_rewards.append(float(r))
            if "episode" in info:
                return float(info["episode"]["r"]), sum(raw_rewards), agent_rewards, episodes
            if term or trunc:
                episodes += 1
                env.reset()
    finally:
        env.close()
    raise AssertionError("game did not end")


def test_training_episode_stats_are_raw_full_game_scores() -> None:
    score, hand_sum, agent_rewards, agent_episodes = _play_whole_game(training=True)
    assert score == hand_sum
    assert agent_episodes == 5  # Breakout: 5 lives, each life loss ends a training episode
    assert set(agent_rewards) <= {-1.0, 0.0, 1.0}  # clipped for learning


def test_eval_env_plays_whole_game_unclipped() -> None:
    score, hand_sum, agent_rewards, agent_episodes = _play_whole_game(training=False, seed=5)
    assert agent_episodes == 1
    assert score == hand_sum == sum(agent_rewards)


def test_episode_info_reaches_vec_env_infos() -> None:
    env = make_vec_env(_cfg(n_envs=2, backend="dummy"), training=True, seed=1)
    rng = np.random.default_rng(0)
    env.reset()
    scores = []
    for _ in range(3000):
        _, _, _, infos = env.step(rng.integers(4, size=2))
        scores += [i["episode"]["r"] for i in infos if "episode" in i]
        if scores:
            break
    env.close()
    assert scores and all(s >= 0 for s in scores)


def test_sticky_actions_per_protocol() -> None:
    assert EnvConfig(game="pong").sticky_probability == 0.0
    assert EnvConfig(game="pong", protocol="modern").sticky_probability == 0.25
    env = make_atari_env(EnvConfig(game="pong", protocol="modern"), training=False)
    try:
        assert (
            env.unwrapped._repeat_action_probability == pytest.approx(0.25)
            if hasattr(env.unwrapped, "_repeat_action_probability")
            else True
        )
        assert env.unwrapped.ale.getFloat("repeat_action_probability") == pytest.approx(0.25)
    finally:
        env.close()
