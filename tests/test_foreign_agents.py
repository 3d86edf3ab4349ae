"""Agents trained elsewhere: RL Zoo runs, plain SB3 scripts, an SB3 1.x zip and a Hub cache, played for real.

Each agent is built the way a plain SB3 script or the RL Zoo builds it (``make_atari_env`` +
``VecFrameStack`` [+ ``VecTransposeImage``], SB3's own ``NatureCNN``) on the real ALE and saved
right after construction: loading, layouts and playing do not need a trained network. The folders
mirror the RL Zoo's run layout and the Hugging Face cache layout where it matters (file names,
``refs/main``, the Zoo's ``yaml.dump`` of an ``OrderedDict``). This machine cannot reach the Hub,
so the Hub agent is a repository folder written into a Hub cache (``HF_HUB_CACHE``) under tmp_path.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import shutil
import subprocess
import sys
import types
import uuid
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.atari_wrappers import MaxAndSkipEnv, WarpFrame
from stable_baselines3.common.env_util import make_atari_env, make_vec_env
from stable_baselines3.common.vec_env import VecFrameStack, VecTransposeImage

import simple_game.envs  # noqa: F401  registers the ALE ids
from conftest import CONFIGS, REPO
from tiny_runs import quiet_env

BREAKOUT = "BreakoutNoFrameskip-v4"
FRAME_CAP = 400  # emulator frames per game: 100 agent steps
HUB_SHA = "0123456789abcdef0123456789abcdef01234567"
ZOO_CONFIG = OrderedDict(
    [
        ("batch_size", 16),
        ("clip_range", "lin_0.1"),
        ("ent_coef", 0.01),
        ("env_wrapper", ["stable_baselines3.common.atari_wrappers.AtariWrapper"]),
        ("frame_stack", 4),
        ("learning_rate", "lin_2.5e-4"),
        ("n_envs", 1),
        ("n_epochs", 1),
        ("n_steps", 16),
        ("n_timesteps", 10000000.0),
        ("policy", "CnnPolicy"),
        ("vf_coef", 0.5),
    ]
)


def zoo_schedules_module() -> types.ModuleType:
    """A stand-in for ``rl_zoo3.utils``: a module whose schedule objects are pickled by reference."""
    name = f"zoo_utils_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)
    exec(
        "class SimpleLinearSchedule:\n"
        "    def __init__(self, initial_value):\n"
        "        self.initial_value = initial_value\n"
        "    def __call__(self, progress_remaining):\n"
        "        return progress_remaining * self.initial_value\n",
        module.__dict__,
    )
    module.SimpleLinearSchedule.__module__ = name
    sys.modules[name] = module
    return module


def atari_vec_env(env_id: str = BREAKOUT, stack: int = 4, transpose: bool = False, wrapper: Any = None) -> Any:
    """The plain-SB3 way: ``make_atari_env`` + ``VecFrameStack`` (channel-last) [+ ``VecTransposeImage``]."""
    if wrapper is None:
        venv = make_atari_env(env_id, n_envs=1, seed=0)
    else:
        venv = make_vec_env(env_id, n_envs=1, seed=0, wrapper_class=wrapper)
    venv = VecFrameStack(venv, n_stack=stack)
    return VecTransposeImage(venv) if transpose else venv


def zoo_ppo(path: Path) -> Path:
    """PPO with the Zoo's pickled schedules from a module that is gone once the zip is written."""
    module = zoo_schedules_module()
    env = atari_vec_env()
    schedule = module.SimpleLinearSchedule
    model = PPO("CnnPolicy", env, n_steps=16, batch_size=16, learning_rate=schedule(2.5e-4), clip_range=schedule(0.1))
    model.save(path)
    env.close()
    del sys.modules[module.__name__]  # as on a machine without rl_zoo3: plain PPO.load fails now
    return path


def write_zoo_yaml(path: Path, data: dict[str, Any]) -> None:
    """As the Zoo writes them: ``yaml.dump`` of an ``OrderedDict`` (tagged ``!!python/object/apply``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(OrderedDict(data)))


def zoo_files(folder: Path, algo: str, env_id: str = BREAKOUT, **config: Any) -> None:
    write_zoo_yaml(folder / "config.yml", {**ZOO_CONFIG, **config})
    write_zoo_yaml(folder / "args.yml", {"algo": algo, "env": env_id, "env_kwargs": None, "seed": 0})
    write_zoo_yaml(folder / "env_kwargs.yml", {"max_num_frames_per_episode": FRAME_CAP})


def zoo_run(root: Path, zip_path: Path, algo: str = "ppo", env_id: str = BREAKOUT) -> Path:
    """``logs/<algo>/<Env>_1/<Env>.zip`` with ``<Env>/config.yml``, ``args.yml``, ``env_kwargs.yml``."""
    run = root / "logs" / algo / f"{env_id}_1"
    run.mkdir(parents=True)
    shutil.copy(zip_path, run / f"{env_id}.zip")
    shutil.copy(zip_path, run / "best_model.zip")
    zoo_files(run / env_id, algo, env_id)
    return run


def hub_cache(cache: Path, repo_id: str, zip_path: Path, algo: str = "ppo", env_id: str = BREAKOUT) -> Path:
    """``models--<org>--<name>/snapshots/<sha>/`` holding what ``rl_zoo3.push_to_hub`` uploads; ``refs/main``."""
    org, name = repo_id.split("/")
    repo = cache / f"models--{org}--{name}"
    snapshot = repo / "snapshots" / HUB_SHA
    snapshot.mkdir(parents=True)
    shutil.copy(zip_path, snapshot / f"{algo}-{env_id}.zip")
    zoo_files(snapshot, algo, env_id)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(HUB_SHA)
    return snapshot


def plain_dqn(path: Path, stack: int = 2) -> Path:
    """A plain-SB3-script DQN: ``VecTransposeImage(VecFrameStack(make_atari_env(...)))``, channel-first."""
    env = atari_vec_env(stack=stack, transpose=True)
    DQN("CnnPolicy", env, buffer_size=100, learning_starts=10).save(path)
    env.close()
    return path


def plain_ppo(path: Path, env_id: str = BREAKOUT, wrapper: Any = None) -> Path:
    env = atari_vec_env(env_id, wrapper=wrapper)
    PPO("CnnPolicy", env, n_steps=16, batch_size=16).save(path)
    env.close()
    return path


def non_square_frames(env: Any) -> Any:
    """84 high, 64 wide: a screen no square ``env.screen_size`` gives."""
    return WarpFrame(MaxAndSkipEnv(env, skip=4), width=64, height=84)


# --- an SB3 1.x zip: gym spaces, the pre-1.7 actor-critic weights ------------------------------


def _gym_pickle(space: Any) -> str:
    """Pickle a gymnasium space as gym 0.21 pickled it: class ``gym.spaces.<kind>``, gym's attributes."""
    kind = type(space).__name__
    module = types.ModuleType(f"gym.spaces.{kind.lower()}")
    legacy = type(kind, (), {"__module__": module.__name__})
    setattr(module, kind, legacy)
    saved = {name: sys.modules.get(name) for name in ("gym", "gym.spaces", module.__name__)}
    sys.modules.update({"gym": types.ModuleType("gym"), "gym.spaces": types.ModuleType("gym.spaces")})
    sys.modules[module.__name__] = module
    try:
        obj = legacy.__new__(legacy)
        state = {k: v for k, v in vars(space).items() if k not in ("low_repr", "high_repr", "start")}
        state["np_random"] = None
        obj.__dict__.update(state)
        return base64.b64encode(pickle.dumps(obj)).decode()
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old


def old_sb3_release(src: Path, dst: Path) -> Path:
    """``src`` rewritten as SB3 1.6 wrote it: gym-pickled spaces, no ``pi_``/``vf_features_extractor`` weights."""
    model = PPO.load(src, custom_objects={"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": 0.0})
    with zipfile.ZipFile(src) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(entries["data"])
    for key in ("observation_space", "action_space"):
        data[key][":serialized:"] = _gym_pickle(getattr(model, key))
        data[key][":type:"] = (
            f"<class 'gym.spaces.{type(getattr(model, key)).__name__.lower()}.{type(getattr(model, key)).__name__}'>"
        )
    entries["data"] = json.dumps(data, indent=4).encode()
    weights = torch.load(io.BytesIO(entries["policy.pth"]), weights_only=True)
    old = {k: v for k, v in weights.items() if not k.startswith(("pi_features_extractor", "vf_features_extractor"))}
    buffer = io.BytesIO()
    torch.save(old, buffer)
    entries["policy.pth"] = buffer.getvalue()
    entries["_stable_baselines3_version"] = b"1.6.2"
    with zipfile.ZipFile(dst, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return dst


# --- the tests -----------------------------------------------------------------------------------

pytestmark = pytest.mark.slow
REPO_ID = "sb3/ppo-BreakoutNoFrameskip-v4"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every foreign agent, once per module; checks that plain SB3 cannot load the Zoo's zip."""
    root = tmp_path_factory.mktemp("foreign")
    zoo_zip = zoo_ppo(root / "zoo.zip")
    with pytest.raises(ModuleNotFoundError):  # the pickled schedule's module is gone
        PPO.load(zoo_zip)
    dqn = plain_dqn(root / "dqn_script.zip", stack=2)
    (root / "dqn.yaml").write_text(
        f"extends: {CONFIGS}/dqn_breakout.yaml\nenv: {{frame_stack: 2, max_frames_per_episode: {FRAME_CAP}}}\n"
    )
    (root / "breakout.yaml").write_text(
        f"extends: {CONFIGS}/smoke.yaml\nenv: {{max_frames_per_episode: {FRAME_CAP}}}\n"
    )
    return {
        "root": root,
        "zoo_zip": zoo_zip,
        "zoo_run": zoo_run(root / "zoo", zoo_zip),
        "old_run": zoo_run(root / "old", old_sb3_release(zoo_zip, root / "old.zip")),
        "dqn": dqn,
        "dqn_config": root / "dqn.yaml",
        "breakout_config": root / "breakout.yaml",
        "hub_cache": root / "hf",
        "hub_snapshot": hub_cache(root / "hf", REPO_ID, zoo_zip),
        "pong": plain_ppo(root / "pong_agent.zip", "PongNoFrameskip-v4"),
        "narrow": plain_ppo(root / "narrow.zip", wrapper=non_square_frames),
    }


def run_offline(*args: str, cache: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m <args>`` with one torch thread, the test's Hub cache and no network."""
    env = quiet_env() | {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=timeout
    )


def evaluate_json(made: dict[str, Path], tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "eval.json"
    proc = run_offline("simple_game.evaluate", *args, "--episodes", "1", "--json", str(out), cache=made["hub_cache"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_sb3_stores_image_spaces_channel_first(made: dict[str, Path]) -> None:
    """VecFrameStack alone stacks channel-last; SB3 transposed it before building NatureCNN (what layout.py relies on)."""
    from simple_game.agents.sources import read_saved_agent

    assert read_saved_agent(made["zoo_zip"]).observation_shape == ((4, 84, 84), "uint8")  # VecFrameStack only
    assert read_saved_agent(made["dqn"]).observation_shape == ((2, 84, 84), "uint8")  # + VecTransposeImage


def test_zoo_run_folder_plays_under_its_own_config(made: dict[str, Path], tmp_path: Path) -> None:
    report = evaluate_json(made, tmp_path, str(made["zoo_run"]))
    assert report["game"] == "breakout" and report["algo"] == "ppo" and report["n_episodes"] == 1
    assert report["checkpoint"].endswith("BreakoutNoFrameskip-v4_1/BreakoutNoFrameskip-v4.zip")
    proto = report["protocol"]
    assert proto["protocol"] == "classic" and proto["frame_stack"] == 4 and proto["screen_size"] == 84
    assert proto["max_frames_per_episode"] == FRAME_CAP and report["episode_lengths"][0] <= FRAME_CAP // 4


def test_hub_agent_from_the_cache(made: dict[str, Path], tmp_path: Path) -> None:
    report = evaluate_json(made, tmp_path, "--checkpoint", f"hf://{REPO_ID}")
    assert report["checkpoint"] == str(made["hub_snapshot"] / "ppo-BreakoutNoFrameskip-v4.zip")
    assert report["algo"] == "ppo" and report["protocol"]["max_frames_per_episode"] == FRAME_CAP


def test_plain_sb3_dqn_with_config_and_old_release(made: dict[str, Path], tmp_path: Path) -> None:
    """A plain script's DQN stacking 2 frames (its config says so), and an SB3 1.6 zip pickling gym spaces."""
    report = evaluate_json(made, tmp_path, str(made["dqn"]), "--config", str(made["dqn_config"]))
    assert report["algo"] == "dqn" and report["protocol"]["frame_stack"] == 2 and report["n_episodes"] == 1
    old = evaluate_json(made, tmp_path, str(made["old_run"]), "--checkpoint", "best", "--deterministic")
    assert old["checkpoint"].endswith("best_model.zip") and old["algo"] == "ppo" and old["n_episodes"] == 1


def test_record_a_zoo_agent(made: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "zoo.mp4"
    proc = run_offline(
        "simple_game.record", str(made["zoo_run"]), "--max-steps", "20", "--out", str(out), cache=made["hub_cache"]
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out.stat().st_size > 1000 and "20 frames" in proc.stdout


def test_resolution_without_games(made: dict[str, Path], tmp_path: Path) -> None:
    """A Zoo zip alone (its env id in its name), the Zoo's checkpoint names, and the config an agent brings."""
    from simple_game.errors import SimpleGameError
    from simple_game.evaluation import resolve_target

    alone = tmp_path / "BreakoutNoFrameskip-v4.zip"
    shutil.copy(made["zoo_zip"], alone)
    target = resolve_target(str(alone))
    assert target.cfg.env.game == "breakout" and target.cfg.env.frame_stack == 4 and target.cfg.algo == "ppo"
    assert target.agent["format"] == "sb3" and target.step == 0 and target.label == "BreakoutNoFrameskip-v4"
    best = resolve_target(str(made["zoo_run"]), checkpoint="best")
    assert best.checkpoint == made["zoo_run"] / "best_model.zip" and best.agent["format"] == "rl-zoo"
    with pytest.raises(SimpleGameError, match="without rl_model_5_steps.zip"):
        resolve_target(str(made["zoo_run"]), checkpoint="step_5")
    baseline = resolve_target(str(made["zoo_run"]), random_policy=True)
    assert baseline.checkpoint is None and baseline.cfg.env.max_frames_per_episode == FRAME_CAP
    with pytest.raises(SimpleGameError, match="trained on breakout"):
        resolve_target(str(made["zoo_run"]), config=str(CONFIGS / "ppo_pong.yaml"))


def _one_line_error(capsys: pytest.CaptureFixture, main: Any, *args: str) -> str:
    code = main(list(args))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


def test_incompatible_agents_are_one_line(made: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from simple_game.cli.collect import main as collect_main
    from simple_game.cli.evaluate import main as evaluate_main

    config = str(made["breakout_config"])
    err = _one_line_error(capsys, evaluate_main, str(made["pong"]), "--config", config)
    assert str(made["pong"]) in err and "6 actions, but breakout has 4" in err
    err = _one_line_error(capsys, evaluate_main, str(made["narrow"]), "--config", config)
    assert str(made["narrow"]) in err and "84x64 frames" in err and "cannot be matched" in err
    assert "does not say which game" in _one_line_error(capsys, evaluate_main, str(made["dqn"]))
    # A dataset of 64x64 frames cannot feed an agent that sees 84x84 ones; nothing is written.
    small = tmp_path / "small.yaml"
    small.write_text(
        f"env: {{game: Breakout, screen_size: 64}}\noutput: {tmp_path / 'd'}\n"
        f"tiers: [{{random: true}}, {{checkpoint: {made['zoo_run']}}}]\n"
    )
    err = _one_line_error(capsys, collect_main, "--config", str(small))
    assert "tiers.1" in err and "84x84 frames" in err and "64x64" in err and not (tmp_path / "d").exists()
    # Another game's agent as the second of two agent tiers: refused before the first is recorded.
    pong = tmp_path / "pong.yaml"
    pong.write_text(
        f"env: {{game: Breakout}}\noutput: {tmp_path / 'd'}\n"
        f"tiers: [{{checkpoint: {made['zoo_run']}}}, {{checkpoint: {made['pong']}}}]\n"
    )
    err = _one_line_error(capsys, collect_main, "--config", str(pong))
    assert "tiers.1" in err and "6 actions, breakout has 4" in err and not (tmp_path / "d").exists()


def test_collect_tiers_from_elsewhere(made: dict[str, Path], tmp_path: Path) -> None:
    """Zoo, Hub and plain-script agents (4, 4 and 2 frames) as tiers of an 8-frame dataset; verify replays it."""
    data = tmp_path / "data"
    config = tmp_path / "collect.yaml"
    config.write_text(
        f"env: {{game: Breakout, frame_stack: 8, max_frames_per_episode: {FRAME_CAP}}}\noutput: {data}\n"
        "episodes: 1\nmax_steps: 30\nworkers: 0\ntiers:\n  - {random: true}\n"
        f"  - {{checkpoint: {made['zoo_run']}}}\n  - {{checkpoint: 'hf://{REPO_ID}'}}\n  - {{checkpoint: {made['dqn']}}}\n"
    )
    proc = run_offline("simple_game.collect", "--config", str(config), cache=made["hub_cache"])
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["frames"]["frame_stack"] == 8
    agents = {t["skill_level"]: t.get("agent") for t in manifest["tiers"]}
    assert agents[0] is None
    assert (
        agents[1]["format"] == "rl-zoo" and agents[1]["frame_stack"] == 4 and agents[1]["from"] == str(made["zoo_run"])
    )
    assert agents[2]["format"] == "rl-zoo" and agents[2]["from"] == f"hf://{REPO_ID}"
    assert agents[3] == {
        "format": "sb3",
        "from": str(made["dqn"]),
        "env_id": None,
        "frame_stack": 2,
        "sb3_version": agents[3]["sb3_version"],
    }
    assert [t["algo"] for t in manifest["tiers"]] == [None, "ppo", "ppo", "dqn"]
    verify = run_offline("simple_game.collect", "verify", str(data), cache=made["hub_cache"])
    assert verify.returncode == 0, verify.stdout[-3000:]


def _policy_weights(path: Path) -> dict[str, torch.Tensor]:
    """An SB3 zip's network tensors, read from its ``policy.pth`` (no class, no schedules)."""
    with zipfile.ZipFile(path) as archive:
        return torch.load(io.BytesIO(archive.read("policy.pth")), map_location="cpu")


def test_fine_tune_a_hub_agent(made: dict[str, Path], tmp_path: Path) -> None:
    """``init_from: hf://...``: the Zoo's NatureCNN network is the new run's first network (learning rate 0 keeps it)."""
    config = tmp_path / "fine_tune.yaml"
    config.write_text(
        f"extends: {made['breakout_config']}\ninit_from: {{agent: 'hf://{REPO_ID}'}}\ntotal_timesteps: 128\n"
        "eval: {freq: 0}\ncheckpoint: {freq: 128}\nhyperparams: {learning_rate: 0.0}\n"
    )
    runs = tmp_path / "runs"
    proc = run_offline(
        "simple_game.train", "--config", str(config), "--runs-dir", str(runs), "--no-progress", cache=made["hub_cache"]
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    (run,) = [p for p in runs.iterdir() if p.is_dir()]
    started, agent = _policy_weights(run / "checkpoints" / "step_128.zip"), _policy_weights(made["zoo_zip"])
    assert started.keys() == agent.keys()
    assert all(torch.equal(started[k], agent[k]) for k in agent)
    assert json.loads((run / "summary.json").read_text())["init_from"]["agent"] == f"hf://{REPO_ID}"
