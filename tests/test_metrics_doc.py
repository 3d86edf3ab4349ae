"""Every metric the algorithms really log must be explained in docs/metrics.md.

Each test trains PPO, A2C, DQN or QR-DQN for a few hundred steps on a tiny Atari
setup (Breakout, 2 envs, 4 stacked frames) with a logger that records every key
written, then fails listing the keys that docs/metrics.md does not mention in
backticks. If an SB3 upgrade adds a metric, this test tells you to document it.

``collect_logged_keys`` works with any SB3 model, so the same check can later run on
simple_game's own training.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
METRICS_DOC = REPO / "docs" / "metrics.md"

# Keys written only in settings the tiny runs do not exercise, or by our own callbacks.
# They must be documented too.
ALWAYS_DOCUMENTED = [
    # simple_game's evaluation callback (callbacks.py)
    "eval/mean_score",
    "eval/std_score",
    "eval/mean_length",
    "eval/best_mean_score",
    # simple_game's reward-shaping callback (callbacks/shaping.py), only with env.reward_shaping
    "rollout/shaped_return_mean",
    # simple_game's DQN (agents/dqn/algorithm.py); the tiny runs below train SB3's classes
    "train/q_mean",
    "train/q_max",
    "train/td_error_mean",
    "train/grad_norm",
    "train/per_beta",  # with PrioritizedReplayBuffer only
    "train/per_weight_mean",
    # SB3 keys that appear only with some settings
    "rollout/success_rate",  # envs that report info["is_success"]
    "train/clip_range_vf",  # PPO with clip_range_vf set
    "train/std",  # continuous actions (never on Atari)
    "eval/mean_reward",
    "eval/mean_ep_length",  # SB3's own EvalCallback
]


def documented_keys(doc: Path = METRICS_DOC) -> set[str]:
    """Every ``section/name`` written in backticks in the doc."""
    return set(re.findall(r"`([a-z_]+/[a-z0-9_]+)`", doc.read_text(encoding="utf-8")))


def collect_logged_keys(model: Any, total_timesteps: int, log_interval: int = 1) -> dict[str, tuple[str, ...]]:
    """Train ``model`` and return {key: output formats it is excluded from} for every logged key.

    Replaces the model's logger with one whose only output records keys, so nothing is
    printed or written to disk. ``log_interval=1`` dumps after every rollout (on-policy)
    or every episode (off-policy), so even a short run logs everything it can.
    """
    from stable_baselines3.common.logger import KVWriter, Logger

    class KeyCollector(KVWriter):
        def __init__(self) -> None:
            self.keys: dict[str, tuple[str, ...]] = {}

        def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
            for key in key_values:
                self.keys[key] = tuple(key_excluded.get(key) or ())

        def close(self) -> None:
            pass

    collector = KeyCollector()
    model.set_logger(Logger(folder=None, output_formats=[collector]))
    model.learn(total_timesteps=total_timesteps, log_interval=log_interval)
    return collector.keys


def tiny_atari_env(n_envs: int = 2, seed: int = 0):
    """Breakout with the standard DeepMind preprocessing, 4 stacked 84x84 frames."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)  # importing ale_py registers the Atari ids; this marks the import as used
    return VecFrameStack(make_atari_env("BreakoutNoFrameskip-v4", n_envs=n_envs, seed=seed), n_stack=4)


def _ppo(env):
    from stable_baselines3 import PPO

    return PPO("CnnPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu", verbose=0)


def _a2c(env):
    from stable_baselines3 import A2C

    return A2C("CnnPolicy", env, n_steps=16, seed=0, device="cpu", verbose=0)


def _dqn(env):
    from stable_baselines3 import DQN

    return DQN(
        "CnnPolicy",
        env,
        buffer_size=1_000,
        learning_starts=64,
        train_freq=16,
        target_update_interval=200,
        seed=0,
        device="cpu",
        verbose=0,
    )


def _qrdqn(env):
    from sb3_contrib import QRDQN

    return QRDQN(
        "CnnPolicy",
        env,
        buffer_size=1_000,
        learning_starts=64,
        train_freq=16,
        target_update_interval=200,
        seed=0,
        device="cpu",
        verbose=0,
    )


ALGOS = {
    # name: (model factory, steps, keys that must show up or the run was too short)
    "ppo": (_ppo, 512, {"time/total_timesteps", "train/approx_kl", "rollout/ep_rew_mean"}),
    "a2c": (_a2c, 512, {"time/total_timesteps", "train/policy_loss", "rollout/ep_rew_mean"}),
    "dqn": (_dqn, 640, {"time/episodes", "train/loss", "rollout/exploration_rate"}),
    "qrdqn": (_qrdqn, 640, {"time/episodes", "train/loss", "rollout/exploration_rate"}),
}


def test_doc_exists_and_covers_static_keys() -> None:
    assert METRICS_DOC.is_file(), "docs/metrics.md is missing"
    missing = sorted(set(ALWAYS_DOCUMENTED) - documented_keys())
    assert not missing, f"docs/metrics.md does not document: {', '.join(missing)}"


@pytest.mark.parametrize("algo", list(ALGOS))
def test_every_logged_key_is_documented(algo: str) -> None:
    pytest.importorskip("ale_py")
    torch = pytest.importorskip("torch")
    factory, steps, expected = ALGOS[algo]

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny nets: one thread is as fast and leaves the other core free
    env = tiny_atari_env()
    try:
        keys = collect_logged_keys(factory(env), steps)
    finally:
        env.close()
        torch.set_num_threads(threads)

    assert expected <= set(keys), f"{algo}: run too short, never logged {sorted(expected - set(keys))}"
    missing = sorted(set(keys) - documented_keys())
    assert not missing, f"{algo} logs keys that docs/metrics.md does not document: {', '.join(missing)}"
