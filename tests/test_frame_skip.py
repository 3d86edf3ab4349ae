"""Frame skipping that reads only the pooled screens plays exactly SB3's MaxAndSkipEnv game.

Real ALE on two games, sticky actions on, random actions: both wrappers side by side, same seeds,
compared on every agent step (pixels, reward, ends, info), through game overs and through a
frame cap that falls on a frame whose screen is not pooled.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.atari_wrappers import MaxAndSkipEnv, NoopResetEnv

from simple_game.config import EnvConfig
from simple_game.envs import make_atari_env
from simple_game.envs.atari import gym_id, register_ale
from simple_game.envs.frame_skip import MaxAndSkip


def _env(game: str, wrapper: type, max_frames: int) -> gym.Env:
    register_ale()
    env = gym.make(gym_id(game), frameskip=1, repeat_action_probability=0.25, max_num_frames_per_episode=max_frames)
    return wrapper(NoopResetEnv(env, noop_max=30), skip=4)


@pytest.mark.parametrize(("game", "max_frames"), [("breakout", 108_000), ("pong", 1_001)])
def test_fast_frame_skip_plays_the_same_game_as_sb3(game: str, max_frames: int) -> None:
    ours, sb3 = _env(game, MaxAndSkip, max_frames), _env(game, MaxAndSkipEnv, max_frames)
    assert ours._ale_env is not None  # the direct path is the one under test
    rng = np.random.default_rng(0)
    last_step_frames, steps = [], 0
    for seed in range(6):
        a, info = ours.reset(seed=seed)
        b, _ = sb3.reset(seed=seed)
        assert np.array_equal(a, b)
        done = False
        while not done:
            action = int(rng.integers(ours.action_space.n))  # type: ignore[attr-defined]
            frame_before = info["episode_frame_number"]
            got, want = ours.step(action), sb3.step(action)
            assert np.array_equal(got[0], want[0]), f"step {steps}: pixels differ"
            assert got[1:] == want[1:], f"step {steps}: {got[1:]} != {want[1:]}"
            info, done, steps = got[4], got[2] or got[3], steps + 1
        last_step_frames.append(info["episode_frame_number"] - frame_before)
    ours.close()
    sb3.close()
    # some game ended on frame 1 or 2 of its last step, a frame played on the emulator directly
    assert min(last_step_frames) <= 2, last_step_frames


def test_the_env_chain_uses_it() -> None:
    env = make_atari_env(EnvConfig(game="breakout"), training=False)
    layer, found = env, False
    while isinstance(layer, gym.Wrapper):
        found = found or (isinstance(layer, MaxAndSkip) and layer._ale_env is not None)
        layer = layer.env
    env.close()
    assert found
