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

The rooms: :mod:`~simple_game.dataset.format` (names, seeds, split, JSON, PNG),
:mod:`~simple_game.dataset.manifest` (manifest and actions files), :mod:`~simple_game.dataset.episode`
(the env and the loop that plays one episode), :mod:`~simple_game.dataset.plan` (tiers and their
policies), :mod:`~simple_game.dataset.writer` (collection, resume) and
:mod:`~simple_game.dataset.verify` (replay).
"""

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
    build_actions,
    build_manifest,
    env_record,
    public_record,
    replay_key,
    tier_fingerprint,
    versions,
)
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
from simple_game.dataset.verify import EpisodeCheck, VerifyReport, load_manifest, verify_dataset
from simple_game.dataset.writer import FrameWriter, collect_dataset

__all__ = [
    "ACTIONS_DIR",
    "EPISODE_RECORD",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "PAIRING",
    "RAW_DIR",
    "STEP_KEYS",
    "AgentPolicy",
    "CollectionPlan",
    "CollectionStats",
    "EpisodeCheck",
    "EpisodeResult",
    "FrameStacker",
    "FrameWriter",
    "Policy",
    "RandomPolicy",
    "TierPlan",
    "VerifyReport",
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
    "frame_name",
    "load_manifest",
    "make_env",
    "play_episode",
    "public_record",
    "read_json",
    "read_png",
    "replay_key",
    "tier_fingerprint",
    "tier_name",
    "validation_indices",
    "verify_dataset",
    "versions",
    "write_json",
    "write_png",
]
