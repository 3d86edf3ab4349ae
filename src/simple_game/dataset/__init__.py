"""Gameplay datasets: PNG frames + JSON action logs, recorded by agents of several skill tiers.

Layout of a dataset directory (see docs/dataset.md)::

    data/
      raw_gameplay/skill_level_<k>/episode_<NNN>/frame_<NNNNN>.png   # 84x84 grayscale by default
      raw_gameplay/skill_level_<k>/episode_<NNN>/episode.json        # that episode's record
      actions/skill_level_<k>_actions.json                           # every episode of tier k
      manifest.json                                                  # versions, env, tiers, split

**Pairing.** An episode of ``T`` actions has ``T + 1`` frames. Frame ``t`` (``t < T``) is what
the agent saw when it chose action ``t`` (the newest frame of its stack); frame ``T`` is the
screen after the last action (game over, or where a cap stopped the game). So
``(frame_t, action_t, reward_t, frame_t+1)`` is a transition for every ``t < T``.

**Replay.** Emulation is deterministic given the reset seed (which fixes the random no-op start
and the sticky-action draws) and the actions. :func:`verify_dataset` replays every episode from
its seed and recorded actions and checks each stored frame bit for bit.

**Reading.** :func:`open_dataset` lists tiers, episodes and splits and loads an episode as
arrays; :class:`FrameWindows` is a PyTorch ``Dataset`` of frame windows for world models.

The rooms: :mod:`~simple_game.dataset.format` (names, seeds, split, JSON, PNG),
:mod:`~simple_game.dataset.manifest` (manifest and actions files), :mod:`~simple_game.dataset.episode`
(the env and the loop that plays one episode), :mod:`~simple_game.dataset.plan` (tiers and their
policies), :mod:`~simple_game.dataset.writer` (collection, resume), :mod:`~simple_game.dataset.verify`
(replay), :mod:`~simple_game.dataset.reader` (reading), :mod:`~simple_game.dataset.windows`
(the PyTorch windows), :mod:`~simple_game.dataset.npz` and :mod:`~simple_game.dataset.pack`
(packed shards) and :mod:`~simple_game.dataset.minari_export` (Minari, an optional extra).

Every name below is imported on first use (PEP 562), so ``from simple_game.dataset import
open_dataset`` loads numpy and OpenCV only; recording, replay and :class:`FrameWindows` bring
in the emulator or torch when they are first asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simple_game.dataset.episode import EpisodeResult, make_env, play_episode
    from simple_game.dataset.format import (
        ACTIONS_DIR,
        EPISODE_RECORD,
        FORMAT,
        FORMAT_VERSION,
        MANIFEST,
        PAIRING,
        RAW_DIR,
        STEP_KEYS,
        DatasetError,
        actions_file,
        dumps,
        encode_png,
        episode_id,
        episode_name,
        episode_seeds,
        frame_name,
        read_json,
        read_png,
        tier_name,
        validation_indices,
        write_json,
        write_png,
    )
    from simple_game.dataset.manifest import (
        action_labels,
        build_actions,
        build_manifest,
        env_record,
        public_record,
        replay_key,
        sticky_warning,
        tier_fingerprint,
        versions,
    )
    from simple_game.dataset.minari_export import export_minari, minari_id
    from simple_game.dataset.npz import read_shard, sha256_file, shard_problems, shard_table, write_shard
    from simple_game.dataset.pack import PackReport, pack_dataset
    from simple_game.dataset.plan import (
        AgentPolicy,
        CollectionPlan,
        CollectionStats,
        FrameStacker,
        Policy,
        RandomPolicy,
        TierPlan,
        build_plan,
    )
    from simple_game.dataset.reader import (
        SPLITS,
        DatasetReader,
        Episode,
        EpisodeInfo,
        EpisodeSteps,
        load_manifest,
        open_dataset,
    )
    from simple_game.dataset.verify import EpisodeCheck, VerifyReport, verify_dataset
    from simple_game.dataset.windows import FrameWindows
    from simple_game.dataset.writer import FrameWriter, collect_dataset

# Submodules in the order a public name is looked for: the light ones (numpy, OpenCV) first, then
# torch (windows), then the emulator (episode, verify, plan, writer).
_SEARCH_ORDER = (
    "format",
    "npz",
    "reader",
    "pack",
    "manifest",
    "windows",
    "episode",
    "verify",
    "plan",
    "writer",
    "minari_export",
    "tables",
)
_SUBMODULES = set(_SEARCH_ORDER)

__all__ = [
    "ACTIONS_DIR",
    "AgentPolicy",
    "CollectionPlan",
    "CollectionStats",
    "DatasetError",
    "DatasetReader",
    "EPISODE_RECORD",
    "Episode",
    "EpisodeCheck",
    "EpisodeInfo",
    "EpisodeResult",
    "EpisodeSteps",
    "FORMAT",
    "FORMAT_VERSION",
    "FrameStacker",
    "FrameWindows",
    "FrameWriter",
    "MANIFEST",
    "PAIRING",
    "PackReport",
    "Policy",
    "RAW_DIR",
    "RandomPolicy",
    "SPLITS",
    "STEP_KEYS",
    "TierPlan",
    "VerifyReport",
    "action_labels",
    "actions_file",
    "build_actions",
    "build_manifest",
    "build_plan",
    "collect_dataset",
    "dumps",
    "encode_png",
    "env_record",
    "episode_id",
    "episode_name",
    "episode_seeds",
    "export_minari",
    "frame_name",
    "load_manifest",
    "make_env",
    "minari_id",
    "open_dataset",
    "pack_dataset",
    "play_episode",
    "public_record",
    "read_json",
    "read_png",
    "read_shard",
    "replay_key",
    "sha256_file",
    "shard_problems",
    "shard_table",
    "sticky_warning",
    "tier_fingerprint",
    "tier_name",
    "validation_indices",
    "verify_dataset",
    "versions",
    "write_json",
    "write_png",
    "write_shard",
]


def __getattr__(name: str) -> Any:
    """Import what a public name needs the first time it is asked for (and submodules by name)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in __all__:
        for module in _SEARCH_ORDER:
            loaded = importlib.import_module(f"{__name__}.{module}")
            if name in vars(loaded):
                globals()[name] = value = vars(loaded)[name]
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
