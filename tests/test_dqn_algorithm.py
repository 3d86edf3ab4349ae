"""simple_game.agents.dqn.DQN: identical to SB3's DQN by default; Double targets; PER end to end in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch as th
from stable_baselines3 import DQN as SB3DQN

from simple_game.agents.dqn import DQN, DuelingCnnPolicy, PrioritizedReplayBuffer
from simple_game.config import load_config, model_kwargs
from simple_game.envs.vector import make_train_env

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _env_and_kwargs(extra: dict | None = None) -> tuple[object, dict]:
    cfg = load_config(CONFIGS / "dqn_breakout.yaml", ["env.backend=dummy"])
    kwargs = model_kwargs(cfg)
    kwargs.update(
        buffer_size=500, learning_starts=64, batch_size=8, train_freq=4, target_update_interval=100, **(extra or {})
    )
    return make_train_env(cfg.env, seed=3), kwargs


def _train(cls: type, steps: int, extra: dict | None = None, policy: str = "CnnPolicy") -> object:
    env, kwargs = _env_and_kwargs(extra)
    model = cls(policy, env, seed=3, device="cpu", **kwargs)
    model.learn(total_timesteps=steps)
    env.close()
    return model


def test_defaults_match_sb3_dqn_exactly() -> None:
    """Same seed, same env, a few hundred steps: every weight and the replay buffer are bit-identical."""
    ours, theirs = _train(DQN, 320), _train(SB3DQN, 320)
    assert ours._n_updates == theirs._n_updates > 0
    for (name, a), (_, b) in zip(ours.policy.state_dict().items(), theirs.policy.state_dict().items()):
        assert th.equal(a, b), name
    assert np.array_equal(ours.replay_buffer.observations, theirs.replay_buffer.observations)


def test_n_steps_uniform_matches_sb3() -> None:
    """n-step with uniform replay is SB3's NStepReplayBuffer, unchanged."""
    ours, theirs = _train(DQN, 200, {"n_steps": 3}), _train(SB3DQN, 200, {"n_steps": 3})
    assert type(ours.replay_buffer).__name__ == "NStepReplayBuffer"
    for a, b in zip(ours.policy.parameters(), theirs.policy.parameters()):
        assert th.equal(a, b)


def test_double_dqn_changes_the_update() -> None:
    ours, theirs = _train(DQN, 200, {"double": True}), _train(SB3DQN, 200)
    assert any(not th.equal(a, b) for a, b in zip(ours.policy.parameters(), theirs.policy.parameters()))


def test_double_target_hand_computed() -> None:
    """Online picks argmax, target scores it: online Q(s') = [1, 5, 2] picks action 1, target Q(s')[1] = 0.5."""
    model = DQN.__new__(DQN)
    online = {0: th.tensor([[1.0, 5.0, 2.0]])}
    target = {0: th.tensor([[3.0, 0.5, 1.0]])}
    model.q_net = lambda obs: online[0]  # type: ignore[assignment]
    model.q_net_target = lambda obs: target[0]  # type: ignore[assignment]
    model.double = True
    assert model.next_q_values(th.zeros(1)).tolist() == [[0.5]]
    model.double = False
    assert model.next_q_values(th.zeros(1)).tolist() == [[3.0]]  # vanilla: max of the target network


def test_prioritized_dueling_double_n_step_trains_saves_and_loads(tmp_path: Path) -> None:
    extra = {
        "double": True,
        "n_steps": 3,
        "replay_buffer_class": PrioritizedReplayBuffer,
        "replay_buffer_kwargs": {"alpha": 0.6, "beta_start": 0.4, "eps": 1e-6},
    }
    model = _train(DQN, 200, extra, policy="DuelingCnnPolicy")
    buffer = model.replay_buffer
    assert isinstance(buffer, PrioritizedReplayBuffer) and buffer.n_steps == 3 and buffer.gamma == model.gamma
    assert isinstance(model.policy, DuelingCnnPolicy)
    stored = buffer.tree.get(np.arange(buffer.pos))
    assert len(np.unique(stored)) > 2  # learned priorities, not all at the max
    model.save(tmp_path / "m.zip")
    model.save_replay_buffer(tmp_path / "buffer.pkl")
    loaded = DQN.load(tmp_path / "m.zip", device="cpu")
    assert loaded.double and isinstance(loaded.policy, DuelingCnnPolicy)
    loaded.load_replay_buffer(tmp_path / "buffer.pkl")
    assert np.array_equal(loaded.replay_buffer.tree.nodes, buffer.tree.nodes)
    assert loaded.replay_buffer.max_priority == buffer.max_priority
    for a, b in zip(loaded.policy.parameters(), model.policy.parameters()):
        assert th.equal(a, b)


def test_sb3_checkpoint_loads_into_ours(tmp_path: Path) -> None:
    theirs = _train(SB3DQN, 80)
    theirs.save(tmp_path / "sb3.zip")
    ours = DQN.load(tmp_path / "sb3.zip", device="cpu")
    assert ours.double is False
    for a, b in zip(ours.policy.parameters(), theirs.policy.parameters()):
        assert th.equal(a, b)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"replay_buffer_class": PrioritizedReplayBuffer, "replay_buffer_kwargs": {"alphaa": 0.5}}, "alphaa"),
        ({"replay_buffer_kwargs": {"alpha": 0.5}}, "replay_buffer_kwargs.alpha"),
        ({"replay_buffer_class": PrioritizedReplayBuffer, "replay_buffer_kwargs": {"alpha": 2}}, "alpha must be"),
        ({"replay_buffer_class": PrioritizedReplayBuffer, "replay_buffer_kwargs": {"n_steps": 2}},
         "hyperparams.n_steps"),
        ({"n_steps": 3, "optimize_memory_usage": True, "replay_buffer_kwargs": {"handle_timeout_termination": False}},
         "optimize_memory_usage"),
    ],
)  # fmt: skip
def test_bad_options_are_value_errors_naming_the_key(extra: dict, needle: str) -> None:
    env, kwargs = _env_and_kwargs(extra)
    with pytest.raises(ValueError, match=needle.replace(".", r"\.")):
        DQN("CnnPolicy", env, seed=0, device="cpu", **kwargs)
    env.close()


def _logged(model: object, steps: int) -> dict[str, float]:
    """Train ``model`` with a logger that keeps the last value of every key it writes."""
    from stable_baselines3.common.logger import KVWriter, Logger

    class Keep(KVWriter):
        def __init__(self) -> None:
            self.values: dict[str, float] = {}

        def write(self, key_values: dict, key_excluded: dict, step: int = 0) -> None:
            self.values.update({k: v for k, v in key_values.items() if isinstance(v, (int, float, np.floating))})

    keep = Keep()
    model.set_logger(Logger(folder=None, output_formats=[keep]))  # type: ignore[attr-defined]
    model.learn(total_timesteps=steps, log_interval=1)  # type: ignore[attr-defined]
    return keep.values


WATCHED = ("train/q_mean", "train/q_max", "train/td_error_mean", "train/grad_norm", "rollout/exploration_rate")


@pytest.mark.parametrize("prioritized", [False, True])
def test_dqn_logs_q_td_error_and_grad_norm(prioritized: bool) -> None:
    """What a DQN user watches (docs/metrics.md) is logged, finite and consistent; PER adds beta and weights."""
    extra = {"replay_buffer_class": PrioritizedReplayBuffer} if prioritized else {}
    env, kwargs = _env_and_kwargs(extra)
    values = _logged(DQN("CnnPolicy", env, seed=3, device="cpu", **kwargs), 320)
    env.close()
    assert all(np.isfinite(values[key]) for key in WATCHED), values
    assert values["train/q_max"] >= values["train/q_mean"]
    assert values["train/td_error_mean"] > 0 and values["train/grad_norm"] > 0
    assert ("train/per_beta" in values) == ("train/per_weight_mean" in values) == prioritized
    if prioritized:
        assert 0.4 <= values["train/per_beta"] <= 1.0 and 0.0 < values["train/per_weight_mean"] <= 1.0
