"""Dueling aggregation, DeepMind's RMSProp, the memory guard and the option checks, against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from sb3_contrib import QRDQN
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import ReplayBuffer

import simple_game.envs  # noqa: F401  (import order)
from simple_game.agents.dqn import (
    DQN,
    DeepMindRMSprop,
    DuelingCnnPolicy,
    PrioritizedReplayBuffer,
    check_dqn_options,
    check_replay_memory,
    dueling_aggregate,
    replay_memory_bytes,
)
from simple_game.errors import SimpleGameError
from simple_game.policies import SimpleNatureCNN

ATARI = spaces.Box(0, 255, (4, 84, 84), np.uint8)
ACTIONS = spaces.Discrete(4)


def test_dueling_aggregation_hand_computed() -> None:
    """V = 10, A = [1, 2, 6]: mean A = 3, Q = [8, 9, 13]."""
    q = dueling_aggregate(th.tensor([[10.0]]), th.tensor([[1.0, 2.0, 6.0]]))
    assert q.tolist() == [[8.0, 9.0, 13.0]]


def test_dueling_policy_on_simple_nature_cnn() -> None:
    policy = DuelingCnnPolicy(ATARI, ACTIONS, lambda _: 1e-4, features_extractor_class=SimpleNatureCNN, net_arch=[])
    net = policy.q_net
    assert not hasattr(net, "q_net") and isinstance(net.features_extractor, SimpleNatureCNN)
    obs = th.randint(0, 255, (3, 4, 84, 84), dtype=th.uint8).float()
    features = net.extract_features(obs, net.features_extractor)
    value, advantages = net.value_net(features), net.advantage_net(features)
    assert value.shape == (3, 1) and advantages.shape == (3, 4)
    assert th.allclose(net(obs), value + advantages - advantages.mean(dim=1, keepdim=True))
    assert th.allclose(net(obs).mean(dim=1, keepdim=True), value, atol=1e-5)  # V is the mean Q-value
    assert policy.q_net_target.state_dict().keys() == net.state_dict().keys()


def test_deepmind_rmsprop_one_step_hand_computed() -> None:
    """grad 2, alpha 0.95: g = 0.1, n = 0.2, step = lr * 2 / sqrt(0.2 - 0.01 + 0.01) = 0.1 * 2 / sqrt(0.2)."""
    w = th.nn.Parameter(th.tensor([1.0, -1.0]))
    opt = DeepMindRMSprop([w], lr=0.1, alpha=0.95, eps=0.01)
    w.grad = th.tensor([2.0, 0.0])
    opt.step()
    assert w.detach().tolist() == pytest.approx([1.0 - 0.2 / math.sqrt(0.2), -1.0])
    # second step, grad 1: g = 0.95*0.1 + 0.05 = 0.145, n = 0.95*0.2 + 0.05 = 0.24
    w.grad = th.tensor([1.0, 0.0])
    before = w.detach().clone()
    opt.step()
    step = 0.1 * 1.0 / math.sqrt(0.24 - 0.145**2 + 0.01)
    assert (before - w.detach()).tolist() == pytest.approx([step, 0.0])
    # torch's centred RMSprop puts eps outside the root: a different first step
    v = th.nn.Parameter(th.tensor([1.0]))
    torch_opt = th.optim.RMSprop([v], lr=0.1, alpha=0.95, eps=0.01, centered=True)
    v.grad = th.tensor([2.0])
    torch_opt.step()
    assert v.item() != pytest.approx(1.0 - 0.2 / math.sqrt(0.2))


def test_replay_memory_bytes_equals_sb3_arrays() -> None:
    for optimize in (False, True):
        buffer = ReplayBuffer(
            1000, ATARI, ACTIONS, device="cpu", n_envs=2, optimize_memory_usage=optimize,
            handle_timeout_termination=not optimize,
        )  # fmt: skip
        arrays = [buffer.observations, buffer.actions, buffer.rewards, buffer.dones, buffer.timeouts]
        if not optimize:
            arrays.append(buffer.next_observations)
        assert replay_memory_bytes(ATARI, ACTIONS, 1000, 2, optimize) == sum(a.nbytes for a in arrays)
    per = replay_memory_bytes(ATARI, ACTIONS, 1000, 1, False, PrioritizedReplayBuffer)
    assert per == replay_memory_bytes(ATARI, ACTIONS, 1000, 1, False) + 2 * 1024 * 8
    # The figure: 1M Atari transitions are ~56 GB, ~28 GB with optimize_memory_usage
    assert replay_memory_bytes(ATARI, ACTIONS, 1_000_000) / 1e9 == pytest.approx(56.5, abs=0.1)


def test_memory_guard_one_line_with_options() -> None:
    hyper = {"buffer_size": 1_000_000}
    with pytest.raises(SimpleGameError) as err:
        check_replay_memory(ATARI, ACTIONS, hyper, n_envs=1, available=int(8e9))
    message = str(err.value)
    assert "\n" not in message and "56.47 GB" in message and "8.00 GB" in message
    assert "hyperparams.buffer_size" in message and "optimize_memory_usage: true (28.24 GB)" in message
    assert "about 127,000 fits" in message
    assert check_replay_memory(ATARI, ACTIONS, {"buffer_size": 1000}, 1, available=int(8e9)) == replay_memory_bytes(
        ATARI, ACTIONS, 1000
    )


@pytest.mark.parametrize(
    ("algo", "policy", "hyper", "key"),
    [
        (PPO, "DuelingCnnPolicy", {}, "policy"),
        (QRDQN, "CnnPolicy", {"replay_buffer_class": "simple_game.agents.dqn.PrioritizedReplayBuffer"},
         "hyperparams.replay_buffer_class"),
        (DQN, "CnnPolicy", {"replay_buffer_kwargs": {"alpha": 0.5}}, "hyperparams.replay_buffer_kwargs.alpha"),
        (DQN, "CnnPolicy", {"replay_buffer_class": PrioritizedReplayBuffer, "optimize_memory_usage": True},
         "hyperparams.optimize_memory_usage"),
        (DQN, "CnnPolicy", {"n_steps": 3, "optimize_memory_usage": True}, "hyperparams.optimize_memory_usage"),
    ],
)  # fmt: skip
def test_option_checks_name_the_key(algo: type, policy: str, hyper: dict, key: str) -> None:
    problem = check_dqn_options(algo, policy, hyper)
    assert problem is not None and problem[0] == key


def test_good_options_pass() -> None:
    hyper = {
        "replay_buffer_class": "simple_game.agents.dqn.PrioritizedReplayBuffer",
        "replay_buffer_kwargs": {"alpha": 0.6, "beta_start": 0.4, "eps": 1e-6},
        "n_steps": 3,
        "double": True,
    }
    assert check_dqn_options(DQN, "DuelingCnnPolicy", hyper) is None  # fmt: skip
    assert check_dqn_options(PPO, "CnnPolicy", {}) is None
