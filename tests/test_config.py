"""Config loading and validation: every class of bad input gives one clear line, exit 2."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import CONFIGS, REPO, SMOKE, cli_env, run_cli
from simple_game.config import (
    ConfigError,
    EvalConfig,
    ExperimentConfig,
    available_games,
    dump_config,
    load_collect_config,
    load_config,
    load_yaml_model,
    model_kwargs,
    resolve_class_path,
    validate_config,
)
from simple_game.config.games import bundled_rom_ids
from simple_game.config.schedules import LinearSchedule
from simple_game.errors import SimpleGameError

SHIPPED = [
    "ppo_breakout",
    "ppo_breakout_quick",
    "a2c_breakout",
    "dqn_breakout",
    "qrdqn_breakout",
    "ppo_pong",
    "ppo_space_invaders",
    "smoke",
]


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


def test_the_quick_start_config_is_the_full_run_with_a_short_budget() -> None:
    """The README's first run: every RL Zoo hyperparameter of ppo_breakout.yaml, only the budget and
    the evaluation/checkpoint cadence changed (the linear schedules then anneal over 300k steps)."""
    full = load_config(CONFIGS / "ppo_breakout.yaml").to_yaml_dict()
    quick = load_config(CONFIGS / "ppo_breakout_quick.yaml").to_yaml_dict()
    assert quick["total_timesteps"] == 300_000
    assert (quick["eval"]["freq"], quick["eval"]["episodes"], quick["checkpoint"]["freq"]) == (50_000, 10, 100_000)
    changed = {"name", "total_timesteps", "eval", "checkpoint"}
    assert set(quick) == set(full)
    for key in set(full) - changed:
        assert quick[key] == full[key], key
    assert {**quick["eval"], "freq": 0} == {**full["eval"], "freq": 0}
    assert {**quick["checkpoint"], "freq": 0} == {**full["checkpoint"], "freq": 0}


def test_make_help_lists_every_target() -> None:
    """`make help` is the Makefile's table of contents: every phony target has a line."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    makefile = (REPO / "Makefile").read_text()
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:")).split()[1:]
    assert {"help", "setup", "quick", "train", "test", "lint"} <= set(phony)
    for target in phony:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{target} is phony but has no rule"
    out = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    listed = {line.split()[1] for line in out.splitlines() if line.startswith("make ")}
    assert listed == set(phony), out


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
    # A section's key written at the top: the misplaced key is named (not the section it leaves missing).
    ("algo: ppo\ngame: Breakout\ntotal_timesteps: 1000\n", ["exp.yaml: game: unknown key", "under", "env.game"]),
    ("extends: @CONFIGS@/smoke.yaml\neval:\n  games: 3\n", ["exp.yaml: eval.games: unknown key", "episodes"]),
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


def test_unquoted_on_and_off_are_switch_values_not_booleans(write_yaml) -> None:
    # YAML 1.1 reads `off` as false; a user who writes `channels_last: off` means "off".
    path = write_yaml("extends: @CONFIGS@/smoke.yaml\ncompute:\n  channels_last: off\n  compile: on\n")
    cfg = load_config(path, overrides=["compute.heap_reuse=off"])
    assert (cfg.compute.channels_last, cfg.compute.compile, cfg.compute.heap_reuse) == ("off", "on", "off")
    with pytest.raises(ConfigError, match="compute.compile"):
        load_config(path, overrides=["compute.compile=1"])


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


# --- issue 21: whole numbers in scientific notation, where a value came from, changing the game ---

WHOLE = "expected a whole number (an integer like 10000 or 1e4), got"


def test_whole_numbers_in_scientific_notation_from_yaml_and_set(write_yaml) -> None:
    """PyYAML reads ``1e4`` and ``1.0e4`` as strings and ``1.0e+4`` as a float: all are 10000 here."""
    path = write_yaml(
        "extends: @CONFIGS@/smoke.yaml\ntotal_timesteps: 1e4\nenv:\n  n_envs: 4.0\n"
        "eval:\n  freq: 1.0e4\ncheckpoint:\n  freq: 1.0e+4\n"
        "hyperparams:\n  n_steps: 1.28e2\n  batch_size: '6.4e1'\n  ent_coef: 1e-3\n"
    )
    cfg = load_config(path)
    values = (cfg.total_timesteps, cfg.env.n_envs, cfg.eval.freq, cfg.checkpoint.freq)
    assert values == (10_000, 4, 10_000, 10_000) and all(type(v) is int for v in values)
    hp = cfg.hyperparams
    assert (hp["n_steps"], hp["batch_size"]) == (128, 64) and type(hp["n_steps"]) is type(hp["batch_size"]) is int
    assert hp["ent_coef"] == pytest.approx(1e-3)
    assert "total_timesteps: 10000\n" in dump_config(cfg) and "n_steps: 128\n" in dump_config(cfg)
    # 1.5e3 is 1500: a whole number, so accepted like any other spelling of it.
    cfg = load_config(SMOKE, ["total_timesteps=1.5e3", "eval.freq=2.5e2", "env.n_envs=2e0", "video.freq=1E3"])
    assert (cfg.total_timesteps, cfg.eval.freq, cfg.env.n_envs, cfg.video.freq) == (1500, 250, 2, 1000)
    dqn_cfg = load_config(
        CONFIGS / "dqn_breakout.yaml",
        [
            "hyperparams.buffer_size=1e5",
            "hyperparams.learning_starts=5e4",
            "hyperparams.target_update_interval=1e3",
            "hyperparams.train_freq=[4e0, step]",
        ],
    )
    dqn = dqn_cfg.hyperparams
    assert (dqn["buffer_size"], dqn["learning_starts"], dqn["target_update_interval"]) == (100_000, 50_000, 1000)
    assert dqn["train_freq"] == [4, "step"] and model_kwargs(dqn_cfg)["train_freq"] == (4, "step")


@pytest.mark.parametrize(
    "body,overrides,expected",
    [
        ("total_timesteps: 1.2345e3\n", [], f"@PATH@: total_timesteps: {WHOLE} 1.2345e3"),
        ("env:\n  n_envs: 2.5\n", [], f"@PATH@: env.n_envs: {WHOLE} 2.5"),
        ("hyperparams:\n  n_steps: 6.45e1\n", [], f"@PATH@: hyperparams.n_steps: {WHOLE} 6.45e1"),
        ("", ["total_timesteps=1.2345e3"], f"--set: total_timesteps: {WHOLE} 1.2345e3"),
        ("", ["eval.freq=2.5"], f"--set: eval.freq: {WHOLE} 2.5"),
        ("", ["hyperparams.batch_size=1.25e1"], f"--set: hyperparams.batch_size: {WHOLE} 1.25e1"),
        ("", ["total_timesteps=1e400"], f"--set: total_timesteps: {WHOLE} 1e400"),
        # Booleans are never numbers (pydantic's lax mode alone would read true as 1).
        ("", ["env.n_envs=true"], f"--set: env.n_envs: {WHOLE} true"),
        ("checkpoint:\n  keep: false\n", [], f"@PATH@: checkpoint.keep: {WHOLE} false"),
        ("", ["hyperparams.n_epochs=true"], f"--set: hyperparams.n_epochs: {WHOLE} true"),
        ("", ["milestones.thresholds=[true]"], "--set: milestones.thresholds.0: expected a number, got true"),
        ("", ["logging.console_interval_s=true"], "--set: logging.console_interval_s: expected a number, got true"),
        ("", ["hyperparams.ent_coef=fast"], "--set: hyperparams.ent_coef: expected a finite number, got fast"),
    ],
)
def test_fractions_and_booleans_are_not_whole_numbers(
    write_yaml, body: str, overrides: list[str], expected: str
) -> None:
    path = write_yaml("extends: @CONFIGS@/smoke.yaml\n" + body)
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    assert str(info.value) == expected.replace("@PATH@", str(path))


def test_collect_config_integers_follow_the_same_rule(write_yaml) -> None:
    path = write_yaml("env: {game: Breakout}\nepisodes: 1e2\ntiers:\n  - random: true\n    max_steps: 1.0e+3\n")
    cfg = load_collect_config(path)
    assert (cfg.episodes, cfg.tiers[0].max_steps) == (100, 1000)
    with pytest.raises(ConfigError) as info:
        load_collect_config(path, ["episodes=2.5"])
    assert str(info.value) == f"--set: episodes: {WHOLE} 2.5"


def test_origin_names_the_file_or_set_for_every_key(write_yaml, tmp_path: Path) -> None:
    path = write_yaml("extends: @CONFIGS@/smoke.yaml\nseed: 4\n")
    cfg = load_config(path, ["hyperparams.learning_rate=-0.1", "env={game: Pong, n_envs: 2}"], name="mine")
    assert cfg.origin("hyperparams.learning_rate") == "--set"
    assert cfg.where("hyperparams.learning_rate") == "--set: hyperparams.learning_rate"
    assert cfg.origin("env.game") == "--set"  # the closest parent key (env) was set by --set
    assert cfg.origin("seed") == str(path) and cfg.origin("name") == "--name"
    assert cfg.origin("hyperparams.n_steps") == str(SMOKE)
    assert cfg.origin("hyperparams.clip_range") == str(CONFIGS / "base" / "ppo_atari.yaml")
    assert cfg.origin("video.max_steps") == str(path)  # a default no file sets: the config itself
    text = dump_config(cfg)
    assert "origin" not in text and "warning" not in text and "source" not in text
    # A run's config.yaml is the origin of everything once reloaded; a --set on top still says --set.
    saved = tmp_path / "config.yaml"
    saved.write_text(text)
    again = load_config(saved, ["total_timesteps=2e3"])
    assert again.origin("hyperparams.learning_rate") == str(saved) and again.origin("env.game") == str(saved)
    assert again.origin("total_timesteps") == "--set" and again.total_timesteps == 2000 and again.warnings == []
    # What loading records cannot be written in a YAML file.
    with pytest.raises(ConfigError, match="_origins: unknown key"):
        load_config(write_yaml("extends: @CONFIGS@/smoke.yaml\n_origins: {seed: x}\n"))


def test_set_game_renames_the_default_experiment_and_warns_about_milestones(write_yaml) -> None:
    data = CONFIGS / "ppo_breakout_data.yaml"
    cfg = load_config(data, ["env.game=MsPacman"])
    assert (cfg.env.game, cfg.name, cfg.config_name) == ("ms_pacman", "ppo_breakout_data-ms_pacman") + (
        "ppo_breakout_data-ms_pacman",
    )
    assert cfg.warnings == [
        f"milestones.thresholds [50, 150, 250] come from {data}, written for breakout; "
        "with env.game=ms_pacman check them (--set milestones.thresholds=[...])"
    ]
    named = load_config(data, ["env.game=MsPacman"], name="mine")
    assert (named.name, named.config_name, len(named.warnings)) == ("mine", "ppo_breakout_data-ms_pacman", 1)
    fixed = load_config(data, ["env.game=MsPacman", "milestones.thresholds=[500, 1500]"])
    assert fixed.name == "ppo_breakout_data-ms_pacman" and fixed.warnings == []
    same = load_config(data, ["env.game=BreakoutNoFrameskip-v4"])
    assert (same.name, same.config_name, same.warnings) == ("ppo_breakout_data", "ppo_breakout_data", [])
    smoke = load_config(SMOKE, ["env.game=Pong"])  # no thresholds: a new name, nothing to warn about
    assert (smoke.name, smoke.warnings) == ("smoke-pong", [])
    plain = load_config(data)
    assert (plain.name, plain.config_name, plain.warnings) == ("ppo_breakout_data", "ppo_breakout_data", [])
    # A file that changes the game itself keeps its name, but still hears whose thresholds it carries.
    child = load_config(write_yaml("extends: @CONFIGS@/ppo_breakout.yaml\nenv:\n  game: Pong\n", name="pong.yaml"))
    assert child.name == "pong" and child.warnings == [
        f"milestones.thresholds [50, 150, 250] come from {CONFIGS / 'ppo_breakout.yaml'}, written for breakout; "
        "with env.game=pong check them (--set milestones.thresholds=[...])"
    ]


def test_cli_refuses_a_fraction_before_any_run_directory(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    proc = run_cli(
        "simple_game.train",
        "--config",
        str(SMOKE),
        "--runs-dir",
        str(runs),
        "--experiments-md",
        str(tmp_path / "experiments.md"),
        "--set",
        "total_timesteps=1.2345e3",
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"error: --set: total_timesteps: {WHOLE} 1.2345e3", proc.stderr
    assert list(runs.iterdir()) == [] and not (tmp_path / "experiments.md").exists()


# --- issue 17: one evaluation protocol; the QR-DQN warm-up ---


def test_eval_defaults_are_the_evaluate_protocol() -> None:
    """Training's evaluation plays like ``simple-game evaluate``: greedy, epsilon 0.05, every algorithm."""
    from simple_game.evaluation import DEFAULT_EPSILON

    default = EvalConfig()
    assert default.deterministic is True and default.epsilon == 0.05 == DEFAULT_EPSILON
    fields = EvalConfig.model_fields
    assert "greedy" in (fields["deterministic"].description or "")
    assert "uniformly random" in (fields["epsilon"].description or "")
    smoke = load_config(SMOKE, ["eval.deterministic=false", "eval.epsilon=0"])
    assert (smoke.eval.deterministic, smoke.eval.epsilon) == (False, 0.0)
    assert "deterministic: false\n  epsilon: 0.0\n" in dump_config(smoke)


EXPERIMENT_FILES = sorted(p for p in CONFIGS.glob("*.yaml") if not p.name.startswith("collect_"))


def test_every_shipped_config_is_covered() -> None:
    assert sorted(p.stem for p in EXPERIMENT_FILES) == sorted(
        [*SHIPPED, "ppo_breakout_data", "ppo_breakout_data_from_tier1", "ppo_breakout_data_carry_on"]
    )


@pytest.mark.parametrize("name", ["ppo_breakout_data_from_tier1", "ppo_breakout_data_carry_on"])
def test_the_data_recipe_goes_on_from_a_shipped_agent_where_its_run_was(name: str) -> None:
    """A continuation's budget and schedules are the recipe's at the shipped agent's step (its chain included)."""
    import json

    recipe = load_config(CONFIGS / "ppo_breakout_data.yaml")
    carried = load_config(CONFIGS / f"{name}.yaml")
    assert carried.init_from is not None
    agents = json.loads((REPO / carried.init_from.agent / "agents.json").read_text())["agents"]
    agent = next(a for a in agents if a["name"] == carried.init_from.checkpoint)
    step = agent["step"] + (agent.get("steps_before") or 0)
    assert carried.total_timesteps == recipe.total_timesteps - step
    done = step / recipe.total_timesteps
    for key in ("learning_rate", "clip_range"):
        was, now = recipe.hyperparams[key], carried.hyperparams[key]
        assert now.end == was.end == 0.0
        assert now.start == pytest.approx(was(1.0 - done), rel=1e-4), key
    assert carried.hyperparams["policy_kwargs"] == recipe.hyperparams["policy_kwargs"]
    assert (carried.env, carried.milestones) == (recipe.env, recipe.milestones)


@pytest.mark.parametrize("path", EXPERIMENT_FILES, ids=[p.stem for p in EXPERIMENT_FILES])
def test_every_shipped_config_evaluates_greedy_with_epsilon_005(path: Path) -> None:
    cfg = load_config(path)
    assert (cfg.eval.deterministic, cfg.eval.epsilon) == (True, 0.05), path
    # Set explicitly in the shared base, not left to the schema default.
    assert cfg.origin("eval.deterministic") == cfg.origin("eval.epsilon") == str(CONFIGS / "base" / "atari.yaml")


@pytest.mark.parametrize("name", ["collect_breakout.yaml", "collect_breakout_shipped.yaml"])
def test_the_shipped_dataset_is_recorded_with_the_same_protocol(name: str) -> None:
    # PPO agents play their learned (sampled) policy: greedy play halves the 10M agent's score
    cfg = load_collect_config(CONFIGS / name)
    assert cfg.sampling == "stochastic"


def test_the_no_training_dataset_takes_every_tier_shipped_in_agents_breakout(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from simple_game.dataset import build_plan

    monkeypatch.chdir(REPO)  # the config's paths are the README's: relative to the repository
    plan = build_plan(load_collect_config(CONFIGS / "collect_breakout_shipped.yaml"), "collect_breakout_shipped.yaml")
    shipped = json.loads((REPO / "agents" / "breakout" / "agents.json").read_text())["agents"]
    levels = sorted(a["name"] for a in shipped if a["name"].startswith("skill_level_"))
    assert [t.name for t in plan.tiers] == ["skill_level_0", *levels]
    for tier in plan.tiers[1:]:
        assert (
            Path(tier.info["checkpoint"]).resolve().parent == (REPO / "agents" / "breakout" / "checkpoints").resolve()
        )
    assert (plan.env_cfg.game, plan.env_cfg.frame_stack) == ("breakout", 8)


def test_an_old_run_config_without_epsilon_still_loads(tmp_path: Path) -> None:
    """config.yaml of a run made before eval.epsilon existed: deterministic false, no epsilon."""
    old = load_config(SMOKE).to_yaml_dict()
    old["eval"] = {"freq": 256, "episodes": 1, "n_envs": 1, "deterministic": False}
    saved = tmp_path / "runs" / "smoke_20250101-120000" / "config.yaml"
    saved.parent.mkdir(parents=True)
    saved.write_text(yaml.safe_dump(old, sort_keys=False))
    assert "epsilon" not in saved.read_text()
    for cfg in (load_config(saved), validate_config(yaml.safe_load(saved.read_text()), str(saved))):
        assert (cfg.eval.deterministic, cfg.eval.epsilon, cfg.eval.freq) == (False, 0.05, 256)
        assert "deterministic: false\n  epsilon: 0.05\n" in dump_config(cfg)


@pytest.mark.parametrize(
    "body,overrides,expected",
    [
        ("eval:\n  epsilon: 1.5\n", [], "@PATH@: eval.epsilon: Input should be less than or equal to 1 (got 1.5)"),
        ("eval:\n  epsilon: -0.1\n", [], "@PATH@: eval.epsilon: Input should be greater than or equal to 0 (got -0.1)"),
        ("", ["eval.epsilon=2"], "--set: eval.epsilon: Input should be less than or equal to 1 (got 2)"),
        ("", ["eval.epsilon=true"], "--set: eval.epsilon: expected a number, got true"),
        (
            "",
            ["eval.epsilon=often"],
            "--set: eval.epsilon: Input should be a valid number, unable to parse string as a number (got 'often')",
        ),
    ],
)
def test_epsilon_outside_0_1_is_one_line_naming_file_and_key(
    write_yaml, body: str, overrides: list[str], expected: str
) -> None:
    path = write_yaml("extends: @CONFIGS@/smoke.yaml\n" + body)
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    assert str(info.value) == expected.replace("@PATH@", str(path))


def test_qrdqn_uses_the_zoo_warm_up_and_says_why_its_buffer_differs() -> None:
    cfg = load_config(CONFIGS / "qrdqn_breakout.yaml")
    hp = cfg.hyperparams
    assert hp["learning_starts"] == 50_000 and model_kwargs(cfg)["learning_starts"] == 50_000
    assert (hp["exploration_fraction"], hp["optimize_memory_usage"], hp["buffer_size"]) == (0.025, False, 100_000)
    base = CONFIGS / "base" / "qrdqn_atari.yaml"
    assert cfg.origin("hyperparams.learning_starts") == str(base)
    text = base.read_text()
    assert "1,000,000" in text and "56 GB" in text and "v2.3.0" in text


def test_a_folder_or_device_is_not_a_config(tmp_path: Path) -> None:
    for path in (tmp_path, Path("/dev/null")):
        with pytest.raises(ConfigError, match="is not a config file"):
            load_config(path)


def test_collect_plan_errors_blame_the_place_that_named_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run or checkpoint not found is blamed on ``--set`` when an override named it, not on the file."""
    from simple_game.dataset import build_plan

    monkeypatch.chdir(REPO)
    shipped = CONFIGS / "collect_breakout_shipped.yaml"
    with pytest.raises(SimpleGameError, match=r"^--set: run: /nonexistent/run: run directory not found"):
        build_plan(load_collect_config(shipped, ["run=/nonexistent/run"]), str(shipped))
    overrides = ["tiers=[{random: true}, {checkpoint: skill_level_9}]"]
    with pytest.raises(SimpleGameError, match=r"^--set: tiers.1.checkpoint: agents/breakout: no 'skill_level_9'"):
        build_plan(load_collect_config(shipped, overrides), str(shipped))
    with pytest.raises(SimpleGameError, match=rf"^{re.escape(str(shipped))}: run: /nonexistent/run"):
        build_plan(load_collect_config(shipped).model_copy(update={"run": "/nonexistent/run"}), str(shipped))
