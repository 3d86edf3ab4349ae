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


# --------------------------------------------------------------------------- the training switches, per backend
# Space Invaders: aliens are worth 5..30 points and a random agent loses its first life within ~200
# steps, so raw rewards above 1 and life losses both show up in a short rollout.
BACKENDS = ["dummy", "ale_vector"]


def _space_invaders(backend: str, **kw) -> EnvConfig:
    return EnvConfig(game="space_invaders", n_envs=2, backend=backend, **kw)


def _rollout(env, steps: int, seed: int = 0) -> list[tuple]:
    """(rewards, dones, infos) of ``steps`` random steps."""
    rng = np.random.default_rng(seed)
    env.reset()
    out = []
    try:
        for _ in range(steps):
            _, rewards, dones, infos = env.step(rng.integers(0, env.action_space.n, size=env.num_envs))
            out.append((rewards.copy(), dones.copy(), infos))
    finally:
        env.close()
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_clip_reward_acts_on_every_backend(backend: str) -> None:
    """Same seed, same actions: clipping changes the rewards the agent sees, not the game."""
    clipped = _rollout(make_vec_env(_space_invaders(backend, clip_reward=True), training=True, seed=4), 150)
    raw = _rollout(make_vec_env(_space_invaders(backend, clip_reward=False), training=True, seed=4), 150)
    raw_rewards = np.concatenate([r for r, _, _ in raw])
    assert raw_rewards.max() > 1  # aliens are worth 5..30
    np.testing.assert_array_equal(np.concatenate([r for r, _, _ in clipped]), np.sign(raw_rewards))
    evaluation = _rollout(make_vec_env(_space_invaders(backend, clip_reward=True), training=False, seed=4), 150)
    np.testing.assert_array_equal(np.concatenate([r for r, _, _ in evaluation]), raw_rewards)  # never clipped


def _life_losses(steps: list[tuple]) -> tuple[int, int]:
    """(life losses that ended the agent's episode, life losses the game went on through)."""
    n = len(steps[0][1])
    before = [steps[0][2][i]["lives"] for i in range(n)]
    ended = went_on = 0
    for _, dones, infos in steps:
        for i in range(n):
            lives = infos[i]["lives"]
            if "episode" not in infos[i] and lives < before[i]:
                ended += int(dones[i])
                went_on += int(not dones[i])
            if "episode" not in infos[i]:
                assert dones[i] <= (lives < before[i]), "a done within a game is a life loss"
            before[i] = lives
    return ended, went_on


@pytest.mark.parametrize("backend", BACKENDS)
def test_terminal_on_life_loss_acts_on_every_backend(backend: str) -> None:
    steps = 400
    on = _rollout(make_vec_env(_space_invaders(backend, terminal_on_life_loss=True), training=True, seed=2), steps)
    off = _rollout(make_vec_env(_space_invaders(backend, terminal_on_life_loss=False), training=True, seed=2), steps)
    evaluation = _rollout(
        make_vec_env(_space_invaders(backend, terminal_on_life_loss=True), training=False, seed=2), steps
    )
    ended, went_on = _life_losses(on)
    assert ended > 0 and went_on == 0
    for run in (off, evaluation):
        ended, went_on = _life_losses(run)
        assert ended == 0 and went_on > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_full_action_space_on_every_backend(backend: str) -> None:
    from simple_game.envs import action_meanings

    for full, n in ((False, 6), (True, 18)):
        cfg = _space_invaders(backend, full_action_space=full)
        assert len(action_meanings(cfg)) == n
        for training in (True, False):
            env = make_vec_env(cfg, training=training, seed=0)
            try:
                assert env.action_space.n == n
                assert len(env.env_method("get_action_meanings")[0]) == n
                env.reset()
                env.step(np.full(2, n - 1))  # the last action exists
            finally:
                env.close()
