"""Reward shaping (env.reward_shaping): training rewards minus the penalties, on every backend.

Space Invaders: a random agent loses a life within ~200 agent steps and its 3-life game ends
within ~500, so every kind of step (plain, life lost mid-game, last life lost) shows up quickly.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from simple_game.config import EnvConfig
from simple_game.envs import SHAPED_RETURN_KEY, RewardShaping, make_eval_env, make_train_env, make_vec_env
from simple_game.envs.shaping import lives_lost

LIVING, LIFE_LOSS = 0.001, 1.0
SHAPING = {"living_penalty": LIVING, "life_loss_penalty": LIFE_LOSS}


def _cfg(backend: str, **kw) -> EnvConfig:
    return EnvConfig(game="space_invaders", n_envs=2, backend=backend, reward_shaping=SHAPING, **kw)


def _expected_loss(before: list[int], info: dict, i: int, backend: str) -> bool:
    """The test's own reading of the lives counter (``before`` is updated in place)."""
    lives = info["lives"]
    if "episode" in info:  # game over
        before[i] = -1  # the next game's first step sets it
        if backend == "dummy":  # SB3's infos hold the finished game's last lives count ...
            return lives == 0 and not info["TimeLimit.truncated"]
        return not info["TimeLimit.truncated"]  # ... the C++ backend's the next game's: Space Invaders ends at 0
    lost = before[i] >= 0 and lives < before[i]
    before[i] = lives
    return lost


@pytest.mark.parametrize(
    "backend, clip, terminal",
    [("dummy", True, True), ("dummy", False, False), ("ale_vector", True, True), ("ale_vector", False, False)],
)
def test_shaped_rewards_are_the_rewards_minus_the_penalties(backend: str, clip: bool, terminal: bool) -> None:
    """Twin envs, same seed and actions: the shaped one sees the unshaped rewards minus 0.001 every
    step and minus 1 at each life lost; the game score in info["episode"]["r"] is the same."""
    cfg = _cfg(backend, clip_reward=clip, terminal_on_life_loss=terminal)
    shaped, plain = make_train_env(cfg, seed=7), make_vec_env(cfg, training=True, seed=7)
    assert isinstance(shaped, RewardShaping) and not isinstance(plain, RewardShaping)
    rng = np.random.default_rng(1)
    shaped.reset(), plain.reset()
    before, game_sum, losses, games = [-1, -1], np.zeros(2), 0, 0
    try:
        for _ in range(3000):
            actions = rng.integers(0, shaped.action_space.n, size=2)
            obs, rewards, dones, infos = shaped.step(actions)
            ref_obs, ref_rewards, ref_dones, ref_infos = plain.step(actions)
            np.testing.assert_array_equal(obs, ref_obs)
            np.testing.assert_array_equal(dones, ref_dones)
            lost = np.array([_expected_loss(before, ref_infos[i], i, backend) for i in range(2)])
            losses += int(lost.sum())
            np.testing.assert_allclose(rewards, ref_rewards - LIVING - LIFE_LOSS * lost, rtol=0, atol=1e-6)
            game_sum += rewards
            for i in np.flatnonzero([("episode" in x) for x in ref_infos]):
                episode, ref_episode = infos[i]["episode"], ref_infos[i]["episode"]
                assert episode["r"] == ref_episode["r"] and episode["l"] == ref_episode["l"]  # the raw game score
                assert SHAPED_RETURN_KEY not in ref_episode
                assert episode[SHAPED_RETURN_KEY] == pytest.approx(game_sum[i], abs=1e-3)
                assert episode[SHAPED_RETURN_KEY] < episode["r"] or not clip
                game_sum[i], games = 0.0, games + 1
            if games >= 2:
                break
    finally:
        shaped.close(), plain.close()
    assert games >= 2 and losses >= 2 * 3  # every life of two games, the last ones at game over


@pytest.mark.parametrize("backend", ["dummy", "ale_vector"])
def test_evaluation_envs_are_never_shaped(backend: str) -> None:
    cfg = _cfg(backend)
    for env in (make_eval_env(cfg, seed=0, n_envs=2), make_vec_env(cfg, training=False, seed=0)):
        layer = env
        while layer is not None:
            assert not isinstance(layer, RewardShaping)
            layer = getattr(layer, "venv", None)
        env.reset()
        rng = np.random.default_rng(0)
        try:
            for _ in range(100):
                _, rewards, _, _ = env.step(rng.integers(0, env.action_space.n, size=2))
                np.testing.assert_array_equal(rewards, np.round(rewards))  # whole points, no -0.001
        finally:
            env.close()


def test_no_shaping_by_default() -> None:
    cfg = EnvConfig(game="breakout", n_envs=1, backend="dummy")
    assert not cfg.reward_shaping.active
    env = make_train_env(cfg, seed=0)
    try:
        assert not isinstance(env, RewardShaping)
    finally:
        env.close()


def test_lives_lost_rule() -> None:
    before = np.array([3, 3, 0, -1, 1, 1, 2])
    lives = np.array([2, 4, 0, 3, 0, 3, 2])
    game_over = np.array([False, False, True, False, True, True, False])
    truncated = np.array([False, False, False, False, False, True, False])
    # lost one; bonus life; Pong-like game over without lives; first step of a game; last life;
    # cut off by the frame limit; nothing happened
    assert lives_lost(before, lives, game_over, truncated).tolist() == [True, False, False, False, True, False, False]


def test_shaping_needs_monitor_episodes_and_sane_penalties() -> None:
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    bare = DummyVecEnv([lambda: gym.make("CartPole-v1")])
    with pytest.raises(ValueError, match="Monitor"):
        RewardShaping(bare, living_penalty=0.1)
    monitored = make_vec_env(EnvConfig(game="breakout", n_envs=1, backend="dummy"), training=True, seed=0)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite and >= 0"):
            RewardShaping(monitored, living_penalty=bad)
    monitored.close()


def test_shaped_return_callback_logs_the_mean_of_the_last_games() -> None:
    from stable_baselines3.common.logger import Logger

    from simple_game.callbacks.shaping import SHAPED_RETURN_METRIC, ShapedReturnCallback

    logger = Logger(folder=None, output_formats=[])
    callback = ShapedReturnCallback()
    model = SimpleNamespace(logger=logger, get_env=lambda: None, num_timesteps=0, _stats_window_size=2)
    callback.init_callback(model)  # type: ignore[arg-type]
    game = {"r": 5.0, "l": 10, "t": 0.0}
    for infos, mean in (
        ([{"lives": 3}], None),  # no game finished yet: nothing logged
        ([{"episode": {**game, SHAPED_RETURN_KEY: -1.0}}, {"episode": dict(game)}], -1.0),  # unshaped: skipped
        ([{"episode": {**game, SHAPED_RETURN_KEY: 3.0}}], 1.0),
        ([{"episode": {**game, SHAPED_RETURN_KEY: 5.0}}], 4.0),  # window of 2 games
    ):
        callback.update_locals({"infos": infos})
        assert callback.on_step()
        assert logger.name_to_value.get(SHAPED_RETURN_METRIC) == mean
