"""Config loading and validation: every class of bad input gives one clear line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CONFIGS, REPO, SMOKE, cli_env, run_cli
from simple_game.config import (
    ConfigError,
    ExperimentConfig,
    available_games,
    load_collect_config,
    load_config,
    load_yaml_model,
    model_kwargs,
    resolve_class_path,
)
from simple_game.config.games import bundled_rom_ids
from simple_game.config.schedules import LinearSchedule

SHIPPED = ["ppo_breakout", "a2c_breakout", "dqn_breakout", "qrdqn_breakout", "ppo_pong", "ppo_space_invaders", "smoke"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_validate(name: str) -> None:
    cfg = load_config(CONFIGS / f"{name}.yaml")
    assert cfg.name == name
    assert cfg.hyperparams["policy_kwargs"]["features_extractor_class"] == "simple_game.policies.SimpleNatureCNN"


def test_zoo_hyperparameters() -> None:
    ppo = load_config(CONFIGS / "ppo_breakout.yaml")
    assert (ppo.env.n_envs, ppo.total_timesteps) == (8, 10_000_000)
    hp = ppo.hyperparams
    assert (hp["n_steps"], hp["n_epochs"], hp["batch_size"], hp["vf_coef"], hp["ent_coef"]) == (128, 4, 256, 0.5, 0.01)
    assert hp["learning_rate"] == LinearSchedule(2.5e-4, 0.0) and hp["clip_range"] == LinearSchedule(0.1, 0.0)
    a2c = load_config(CONFIGS / "a2c_breakout.yaml")
    assert a2c.env.n_envs == 16 and a2c.hyperparams["vf_coef"] == 0.25 and a2c.hyperparams["ent_coef"] == 0.01
    assert a2c.hyperparams["policy_kwargs"]["optimizer_kwargs"] == {"eps": 1e-5}
    dqn = load_config(CONFIGS / "dqn_breakout.yaml").hyperparams
    assert (dqn["buffer_size"], dqn["learning_rate"], dqn["batch_size"], dqn["learning_starts"]) == (
        100_000,
        1e-4,
        32,
        100_000,
    )
    assert (
        dqn["target_update_interval"],
        dqn["train_freq"],
        dqn["exploration_fraction"],
        dqn["exploration_final_eps"],
    ) == (1000, 4, 0.1, 0.01)


def test_overrides_and_name() -> None:
    cfg = load_config(
        SMOKE, overrides=["env.n_envs=3", "hyperparams.learning_rate=lin_1e-3", "env.game=Pong"], name="my run!"
    )
    assert cfg.env.n_envs == 3 and cfg.env.game == "pong" and cfg.name == "my-run"
    assert cfg.hyperparams["learning_rate"] == LinearSchedule(1e-3, 0.0)


@pytest.mark.parametrize("spelling", ["Breakout", "breakout", "BreakoutNoFrameskip-v4", "ALE/Breakout-v5"])
def test_game_spellings(spelling: str) -> None:
    assert load_config(SMOKE, overrides=[f"env.game={spelling}"]).env.game == "breakout"


def test_space_invaders_spelling() -> None:
    assert load_config(SMOKE, overrides=["env.game=SpaceInvaders"]).env.game == "space_invaders"


def test_explicit_schedule_forms(write_yaml) -> None:
    path = write_yaml(
        "extends: @CONFIGS@/smoke.yaml\nhyperparams:\n"
        "  learning_rate: {schedule: linear, start: 0.001, end: 0.0001}\n"
        "  clip_range: {schedule: constant, value: 0.2}\n"
    )
    cfg = load_config(path)
    assert cfg.hyperparams["learning_rate"](1.0) == pytest.approx(1e-3)
    assert cfg.hyperparams["learning_rate"](0.0) == pytest.approx(1e-4)
    assert cfg.hyperparams["clip_range"] == 0.2


BAD = [
    # (yaml body, substrings the one-line message must contain)
    ("extends: @CONFIGS@/smoke.yaml\nenv:\n  gmae: Pong\n", ["exp.yaml", "env.gmae", "unknown key", "game"]),
    ("extends: @CONFIGS@/smoke.yaml\nbogus: 1\n", ["exp.yaml", "bogus", "unknown key", "allowed"]),
    ("extends: @CONFIGS@/smoke.yaml\nenv:\n  n_envs: lots\n", ["exp.yaml", "env.n_envs", "integer"]),
    ("extends: @CONFIGS@/smoke.yaml\nalgo: sac\n", ["exp.yaml", "algo", "unknown algorithm", "ppo"]),
    ("extends: @CONFIGS@/smoke.yaml\nenv:\n  game: Breakot\n", ["exp.yaml", "env.game", "breakout"]),
    ("extends: @CONFIGS@/smoke.yaml\ntotal_timesteps: 0\n", ["exp.yaml", "total_timesteps", "greater than 0"]),
    ("extends: @CONFIGS@/smoke.yaml\ntotal_timesteps: -5\n", ["exp.yaml", "total_timesteps"]),
    ("extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  n_steps: 0\n", ["exp.yaml", "hyperparams.n_steps", "positive"]),
    (
        "extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  learning_rate: lin_fast\n",
        ["exp.yaml", "hyperparams.learning_rate", "schedule"],
    ),
    (
        "extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  learning_rate: {schedule: cosine, start: 1}\n",
        ["hyperparams.learning_rate", "schedule"],
    ),
    (
        "extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  n_stepz: 128\n",
        ["hyperparams.n_stepz", "unknown hyperparameter", "n_steps"],
    ),
    (
        "extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  policy_kwargs:\n    features_extractor_class: os.system\n",
        ["features_extractor_class", "not allowed", "simple_game."],
    ),
    (
        "extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  policy_kwargs:\n    optimizer_class: builtins.eval\n",
        ["optimizer_class", "not allowed"],
    ),
    (
        "extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  policy_kwargs:\n    optimizer_class: torch.optim.Adamm\n",
        ["exp.yaml", "optimizer_class", "cannot import"],
    ),
    (
        "extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  policy_kwargs:\n    activation_fn: torch.nn.functional\n",
        ["exp.yaml", "activation_fn", "not a class"],
    ),
    ("extends: @CONFIGS@/smoke.yaml\nenv: [1, 2\n", ["exp.yaml", "YAML syntax error", "line"]),
    ("extends: missing_base.yaml\n", ["exp.yaml", "extends", "missing_base.yaml", "not found"]),
    ("- just\n- a list\n", ["exp.yaml", "mapping"]),
    ("extends: @CONFIGS@/smoke.yaml\nmilestones:\n  thresholds: [150, 50]\n", ["milestones.thresholds", "increasing"]),
    ("extends: @CONFIGS@/smoke.yaml\ndevice: tpu\n", ["device", "allowed"]),
    ("extends: @CONFIGS@/smoke.yaml\nenv:\n  protocol: sticky\n", ["env.protocol", "classic"]),
    ("extends: @CONFIGS@/smoke.yaml\nhyperparams:\n  seed: 3\n", ["hyperparams.seed", "unknown hyperparameter"]),
]


@pytest.mark.parametrize("body,needles", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_config_messages(write_yaml, body: str, needles: list[str]) -> None:
    path = write_yaml(body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config("configs/nope.yaml")


def test_bad_override() -> None:
    with pytest.raises(ConfigError, match="--set"):
        load_config(SMOKE, overrides=["env.n_envs"])
    with pytest.raises(ConfigError, match="env.n_envs"):
        load_config(SMOKE, overrides=["env.n_envs=0"])


def test_error_names_the_base_file_that_set_the_key(write_yaml, tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(f"extends: {CONFIGS}/smoke.yaml\nenv:\n  frame_stack: banana\n")
    path = write_yaml("extends: base.yaml\nseed: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(str(tmp_path / "base.yaml")), info.value


def test_extends_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "a.yaml")


def test_yaml_is_safe_loaded(write_yaml) -> None:
    path = write_yaml("extends: @CONFIGS@/smoke.yaml\nname: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="YAML"):
        load_config(path)


def test_class_path_allowlist() -> None:
    from simple_game.policies import SimpleNatureCNN

    assert resolve_class_path("simple_game.policies.SimpleNatureCNN") is SimpleNatureCNN
    assert resolve_class_path("src.simple_game.policies.SimpleNatureCNN") is SimpleNatureCNN
    with pytest.raises(ConfigError, match="not allowed"):
        resolve_class_path("subprocess.Popen")
    with pytest.raises(ConfigError, match="cannot import"):
        resolve_class_path("torch.nn.NoSuchLayer")


def test_model_kwargs_resolves_classes() -> None:
    import torch

    cfg = load_config(
        CONFIGS / "a2c_breakout.yaml", overrides=["hyperparams.policy_kwargs.activation_fn=torch.nn.Tanh"]
    )
    kwargs = model_kwargs(cfg)
    assert kwargs["policy_kwargs"]["activation_fn"] is torch.nn.Tanh
    assert kwargs["policy_kwargs"]["optimizer_class"].__name__ == "RMSpropTFLike"


def test_cli_bad_config_is_one_line_exit_2(write_yaml) -> None:
    path = write_yaml("extends: @CONFIGS@/smoke.yaml\nenv:\n  game: Breakot\n")
    proc = run_cli("simple_game.train", "--config", str(path))
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "env.game" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_debug_shows_traceback(write_yaml) -> None:
    path = write_yaml("extends: @CONFIGS@/smoke.yaml\nalgo: sac\n")
    proc = run_cli("simple_game.train", "--config", str(path), "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_cli_missing_config_file() -> None:
    proc = run_cli("simple_game.train", "--config", "configs/does_not_exist.yaml")
    assert proc.returncode == 2 and "does_not_exist.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_rom_list_matches_ale_py() -> None:
    """The ROM list read from ale-py's files equals ale-py's own, without importing ale-py to get it."""
    import torch  # noqa: F401  (torch before gymnasium, which ale-py imports: the import-order rule)
    from ale_py import roms

    assert list(bundled_rom_ids()) == roms.get_all_rom_ids()
    assert available_games() == tuple(sorted(roms.get_all_rom_ids())) and "space_invaders" in available_games()


IMPORT_PROBE = """
import sys
order = []

HEAVY = ("torch", "gymnasium", "ale_py", "stable_baselines3")

class Watch:  # sees every lookup of a heavy package, in order (find_spec alone imports nothing)
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY and name not in order:
            order.append(name)
        return None

def imported():
    return " ".join(m for m in order if m in sys.modules)

sys.meta_path.insert(0, Watch())
from simple_game.config import EnvConfig, load_collect_config, load_config
EnvConfig(game="SpaceInvaders")
load_collect_config(sys.argv[2])
print("SCHEMA:" + imported())
load_config(sys.argv[1])
print("LOADED:" + imported())
"""


def test_loading_a_config_imports_no_ale_py_or_gymnasium_first() -> None:
    """Game names resolve without ale-py; only the hyperparameter check imports SB3, torch first."""
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, str(SMOKE), str(CONFIGS / "collect_breakout.yaml")],
        env=cli_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(":", 1) for line in proc.stdout.splitlines() if ":" in line)
    assert lines["SCHEMA"] == "", proc.stdout
    loaded = lines["LOADED"].split()
    assert "ale_py" not in loaded, loaded
    assert loaded[0] == "stable_baselines3" and loaded.index("torch") < loaded.index("gymnasium"), loaded


def test_collect_config_errors_use_the_same_formatter(write_yaml) -> None:
    path = write_yaml("env: {game: Breakout}\ntiers:\n  - random: true\n    chekpoint: best\n", name="c.yaml")
    with pytest.raises(ConfigError) as info:
        load_collect_config(path)
    assert str(info.value) == (
        f"{path}: tiers.0.chekpoint: unknown key (did you mean 'checkpoint'?) "
        "(allowed: level, random, run, checkpoint, algo, episodes, max_steps)"
    )
    path = write_yaml("tiers: [{random: true}]\n", name="c.yaml")
    with pytest.raises(ConfigError) as info:
        load_collect_config(path)
    assert (
        str(info.value)
        == f"{path}: give either run: (a training run directory) or env: (game, protocol, frame_stack ...)"
    )
    with pytest.raises(ConfigError, match=r"^--set: tiers.0: unknown algorithm 'sax' \(allowed: ppo"):
        load_collect_config(path, ["env={game: Pong}", "tiers=[{checkpoint: best, algo: sax}]"])
    cfg = load_collect_config(path, ["env={game: Pong}"])
    assert cfg.env is not None and cfg.env.game == "pong" and cfg.tiers[0].random


def test_load_yaml_model_reports_origins_and_hides_internal_keys(write_yaml) -> None:
    path = write_yaml("extends: @CONFIGS@/smoke.yaml\nseed: 4\n")
    cfg, origins = load_yaml_model(path, ExperimentConfig, ["env.n_envs=3"], flags={"name": ("--name", "x")})
    assert (cfg.seed, cfg.env.n_envs, cfg.name) == (4, 3, "x")
    assert origins["seed"] == str(path) and origins["env.n_envs"] == "--set" and origins["name"] == "--name"
    assert origins["total_timesteps"] == str(SMOKE)
    with pytest.raises(ConfigError) as info:
        load_config(write_yaml("extends: @CONFIGS@/smoke.yaml\nsourc: 1\n"))
    assert "(allowed: name, algo, seed," in str(info.value) and "source" not in str(info.value).split("allowed")[1]
