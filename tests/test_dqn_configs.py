"""The DQN tracks and the DQN ablation series: every shipped config loads, validates and says what docs/dqn.md says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from simple_game.agents.dqn import DeepMindRMSprop, FrameReplayBuffer, replay_memory_bytes
from simple_game.config import load_config
from simple_game.config.hyperparams import resolve_class_path
from simple_game.studies.series import read_series

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
GAMES = ["breakout", "pong", "qbert", "seaquest", "space_invaders"]
TRACK_FILES = sorted((CONFIGS / "dqn").glob("track_*/*.yaml"))
ABLATION = CONFIGS / "ablations" / "dqn_breakout"
ATARI = spaces.Box(0, 255, (4, 84, 84), np.uint8)


def test_every_track_and_game_is_shipped() -> None:
    assert [f"{p.parent.name}/{p.stem}" for p in TRACK_FILES] == [f"track_{t}/{g}" for t in "ab" for g in GAMES]


@pytest.mark.parametrize("path", TRACK_FILES, ids=[f"{p.parent.name}-{p.stem}" for p in TRACK_FILES])
def test_track_configs_validate_and_name_their_track(path: Path) -> None:
    cfg = load_config(path)
    track = path.parent.name[-1].upper()
    assert cfg.track == track and cfg.name == f"dqn_track_{track.lower()}_{path.stem}"
    assert cfg.env.game == path.stem and cfg.algo == "dqn" and cfg.env.n_envs == 1
    hyper = cfg.hyperparams
    assert hyper["buffer_size"] == 1_000_000 and hyper["policy_kwargs"]["net_arch"] == []
    if track == "A":  # the Nature paper
        assert (cfg.policy, cfg.env.sticky_probability, hyper.get("double", False)) == ("CnnPolicy", 0.0, False)
        assert hyper["policy_kwargs"]["optimizer_class"] == "simple_game.agents.dqn.DeepMindRMSprop"
        assert (hyper["learning_rate"], hyper["exploration_final_eps"], hyper["learning_starts"]) == (
            2.5e-4,
            0.1,
            50_000,
        )
        assert hyper["target_update_interval"] == 40_000  # 10k updates, one per 4 agent steps
        assert hyper["exploration_fraction"] * cfg.total_timesteps == 1_000_000
        assert hyper["replay_buffer_class"] == "simple_game.agents.dqn.FrameReplayBuffer"
    else:  # modern: Double + dueling + PER, Adam, sticky actions
        assert (cfg.policy, cfg.env.sticky_probability, hyper["double"]) == ("DuelingCnnPolicy", 0.25, True)
        assert hyper["replay_buffer_class"] == "simple_game.agents.dqn.PrioritizedFrameReplayBuffer"
        assert hyper["policy_kwargs"]["optimizer_class"] == "torch.optim.Adam"
        assert hyper["policy_kwargs"]["optimizer_kwargs"] == {"eps": 1.5e-4}
        assert (hyper["learning_rate"], hyper["exploration_final_eps"], hyper["max_grad_norm"]) == (6.25e-5, 0.01, 10)
    # The 1M-transition buffer fits this kind of machine: about 7.5 GB, not SB3's 56 GB.
    buffer_class = resolve_class_path(hyper["replay_buffer_class"])
    assert replay_memory_bytes(ATARI, spaces.Discrete(18), 1_000_000, 1, False, buffer_class) < 7.6e9


@pytest.mark.parametrize("track", ["a", "b"])
def test_track_networks_have_the_papers_head(track: str) -> None:
    """``net_arch: []``: SimpleNatureCNN's 512 features straight to the actions (SB3 would put [64, 64] between)."""
    from simple_game.agents.build import build_model
    from simple_game.envs.vector import make_train_env

    sets = ["hyperparams.buffer_size=1000", "env.backend=dummy"]
    cfg = load_config(CONFIGS / "dqn" / f"track_{track}" / "breakout.yaml", sets)
    env = make_train_env(cfg.env, seed=0)
    model = build_model(cfg, env, "cpu")
    net = model.q_net
    heads = [net.q_net] if track == "a" else [net.value_net, net.advantage_net]
    for head in heads:
        layers = list(head)
        assert len(layers) == 1 and isinstance(layers[0], th.nn.Linear) and layers[0].in_features == 512
    assert isinstance(model.policy.optimizer, DeepMindRMSprop if track == "a" else th.optim.Adam)
    assert isinstance(model.replay_buffer, FrameReplayBuffer)
    env.close()


def _differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(a) | set(b))
    out = []
    for key in keys:
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            out += _differences(a[key], b[key], f"{prefix}{key}.")
        elif a.get(key) != b.get(key):
            out.append(f"{prefix}{key}")
    return out


def test_ablation_series_changes_one_thing_at_a_time() -> None:
    series = read_series(ABLATION)
    assert [v.name for v in series.variants] == ["vanilla", "double", "per", "dueling", "nstep"]
    assert "one at a time" in series.description
    dumps = []
    for variant in series.variants:
        cfg = load_config(variant.path)
        assert cfg.track == "B" and cfg.env.game == "breakout" and cfg.env.protocol == "modern"
        data = cfg.to_yaml_dict()
        data.pop("name")
        dumps.append(data)
    changed = [_differences(before, after) for before, after in zip(dumps, dumps[1:])]
    assert changed == [
        ["hyperparams.double"],
        ["hyperparams.replay_buffer_class", "hyperparams.replay_buffer_kwargs"],  # PER and its options
        ["policy"],
        ["hyperparams.n_steps"],
    ]
    first = load_config(series.variants[0].path)
    assert first.hyperparams["double"] is False and first.policy == "CnnPolicy"
    # 04_dueling is Track B on Breakout, setting for setting.
    track_b = load_config(CONFIGS / "dqn" / "track_b" / "breakout.yaml").to_yaml_dict()
    track_b.pop("name")
    assert _differences(dumps[3], track_b) == []


def test_learning_check_is_vanilla_against_track_b_on_one_schedule() -> None:
    """The 250k check: the arms differ in Track B's three additions only, and epsilon ramps as in 10M steps."""
    series = read_series(CONFIGS / "ablations" / "dqn_breakout_250k")
    assert [v.name for v in series.variants] == ["vanilla", "track_b"]
    vanilla, track_b = (load_config(v.path) for v in series.variants)
    dumps = [cfg.to_yaml_dict() for cfg in (vanilla, track_b)]
    for data in dumps:
        data.pop("name")
    assert _differences(*dumps) == [
        "hyperparams.double",
        "hyperparams.replay_buffer_class",
        "hyperparams.replay_buffer_kwargs",
        "policy",
    ]
    full = load_config(ABLATION / "01_vanilla.yaml")
    for cfg in (vanilla, track_b):
        assert cfg.total_timesteps == 250_000 and cfg.hyperparams["buffer_size"] == 250_000  # never full
        ramp = cfg.hyperparams["exploration_fraction"] * cfg.total_timesteps
        assert ramp == full.hyperparams["exploration_fraction"] * full.total_timesteps == 250_000


@pytest.mark.parametrize(
    ("sets", "needle"),
    [
        (["hyperparams.replay_buffer_class=simple_game.agents.dqn.FramesBuffer"], "hyperparams.replay_buffer_class"),
        (["algo=qrdqn", "policy=CnnPolicy", "hyperparams.double=false"], "hyperparams.replay_buffer_class"),
        (["hyperparams.optimize_memory_usage=true"], "hyperparams.optimize_memory_usage"),
        (["hyperparams.replay_buffer_class=simple_game.agents.dqn.FrameReplayBuffer"],
         "hyperparams.replay_buffer_kwargs.alpha"),
    ],
    ids=["unknown-replay-class", "per-on-qrdqn", "optimize-memory-with-frames", "per-options-on-uniform"],
)  # fmt: skip
def test_bad_replay_options_are_one_line_config_errors(sets: list[str], needle: str) -> None:
    from simple_game.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config(CONFIGS / "dqn" / "track_b" / "breakout.yaml", sets)
    message = str(err.value)
    assert "\n" not in message and f": {needle}: " in message  # "<file or --set>: <key>: <what is allowed>"
