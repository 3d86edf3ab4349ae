"""Export to Minari, Farama's standard for offline-RL datasets: one Minari dataset per tier.

    simple-game collect export data/ --minari breakout [--to DIR]

Tier ``k`` becomes ``simple-game/<name>-skill<k>-v0``, readable with ``minari.load_dataset``.
Each episode keeps Minari's layout: ``observations`` has T + 1 entries (frame t is what the
agent saw when it chose ``actions[t]``), ``actions``, ``rewards``, ``terminations`` and
``truncations`` have T (Minari's ``truncations`` also marks an episode a ``max_steps`` cap
stopped, which this format records as neither flag). Frames are stored losslessly (no JPEG).
The tier, its checkpoint, the seeds and the protocol go into each dataset's metadata.

An export goes into ``DIR`` (or Minari's root, ``MINARI_DATASETS_PATH``, default
``~/.minari/datasets``); a name that exists there is refused before anything is written, and a
failed export removes only what it created. Needs the optional extra: ``pip install
'simple-game[minari]'``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

import simple_game.envs  # noqa: F401  (the import order gymnasium needs; minari imports it too)
from simple_game.dataset.format import DatasetError, tier_name
from simple_game.dataset.reader import DatasetReader, open_dataset

NAMESPACE = "simple-game"
NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]*(-[A-Za-z0-9_.]+)*$")


def minari_id(name: str, level: int, version: int = 0) -> str:
    """A tier's Minari id, ``namespace/name-vN``: ``simple-game/breakout-skill0-v0``."""
    return f"{NAMESPACE}/{name}-skill{level}-v{version}"


@contextlib.contextmanager
def datasets_root(directory: Optional[Path]) -> Iterator[Path]:
    """Point Minari at ``directory`` while exporting (its root is read from the environment)."""
    old = os.environ.get("MINARI_DATASETS_PATH")
    if directory is not None:
        os.environ["MINARI_DATASETS_PATH"] = str(directory)
    try:
        from minari.storage.datasets_root_dir import get_dataset_path  # noqa: PLC0415  (an optional extra)

        yield Path(get_dataset_path())
    finally:
        if directory is not None:
            if old is None:
                os.environ.pop("MINARI_DATASETS_PATH", None)
            else:
                os.environ["MINARI_DATASETS_PATH"] = old


def _metadata(reader: DatasetReader, tier: dict[str, Any]) -> dict[str, Any]:
    """The dataset's ``simple_game`` metadata: the tier (its checkpoint, sampling), seeds, protocol, pairing."""
    manifest = reader.manifest
    return {
        "source": "simple-game gameplay dataset",
        "tier": tier,
        "game": reader.game,
        "protocol": reader.protocol,
        "env": manifest.get("env"),
        "frame_skip": reader.frame_skip,  # emulator frames per action: each action was repeated this often
        "action_meanings": reader.action_meanings,
        "action_labels": manifest.get("action_labels"),
        "pairing": manifest.get("frames", {}).get("pairing"),
        "collection_seed": manifest.get("collection", {}).get("seed"),
        "split": manifest.get("split", {}).get("validation_fraction"),
        "versions": manifest.get("versions"),
        "seeds": "each episode's env reset seed is its Minari seed; SeedSequence([collection_seed, level, index])",
    }


def _buffers(reader: DatasetReader, name: str) -> Iterator[Any]:
    """Each episode of one tier as a Minari ``EpisodeBuffer``, one at a time (seeds and lives in it).

    One at a time, so an export holds one episode's frames, never a tier's: 50 whole RGB games
    are gigabytes.
    """
    from minari.data_collector.episode_buffer import EpisodeBuffer  # noqa: PLC0415

    listing = {e["episode_id"]: e for e in _records(reader, name)}
    for i, info in enumerate(reader.episodes(tiers=name)):
        ep = reader.load_episode(info)
        capped = np.zeros(info.length, dtype=bool)
        if info.end not in ("game_over", "frame_cap") and info.length:
            capped[-1] = True  # a max_steps cap: Minari calls an episode stopped from outside truncated
        yield EpisodeBuffer(
            id=i,
            seed=int(listing[info.episode_id]["seed"]),
            observations=list(ep.frames),
            actions=[int(a) for a in ep.actions],
            rewards=[float(r) for r in ep.rewards],
            terminations=[bool(x) for x in ep.terminated],
            truncations=[bool(x) for x in ep.truncated | capped],
            infos={"lives": ep.lives.astype(np.int64)},
        )


def _records(reader: DatasetReader, name: str) -> list[dict[str, Any]]:
    tier = next(t for t in reader.manifest["tiers"] if t["name"] == name)
    return list(json.loads((reader.root / tier["actions_file"]).read_text(encoding="utf-8"))["episodes"])


def export_minari(
    root: Union[str, Path],
    name: str,
    *,
    directory: Union[None, str, Path] = None,
    progress: Optional[Callable[[str], None]] = None,
) -> list[str]:
    """Write one Minari dataset per tier; return their ids. Refuses a name that exists, changing nothing."""
    try:
        import minari  # noqa: PLC0415  (an optional extra)
        from gymnasium import spaces  # noqa: PLC0415  (imported after simple_game.envs)
    except ImportError:
        raise DatasetError("Minari export needs the minari extra: pip install 'simple-game[minari]'") from None
    if not NAME_RULE.match(name) or re.search(r"-v\d+$", name):
        raise DatasetError(f"--minari {name!r}: a name like breakout (letters, digits, _ . -; no /, no -vN)")
    reader = open_dataset(root)
    tiers = [t for t in reader.manifest["tiers"] if t["episodes"]]
    ids = [minari_id(name, int(t["skill_level"])) for t in tiers]
    with datasets_root(Path(directory) if directory is not None else None) as base, warnings.catch_warnings():
        taken = [i for i in ids if (base / i).exists()]
        if taken:
            raise DatasetError(f"{base / taken[0]}: a Minari dataset {taken[0]} exists; choose another name")
        warnings.filterwarnings("ignore", module="minari")  # its advice on code_permalink, eval_env, e-mail
        created: list[Path] = []
        try:
            for tier, dataset_id in zip(tiers, ids, strict=True):
                created.append(base / dataset_id)
                dataset = minari.create_dataset_from_buffers(
                    dataset_id=dataset_id,
                    buffer=[],  # the episodes follow one by one
                    observation_space=spaces.Box(0, 255, shape=reader.frame_shape, dtype=np.uint8),
                    action_space=spaces.Discrete(len(reader.action_meanings)),
                    algorithm_name=str(tier.get("source") or tier.get("algo") or "random"),
                    author="simple-game collect",
                    description=f"{reader.game} {tier['name']} ({reader.protocol} protocol), recorded by simple-game",
                    data_format="hdf5",
                    jpeg_encoding=False,  # lossless: the frames stay bit-exact
                )
                for buffer in _buffers(reader, tier_name(int(tier["skill_level"]))):
                    dataset.update_dataset_from_buffer([buffer])
                dataset.storage.update_metadata({"simple_game": _metadata(reader, tier)})
                if progress:
                    progress(f"{dataset_id}: {tier['episodes']} episodes -> {base / dataset_id}")
        except BaseException:
            for path in created:  # only what this export made
                shutil.rmtree(path, ignore_errors=True)
            raise
    return ids
