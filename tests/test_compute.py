"""apply_compute: faster network maths that never changes results or checkpoints."""

from __future__ import annotations

import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import DummyVecEnv

import simple_game.compute as compute
from conftest import REPO, cli_env
from simple_game.compute import apply_compute, describe_compute, feature_extractors
from simple_game.config import ComputeConfig
from simple_game.policies import SimpleNatureCNN

POLICY_KWARGS = {"features_extractor_class": SimpleNatureCNN}


class TinyAtari(gym.Env):
    """Random 4x84x84 uint8 frames: the shape of our Atari observations, no emulator."""

    observation_space = gym.spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
    action_space = gym.spaces.Discrete(4)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 1.0, bool(self.np_random.random() < 0.05), False, {}


def _env(n: int = 2) -> DummyVecEnv:
    return DummyVecEnv([TinyAtari for _ in range(n)])


def _ppo(**kwargs) -> PPO:
    return PPO(
        "CnnPolicy",
        _env(),
        n_steps=16,
        batch_size=16,
        n_epochs=1,
        seed=0,
        device="cpu",
        policy_kwargs=POLICY_KWARGS,
        **kwargs,
    )


def _obs(n: int = 6) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).integers(0, 256, (n, 4, 84, 84), dtype=np.uint8))


def _outputs(model: PPO, obs: torch.Tensor) -> tuple[torch.Tensor, ...]:
    actions = torch.arange(len(obs)) % 4
    with torch.no_grad():
        values, log_prob, entropy = model.policy.evaluate_actions(obs, actions)
        features = model.policy.extract_features(obs, model.policy.features_extractor)
    return features, values, log_prob, entropy


def _twin(model: PPO) -> PPO:
    """A plain model with the same weights."""
    twin = _ppo()
    twin.policy.load_state_dict(model.policy.state_dict())
    return twin


@pytest.fixture
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_channels_last_output_equals_float32() -> None:
    model = _ppo()
    plain = _twin(model)
    applied = apply_compute(model, ComputeConfig(channels_last="on", compile="off"), "cpu")
    assert applied["channels_last"] == "on" and applied["compile"].startswith("off") and applied["bf16"] == "off"
    conv = model.policy.features_extractor.cnn[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    for got, want in zip(_outputs(model, _obs()), _outputs(plain, _obs())):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_compile_output_equals_eager(tmp_path) -> None:
    model = _ppo()
    plain = _twin(model)
    applied = apply_compute(model, ComputeConfig(channels_last="on", compile="on"), "cpu")
    assert applied["compile"].startswith("on")
    assert getattr(model.policy.features_extractor, "_compiled_call_impl", None) is not None
    assert list(model.policy.state_dict()) == list(plain.policy.state_dict())
    for got, want in zip(_outputs(model, _obs()), _outputs(plain, _obs())):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    # After the compiled code has run, the checkpoint still has the plain keys.
    model.save(tmp_path / "compiled.zip")
    loaded = PPO.load(tmp_path / "compiled.zip", device="cpu")
    assert list(loaded.policy.state_dict()) == list(plain.policy.state_dict())


def test_auto_on_cpu_is_channels_last_without_compile() -> None:
    applied = apply_compute(_ppo(), ComputeConfig(), "cpu")
    assert applied["channels_last"] == "on"
    assert applied["compile"].startswith("off (auto")
    assert applied["optimizer"] == "Adam fused"
    assert "channels_last on" in describe_compute(applied)


def test_bf16_output_close_and_training_stays_float32() -> None:
    model = _ppo()
    plain = _twin(model)
    applied = apply_compute(model, ComputeConfig(bf16=True, compile="off"), "cpu", allow_emulated_bf16=True)
    assert applied["bf16"].startswith("on")
    got, want = _outputs(model, _obs()), _outputs(plain, _obs())
    for tensor in got:
        assert tensor.dtype == torch.float32
    features, values, log_prob, _ = got
    torch.testing.assert_close(features, want[0], rtol=0.05, atol=0.02)
    torch.testing.assert_close(values, want[1], rtol=0.05, atol=0.02)
    torch.testing.assert_close(log_prob, want[2], rtol=0.05, atol=0.02)
    # A rollout and an update run under autocast; weights, grads and the optimizer stay float32.
    model.learn(32)
    assert all(p.dtype == torch.float32 for p in model.policy.parameters())
    assert compute.feature_extractors(model)[0].autocast_dtype == torch.bfloat16


def test_bf16_is_skipped_without_native_support(monkeypatch) -> None:
    monkeypatch.setattr(compute, "native_bf16", lambda kind: False)
    model = _ppo()
    applied = apply_compute(model, ComputeConfig(bf16=True), "cpu")
    assert applied["bf16"].startswith("off (requested")
    assert model.policy.features_extractor.autocast_dtype is None


def test_emulated_bf16_keeps_channels_last(monkeypatch) -> None:
    """Forced emulated bf16 is not probed (it is slow to time): NHWC, measured faster there (1,560 ms vs 1,985)."""
    monkeypatch.setattr(compute, "native_bf16", lambda kind: False)
    forced = apply_compute(_ppo(), ComputeConfig(bf16=True), "cpu", allow_emulated_bf16=True, probe_layout=True)
    assert forced["channels_last"] == "on" and forced["bf16"].startswith("on")


def test_fused_adam_matches_plain_adam() -> None:
    model = _ppo()
    plain = _twin(model)
    apply_compute(model, ComputeConfig(channels_last="on"), "cpu")
    assert all(group["fused"] for group in model.policy.optimizer.param_groups)
    obs, actions = _obs(16), torch.arange(16) % 4
    for m in (model, plain):
        for _ in range(3):
            values, log_prob, entropy = m.policy.evaluate_actions(obs, actions)
            loss = values.pow(2).mean() - log_prob.mean() - 0.01 * entropy.mean()
            m.policy.optimizer.zero_grad()
            loss.backward()
            m.policy.optimizer.step()
    for (name, got), want in zip(model.policy.state_dict().items(), plain.policy.state_dict().values()):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6, msg=name)


def test_checkpoint_loads_in_a_plain_model(tmp_path) -> None:
    model = _ppo()
    applied = apply_compute(
        model, ComputeConfig(channels_last="on", compile="off", bf16=True), "cpu", allow_emulated_bf16=True
    )
    assert applied["bf16"].startswith("on")
    model.learn(32)  # optimizer state exists (fused steps, channels-last moments)
    path = tmp_path / "ckpt.zip"
    model.save(path)
    plain = _ppo()
    loaded = PPO.load(path, device="cpu")
    assert list(loaded.policy.state_dict()) == list(plain.policy.state_dict()) == list(model.policy.state_dict())
    for key, value in model.policy.state_dict().items():
        torch.testing.assert_close(loaded.policy.state_dict()[key], value, rtol=0, atol=0)
    assert (
        loaded.policy.features_extractor.autocast_dtype is None and not loaded.policy.features_extractor.channels_last
    )
    assert all(not group["fused"] for group in loaded.policy.optimizer.state_dict()["param_groups"])
    assert all(group["fused"] for group in model.policy.optimizer.param_groups)  # the hook saved a copy
    loaded.set_env(_env())
    loaded.learn(32)  # and it trains on, plain
    # Pickling (and deepcopy) still work; a copy keeps the switches but not the compiled code.
    copy = pickle.loads(pickle.dumps(model.policy))
    assert copy.features_extractor.autocast_dtype == torch.bfloat16
    assert list(copy.state_dict()) == list(plain.policy.state_dict())


def test_checkpoint_loads_in_a_fresh_process(tmp_path) -> None:
    model = _ppo()
    apply_compute(model, ComputeConfig(channels_last="on", compile="on"), "cpu")
    path = tmp_path / "ckpt.zip"
    model.save(path)
    keys = sorted(model.policy.state_dict())
    code = (
        "import sys, torch; from stable_baselines3 import PPO\n"
        f"m = PPO.load({str(path)!r}, device='cpu')\n"
        "print(','.join(sorted(m.policy.state_dict())))\n"
        "print(type(m.policy.features_extractor).__name__, getattr(m.policy.features_extractor, '_compiled_call_impl', None))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), cwd=str(REPO), timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split(",") == keys
    assert lines[1] == "SimpleNatureCNN None"


def test_dqn_online_and_target_networks() -> None:
    model = DQN(
        "CnnPolicy", _env(1), buffer_size=100, learning_starts=0, seed=0, device="cpu", policy_kwargs=POLICY_KWARGS
    )
    plain = DQN(
        "CnnPolicy", _env(1), buffer_size=100, learning_starts=0, seed=0, device="cpu", policy_kwargs=POLICY_KWARGS
    )
    plain.policy.load_state_dict(model.policy.state_dict())
    apply_compute(model, ComputeConfig(channels_last="on", compile="off"), "cpu")
    extractors = feature_extractors(model)
    assert len(extractors) == 2 and all(e.channels_last for e in extractors)
    obs = _obs(5)
    with torch.no_grad():
        for net in ("q_net", "q_net_target"):
            torch.testing.assert_close(
                getattr(model.policy, net)(obs), getattr(plain.policy, net)(obs), rtol=1e-5, atol=1e-5
            )
    assert list(model.policy.state_dict()) == list(plain.policy.state_dict())


def test_mps_gets_nothing_device_specific() -> None:
    """The device string is patched: the model stays on CPU, but the MPS choices are made."""
    model = _ppo()
    applied = apply_compute(model, ComputeConfig(channels_last="auto", compile="auto", bf16=True), "mps")
    assert applied["channels_last"].startswith("off")
    assert applied["compile"].startswith("off")
    assert applied["bf16"].startswith("off")
    assert applied["optimizer"] == "Adam (unchanged)"
    extractor = model.policy.features_extractor
    assert not extractor.channels_last and extractor.autocast_dtype is None
    assert getattr(extractor, "_compiled_call_impl", None) is None
    assert all(p.is_contiguous() for p in model.policy.parameters())
    assert not any(group["fused"] for group in model.policy.optimizer.param_groups)
    # Even when asked for explicitly.
    applied = apply_compute(_ppo(), ComputeConfig(channels_last="on", compile="on"), "mps")
    assert applied["channels_last"].startswith("off") and applied["compile"].startswith("off")


def test_threads(restore_threads) -> None:
    applied = apply_compute(_ppo(), ComputeConfig(threads=1), "cpu")
    assert applied["threads"] == "1" and torch.get_num_threads() == 1
