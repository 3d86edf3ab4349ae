"""Recording a dataset: PNG frames on a thread pool, episodes that appear whole, and resumption.

**Crash safety.** An episode is written into ``episode_<NNN>.tmp-<pid>/`` and renamed when it is
complete, so a finished episode directory is never partial; the actions files and the manifest
are rebuilt from the per-episode records and replaced atomically. Per-episode seeds depend only
on (collection seed, tier, episode index), so a resumed collection produces byte-identical
files to an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from simple_game.dataset.episode import EpisodeResult, play_episode
from simple_game.dataset.format import (
    ACTIONS_DIR,
    EPISODE_RECORD,
    FORMAT,
    MANIFEST,
    RAW_DIR,
    actions_file,
    episode_id,
    episode_name,
    episode_seeds,
    frame_name,
    read_json,
    write_json,
    write_png,
)
from simple_game.dataset.manifest import build_actions, build_manifest, replay_key, tier_fingerprint
from simple_game.dataset.parallel import DEFAULT_GAMES_AT_ONCE, EpisodeJob, Players, batched_actor, record_episodes
from simple_game.dataset.plan import CollectionPlan, CollectionStats, Policy, TierPlan
from simple_game.envs import action_meanings
from simple_game.errors import SimpleGameError
from simple_game.evaluation import EpsilonGreedy, setup_inference
from simple_game.fsio import fsync_dir

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    import gymnasium as gym

# Facts of the tier copied into every episode record (the actions file is readable on its own).
TIER_KEYS = ("source", "checkpoint", "checkpoint_sha256", "algo", "sampling", "epsilon")
EpisodeRecords = dict[int, dict[str, Any]]  # episode index -> its record


class FrameWriter:
    """Encode and write PNGs on a thread pool while the emulator keeps playing.

    OpenCV's PNG encoder and file writes release the GIL, so threads run in parallel with the
    main thread's emulation. At most ``max_in_flight`` frames wait in memory; beyond that
    :meth:`submit` blocks (time counted in ``wait_s``, which says whether encoding is the
    bottleneck). ``workers=0`` encodes in the calling thread.
    """

    def __init__(self, workers: int, max_in_flight: int = 256):
        self.workers = workers
        self.max_in_flight = max(1, max_in_flight)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="png") if workers > 0 else None
        self.pending: deque[Future] = deque()
        self.frames = 0
        self.bytes = 0
        self.wait_s = 0.0

    def submit(self, path: Path, frame: np.ndarray) -> None:
        self.frames += 1
        if self.pool is None:
            t0 = time.perf_counter()
            self._write(path, frame)
            self.wait_s += time.perf_counter() - t0
            return
        self.pending.append(self.pool.submit(self._write, path, frame))
        if len(self.pending) > self.max_in_flight:
            t0 = time.perf_counter()
            self.pending.popleft().result()
            self.wait_s += time.perf_counter() - t0

    def _write(self, path: Path, frame: np.ndarray) -> None:
        self.bytes += write_png(path, frame)  # a racy counter is fine: it is only reported

    def drain(self) -> None:
        """Wait until every submitted frame is on disk (re-raising any write error)."""
        t0 = time.perf_counter()
        while self.pending:
            self.pending.popleft().result()
        self.wait_s += time.perf_counter() - t0

    def close(self) -> None:
        if self.pool is not None:
            for fut in self.pending:
                fut.cancel()
            self.pool.shutdown(wait=True)


# --------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------


def collect_dataset(
    plan: CollectionPlan, report: Callable[[str], None] = print, *, games_at_once: Optional[int] = None
) -> CollectionStats:
    """Record every missing episode of every tier, then write the actions files and manifest.

    ``games_at_once`` episodes of a tier are played side by side on emulator processes
    (:mod:`~simple_game.dataset.parallel`; default :data:`DEFAULT_GAMES_AT_ONCE`); ``1`` plays one
    game at a time in this process. Either way every file is byte for byte the same.
    Safe to interrupt at any point and to run again: finished episodes are kept (after checking
    they were made by the same configuration), leftovers of an interrupted one are removed.
    """
    out = plan.output
    meanings = action_meanings(plan.env_cfg)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimpleGameError(f"{out}: cannot create the output directory ({exc.strerror or exc})") from None
    stats = CollectionStats()
    t_start = time.perf_counter()
    with _exclusive(out) as lock_fd:
        _check_resumable(plan, meanings)
        _remove_leftovers(out)
        records = {tier.level: _existing_records(plan, tier) for tier in plan.tiers}
        write_json(out / MANIFEST, build_manifest(plan, meanings, records, complete=False))
        play = Players(
            plan.env_cfg, plan.rgb, max(1, games_at_once or DEFAULT_GAMES_AT_ONCE), FrameWriter(plan.workers)
        )
        play.keep_out = [lock_fd] if lock_fd is not None else []
        try:
            for tier in plan.tiers:
                _collect_tier(plan, tier, records[tier.level], play, meanings, stats, report)
                write_json(out / actions_file(tier.level), build_actions(plan, tier, meanings, records[tier.level]))
            write_json(out / MANIFEST, build_manifest(plan, meanings, records, complete=True))
        finally:
            stats.encode_wait_s = play.writer.wait_s
            stats.bytes_written = play.writer.bytes + play.png_bytes
            play.close()
    stats.wall_s = time.perf_counter() - t_start
    return stats


def _collect_tier(
    plan: CollectionPlan,
    tier: TierPlan,
    records: EpisodeRecords,
    play: Players,
    meanings: list[str],
    stats: CollectionStats,
    report: Callable[[str], None],
) -> None:
    """Record the episodes of one tier that are not on disk yet (loading its agent only then)."""
    missing = [i for i in range(tier.episodes) if i not in records]
    done = tier.episodes - len(missing)
    stats.episodes_skipped += done
    if done:
        report(f"{tier.name}: {done} of {tier.episodes} episodes already recorded")
    if not missing:
        return
    policy = tier.make_policy(len(meanings))
    t_tier, frames = time.perf_counter(), 0

    def finished(index: int, record: dict[str, Any]) -> None:
        nonlocal frames
        records[index] = record
        stats.episodes_written += 1
        stats.frames_written += record["frames"]
        frames += record["frames"]
        rate = frames / max(time.perf_counter() - t_tier, 1e-9)  # the tier's rate so far (games overlap)
        report(
            f"{tier.name} {episode_name(index)}: score {record['score']:g}, {record['length']} steps, "
            f"{record['end']}, {rate:.0f} frames/s"
        )

    batched = batched_actor(policy)
    if play.games_at_once > 1 and len(missing) > 1 and batched is not None:
        _record_batched(plan, tier, missing, play, batched, meanings, finished)
        return
    for index in missing:
        finished(index, _record_episode(plan, tier, index, play.env(), policy, meanings, play.writer))


def _episode_folder(plan: CollectionPlan, tier: TierPlan, index: int) -> Path:
    """The empty temporary folder episode ``index`` is played into."""
    tier_dir = plan.output / RAW_DIR / tier.name
    tier_dir.mkdir(parents=True, exist_ok=True)
    tmp = tier_dir / f"{episode_name(index)}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def _finish_episode(
    plan: CollectionPlan, tier: TierPlan, index: int, result: EpisodeResult, meanings: list[str], tmp: Path
) -> dict[str, Any]:
    """Write the episode's record and rename its folder into place: it appears whole or not at all."""
    record = _episode_record(plan, tier, index, episode_seeds(plan.seed, tier.level, index), result, meanings)
    write_json(tmp / EPISODE_RECORD, record)
    os.rename(tmp, tmp.parent / episode_name(index))
    fsync_dir(tmp.parent)
    return record


def _record_episode(
    plan: CollectionPlan,
    tier: TierPlan,
    index: int,
    env: gym.Env,
    policy: Policy,
    meanings: list[str],
    writer: FrameWriter,
) -> dict[str, Any]:
    """Play one episode into a temporary folder (the one-game-at-a-time path), then put it in place."""
    tmp = _episode_folder(plan, tier, index)
    env_seed, policy_seed = episode_seeds(plan.seed, tier.level, index)
    policy.start(policy_seed)
    result = play_episode(
        env,
        env_seed,
        policy.act,
        lambda t, frame: writer.submit(tmp / frame_name(t), frame),
        rgb=plan.rgb,
        max_steps=tier.max_steps,
    )
    writer.drain()
    return _finish_episode(plan, tier, index, result, meanings, tmp)


def _record_batched(
    plan: CollectionPlan,
    tier: TierPlan,
    missing: list[int],
    play: Players,
    batched: tuple[EpsilonGreedy, Optional[tuple[int, ...]]],
    meanings: list[str],
    finished: Callable[[int, dict[str, Any]], None],
) -> None:
    """Play the missing episodes ``games_at_once`` at a time on emulator processes."""
    jobs = []
    for index in missing:
        env_seed, policy_seed = episode_seeds(plan.seed, tier.level, index)
        jobs.append(EpisodeJob(index, env_seed, policy_seed, _episode_folder(plan, tier, index), tier.max_steps))

    def done(job: EpisodeJob, result: EpisodeResult, png_bytes: int) -> None:
        play.png_bytes += png_bytes
        finished(job.index, _finish_episode(plan, tier, job.index, result, meanings, job.folder))

    setup_inference(0)  # one torch thread: the cores are the emulators'
    record_episodes(play.pool(len(jobs)), jobs, batched[0], batched[1], done)


def _episode_record(
    plan: CollectionPlan,
    tier: TierPlan,
    index: int,
    seeds: tuple[int, int],
    result: EpisodeResult,
    meanings: list[str],
) -> dict[str, Any]:
    """An episode's ``episode.json``: who played it, from which seed, and every step's outcome."""
    return {
        "episode_id": episode_id(tier.level, index),
        "skill_level": tier.level,
        "episode_index": index,
        "seed": seeds[0],
        "policy_seed": seeds[1],
        **{k: tier.info.get(k) for k in TIER_KEYS},
        "max_steps": tier.max_steps,
        "score": result.score,
        "length": result.length,
        "frames": result.length + 1,
        "end": result.end,
        "start_lives": result.start_lives,
        "actions": result.actions,
        "action_names": [meanings[a] for a in result.actions],
        "rewards": result.rewards,
        "lives": result.lives,
        "terminated": result.terminated,
        "truncated": result.truncated,
        "fingerprint": tier_fingerprint(plan, tier),
    }


# --------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[Optional[int]]:
    """One collector per output directory: a lock on the directory itself that fails at once.

    (:func:`simple_game.fsio.locked` waits for its turn and locks a file next to the path; a
    second collect should stop with a message instead, and leave nothing beside the dataset.)
    Yields the locked descriptor, which emulator processes must not keep (a killed collect's
    lock would outlive it in them).
    """
    if sys.platform == "win32":  # pragma: no cover - no advisory locks there
        yield None
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SimpleGameError(f"{out}: another collect is writing to this directory") from None
        yield fd
    finally:
        os.close(fd)


def _check_resumable(plan: CollectionPlan, meanings: list[str]) -> None:
    """Refuse to add episodes to a directory that holds something else, or another collection."""
    out = plan.output
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        if any(p for p in out.iterdir() if not p.name.startswith(".")):
            raise SimpleGameError(
                f"{out}: exists and is not a simple-game dataset (no {MANIFEST}); choose another output directory"
            )
        return
    old = read_json(manifest_path)
    if not isinstance(old, dict) or old.get("format") != FORMAT:
        raise SimpleGameError(f"{manifest_path}: not a simple-game dataset manifest; choose another output directory")
    new = replay_key(build_manifest(plan, meanings, {t.level: {} for t in plan.tiers}, complete=False))
    before = replay_key(old)
    changed = [k for k in new if new[k] != before.get(k)]
    if changed:
        raise SimpleGameError(
            f"{out}: holds a dataset collected with different {', '.join(changed)}; "
            "use a new output directory (or --set output=...) to collect with these settings"
        )


def _remove_leftovers(out: Path) -> None:
    """Temp dirs of an interrupted episode, temp files of an interrupted atomic write."""
    raw = out / RAW_DIR
    if raw.is_dir():
        for tmp in raw.glob("skill_level_*/episode_*.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
    for folder in (out, out / ACTIONS_DIR):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


def _existing_records(plan: CollectionPlan, tier: TierPlan) -> EpisodeRecords:
    """The finished episodes of a tier, after checking the same setup recorded them."""
    tier_dir = plan.output / RAW_DIR / tier.name
    found: EpisodeRecords = {}
    if not tier_dir.is_dir():
        return found
    fingerprint = tier_fingerprint(plan, tier)
    for path in sorted(tier_dir.iterdir()):
        m = re.fullmatch(r"episode_(\d+)", path.name)
        if not m or not path.is_dir():
            continue
        index = int(m.group(1))
        if index >= tier.episodes:
            raise SimpleGameError(
                f"{path}: this dataset has more episodes in {tier.name} than the config asks for ({tier.episodes}); "
                "use a new output directory or raise episodes"
            )
        record_path = path / EPISODE_RECORD
        if not record_path.is_file():
            raise SimpleGameError(
                f"{path}: finished episode without {EPISODE_RECORD} (edited by hand?); delete it to record it again"
            )
        record = read_json(record_path)
        if record.get("fingerprint") != fingerprint:
            raise SimpleGameError(
                f"{path}: recorded with a different {tier.name} setup (checkpoint, sampling, epsilon or max_steps "
                f"changed); use a new output directory, or delete {tier_dir} to record the tier again"
            )
        found[index] = record
    return found
