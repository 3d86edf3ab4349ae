"""RL Zoo agents: the run folder layout, its ``config.yml`` / ``args.yml``, and gymnasium env ids.

``python -m rl_zoo3.train --algo ppo --env BreakoutNoFrameskip-v4`` writes
``logs/ppo/BreakoutNoFrameskip-v4_1/``: the final model ``BreakoutNoFrameskip-v4.zip``,
``best_model.zip`` and ``rl_model_<steps>_steps.zip`` beside it, and the settings in
``BreakoutNoFrameskip-v4/config.yml`` (hyperparameters: ``env_wrapper``, ``frame_stack``),
``args.yml`` (command line: ``algo``, ``env``) and ``env_kwargs.yml``. A Hub repository made by
``rl_zoo3.push_to_hub`` holds ``ppo-BreakoutNoFrameskip-v4.zip`` with the same three files beside it.

The Zoo writes them with ``yaml.dump`` of an ``OrderedDict``, which PyYAML tags
``!!python/object/apply:collections.OrderedDict``: :func:`read_zoo_yaml` reads such tags as
plain data and never constructs Python objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from simple_game.errors import SimpleGameError

ZOO_FILES = ("config.yml", "args.yml", "env_kwargs.yml")
# <Game>NoFrameskip-v4, <Game>-v4, <Game>Deterministic-v4, ALE/<Game>-v5 (``ALE-`` in Hub file names).
ENV_ID = re.compile(
    r"(?:ALE[/-])?(?P<game>[A-Z][A-Za-z0-9]*?)(?P<variant>NoFrameskip|Deterministic)?-v(?P<version>\d+)"
)
# ale-py v0 and v5 ids repeat the previous action with probability 0.25 (sticky actions); v4 ids do not.
STICKY_VERSIONS = {"0", "5"}
# SB3's AtariWrapper keyword -> simple-game's env key.
WRAPPER_KEYS = {
    "noop_max": "noop_max",
    "frame_skip": "frame_skip",
    "screen_size": "screen_size",
    "terminal_on_life_loss": "terminal_on_life_loss",
    "clip_reward": "clip_reward",
    "action_repeat_probability": "repeat_action_probability",
}
# ale-py keyword (the Zoo passes env_kwargs to gymnasium.make) -> simple-game's env key.
ENV_KWARGS_KEYS = {
    "full_action_space": "full_action_space",
    "repeat_action_probability": "repeat_action_probability",
    "max_num_frames_per_episode": "max_frames_per_episode",
}


class _ZooLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``!!python/...`` tags as the plain data under them."""


def _python_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if suffix == "object/apply:collections.OrderedDict" and isinstance(value, list) and value:
        return {pair[0]: pair[1] for pair in value[0]}
    if isinstance(value, dict) and isinstance(value.get("args"), list) and value["args"]:
        return value["args"][0]  # a str subclass (huggingface_sb3's EnvironmentName): its value
    return value


_ZooLoader.add_multi_constructor("tag:yaml.org,2002:python/", _python_tag)


def read_zoo_yaml(path: Path) -> dict[str, Any]:
    """One of the Zoo's YAML files as a dict (one line naming the file if it is not one)."""
    try:
        data = yaml.load(path.read_text(), Loader=_ZooLoader)  # noqa: S506 - a safe loader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise SimpleGameError(f"{path}: not a readable RL Zoo file ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SimpleGameError(f"{path}: not an RL Zoo config (expected a mapping)")
    return data


@dataclass(frozen=True)
class ZooConfig:
    """What the Zoo's files say about an agent: env id, algorithm, frame stack, Atari wrapper settings."""

    folder: Path
    env_id: Optional[str] = None
    algo: Optional[str] = None
    frame_stack: Optional[int] = None
    atari_wrapper: bool = False
    env_settings: dict[str, Any] = field(default_factory=dict)  # simple-game env keys from wrapper and env kwargs

    @property
    def source(self) -> Path:
        return self.folder / "config.yml"


def _atari_wrapper_kwargs(wrapper: Any) -> Optional[dict[str, Any]]:
    """The kwargs of an ``env_wrapper`` entry naming SB3's AtariWrapper (``None`` when there is none)."""
    entries = wrapper if isinstance(wrapper, list) else [wrapper]
    for entry in entries:
        if isinstance(entry, str) and entry.endswith("AtariWrapper"):
            return {}
        if isinstance(entry, dict):
            for name, kwargs in entry.items():
                if str(name).endswith("AtariWrapper"):
                    return dict(kwargs or {})
    return None


def read_zoo_config(folder: Path) -> Optional[ZooConfig]:
    """The Zoo files in ``folder`` (``None`` when it holds none of them)."""
    if not any((folder / name).is_file() for name in ZOO_FILES):
        return None
    config, args, env_kwargs = (read_zoo_yaml(folder / name) if (folder / name).is_file() else {} for name in ZOO_FILES)
    env_kwargs = env_kwargs or dict(args.get("env_kwargs") or {})
    wrapper = _atari_wrapper_kwargs(config.get("env_wrapper"))
    settings = {ours: (wrapper or {})[key] for key, ours in WRAPPER_KEYS.items() if key in (wrapper or {})}
    settings.update({ours: env_kwargs[key] for key, ours in ENV_KWARGS_KEYS.items() if key in env_kwargs})
    stack = config.get("frame_stack")
    return ZooConfig(
        folder=folder,
        env_id=str(args["env"]) if args.get("env") else None,
        algo=str(args["algo"]).lower() if args.get("algo") else None,
        frame_stack=int(stack) if isinstance(stack, int) and not isinstance(stack, bool) else None,
        atari_wrapper=wrapper is not None,
        env_settings=settings,
    )


def env_id_in(name: str) -> Optional[str]:
    """The gymnasium env id in a file or folder name (``ppo-BreakoutNoFrameskip-v4``, ``Pong-v4_2``)."""
    match = ENV_ID.search(name)
    return match.group(0) if match else None


def game_and_protocol(env_id: str) -> tuple[str, str]:
    """``BreakoutNoFrameskip-v4`` -> ``("Breakout", "classic")``; ``ALE/Pong-v5`` -> ``("Pong", "modern")``."""
    match = ENV_ID.fullmatch(env_id.strip())
    if match is None:
        raise SimpleGameError(f"{env_id!r}: not an Atari env id (e.g. BreakoutNoFrameskip-v4 or ALE/Breakout-v5)")
    if match.group("variant") == "Deterministic":
        raise SimpleGameError(
            f"{env_id}: its emulator already skips 4 frames, so the agent's frame skip is not DeepMind's; "
            "use an agent trained on a NoFrameskip-v4 or ALE/...-v5 env"
        )
    return match.group("game"), "modern" if match.group("version") in STICKY_VERSIONS else "classic"


def zoo_run_zip(folder: Path, checkpoint: Optional[str]) -> Optional[Path]:
    """In a Zoo run folder (``<Env>_<n>/``), the zip ``checkpoint`` names; ``None`` if it is not one.

    ``None`` or ``latest``: the final model ``<Env>.zip`` (what ``rl_zoo3.enjoy`` plays);
    ``best``: ``best_model.zip``; ``step_N``: ``rl_model_N_steps.zip``.
    """
    env = re.sub(r"_\d+$", "", folder.name)
    if not (folder / env).is_dir() or not any((folder / env / name).is_file() for name in ZOO_FILES):
        return None
    names = {None: f"{env}.zip", "latest": f"{env}.zip", "best": "best_model.zip"}
    step = re.fullmatch(r"step_(\d+)", checkpoint or "")
    name = f"rl_model_{step.group(1)}_steps.zip" if step else names.get(checkpoint)
    if name is None:
        raise SimpleGameError(f"--checkpoint: {checkpoint!r}: an RL Zoo run has latest (the final model), best, step_N")
    if not (folder / name).is_file():
        found = ", ".join(sorted(p.name for p in folder.glob("*.zip"))) or "none"
        raise SimpleGameError(f"{folder}: RL Zoo run without {name} (zips here: {found})")
    return folder / name


def zoo_config_near(zip_path: Path) -> Optional[ZooConfig]:
    """The Zoo config of a zip: beside it (a Hub repository) or in ``<Env>/`` beside it (a run folder)."""
    folder = zip_path.parent
    env = re.sub(r"_\d+$", "", folder.name)
    for candidate in (folder / env, folder):
        config = read_zoo_config(candidate)
        if config is not None:
            return config
    return None
