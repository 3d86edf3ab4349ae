"""simple_game.agents.dqn.QRDQN: sb3-contrib's QR-DQN by default; Double QR-DQN's target hand-computed."""

from __future__ import annotations

from pathlib import Path

import torch as th
from sb3_contrib import QRDQN as ContribQRDQN

from simple_game.agents.dqn import QRDQN, FrameReplayBuffer
from simple_game.config import algorithm_class, load_config, model_kwargs
from simple_game.envs.vector import make_train_env

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_double_target_quantiles_hand_computed() -> None:
    """2 quantiles x 3 actions for one next state.

    online  [[1, 5, 2], [3, 1, 2]]: means [2, 3, 2]  -> Double picks action 1
    target  [[4, 0, 9], [6, 2, 3]]: means [5, 1, 6]  -> sb3-contrib picks action 2
    Double's target quantiles are the target network's for action 1: [0, 2]; vanilla's [9, 3].
    """
    model = QRDQN.__new__(QRDQN)
    online = th.tensor([[[1.0, 5.0, 2.0], [3.0, 1.0, 2.0]]])
    target = th.tensor([[[4.0, 0.0, 9.0], [6.0, 2.0, 3.0]]])
    model.quantile_net = lambda obs: online  # type: ignore[assignment]
    model.quantile_net_target = lambda obs: target  # type: ignore[assignment]
    model.double = True
    assert model.next_quantiles(th.zeros(1)).tolist() == [[0.0, 2.0]]
    model.double = False
    assert model.next_quantiles(th.zeros(1)).tolist() == [[9.0, 3.0]]


def _train(cls: type, extra: dict, steps: int = 200) -> object:
    cfg = load_config(CONFIGS / "qrdqn_breakout.yaml", ["env.backend=dummy"])
    kwargs = model_kwargs(cfg)
    kwargs.update(buffer_size=400, learning_starts=64, batch_size=8, target_update_interval=1000, learning_rate=1e-3)
    kwargs.update(extra)
    env = make_train_env(cfg.env, seed=3)
    model = cls("CnnPolicy", env, seed=3, device="cpu", **kwargs)
    model.learn(total_timesteps=steps)
    env.close()
    return model


def _same_weights(a: object, b: object) -> bool:
    return all(th.equal(x, y) for x, y in zip(a.policy.parameters(), b.policy.parameters()))  # type: ignore[attr-defined]


def test_defaults_match_sb3_contrib_and_double_changes_the_update() -> None:
    assert algorithm_class("qrdqn") is QRDQN
    theirs = _train(ContribQRDQN, {})
    assert _same_weights(_train(QRDQN, {}), theirs)
    assert not _same_weights(_train(QRDQN, {"double": True}), theirs)


def test_shared_frames_with_n_steps_train_as_sb3_contribs_n_step_buffer(tmp_path: Path) -> None:
    """QR-DQN hands n_steps to FrameReplayBuffer: the same weights as sb3-contrib with its NStepReplayBuffer."""
    ours = _train(QRDQN, {"replay_buffer_class": FrameReplayBuffer, "n_steps": 3})
    theirs = _train(ContribQRDQN, {"n_steps": 3})
    assert ours.replay_buffer.n_steps == 3 and type(theirs.replay_buffer).__name__ == "NStepReplayBuffer"
    assert _same_weights(ours, theirs)
    theirs.save(tmp_path / "contrib.zip")  # an sb3-contrib checkpoint loads into ours
    loaded = QRDQN.load(tmp_path / "contrib.zip", device="cpu")
    assert loaded.double is False and _same_weights(loaded, theirs)
