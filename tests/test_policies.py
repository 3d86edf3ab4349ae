"""SimpleNatureCNN: same size as SB3's NatureCNN, any stack, no sample forward pass."""

from __future__ import annotations

import torch  # first: torch before gymnasium (the import-order rule, docs/architecture.md)

# isort: split
import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.torch_layers import NatureCNN

import simple_game.policies as policies
from simple_game.policies import SimpleNatureCNN


def _space(stack: int, size: int = 84) -> gym.spaces.Box:
    return gym.spaces.Box(0, 255, (stack, size, size), dtype=np.uint8)


def _n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("stack", [1, 4, 8])
def test_parameter_count_matches_nature_cnn(stack: int) -> None:
    assert _n_params(SimpleNatureCNN(_space(stack))) == _n_params(NatureCNN(_space(stack)))


@pytest.mark.parametrize("stack,size", [(4, 84), (8, 84), (4, 64), (4, 100)])
def test_output_shape(stack: int, size: int) -> None:
    net = SimpleNatureCNN(_space(stack, size))
    out = net(torch.rand(3, stack, size, size))
    assert out.shape == (3, 512) and out.dtype == torch.float32


def test_no_forward_pass_in_init(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(torch.nn.Conv2d, "forward", lambda self, x: calls.append(1) or x)
    SimpleNatureCNN(_space(4))
    assert calls == []


def test_non_contiguous_and_float64_inputs() -> None:
    net = SimpleNatureCNN(_space(4))
    x = torch.rand(2, 84, 84, 4, dtype=torch.float64).permute(0, 3, 1, 2)
    assert not x.is_contiguous()
    assert net(x).dtype == torch.float32


def test_exported() -> None:
    assert "SimpleNatureCNN" in policies.__all__


def test_too_small_image_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="too small"):
        SimpleNatureCNN(_space(4, 20))


@pytest.mark.parametrize(
    "config",
    ["ppo_breakout.yaml", "a2c_breakout.yaml", "dqn_breakout.yaml", "qrdqn_breakout.yaml"],
)
def test_shipped_configs_build_the_nature_network(config: str) -> None:
    """The heads read the 512 features directly, tensor for tensor the network plain SB3 builds with NatureCNN.

    SB3 adds [64, 64] hidden layers for any extractor but its own NatureCNN; base/atari.yaml says net_arch: [].
    """
    from conftest import CONFIGS
    from simple_game.agents import build_model
    from simple_game.config import algorithm_class, load_config
    from simple_game.envs import make_train_env

    small = {"ppo": ["hyperparams.batch_size=64"], "a2c": [], "dqn": ["hyperparams.buffer_size=100"]}
    sets = ["env.n_envs=1", *small[config.split("_")[0].replace("qr", "")]]
    cfg = load_config(CONFIGS / config, overrides=sets)
    env = make_train_env(cfg.env, 0)
    try:
        ours = build_model(cfg, env, "cpu").policy.state_dict()
        extra = {"buffer_size": 100} if "dqn" in config else {}
        plain = algorithm_class(cfg.algo)("CnnPolicy", env, device="cpu", **extra).policy.state_dict()
    finally:
        env.close()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in plain.items()}
