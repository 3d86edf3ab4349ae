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

**Crash safety.** An episode is written into ``episode_<NNN>.tmp-<pid>/`` and renamed when it is
complete, so a finished episode directory is never partial; the actions files and the manifest
are rebuilt from the per-episode records and replaced atomically. Per-episode seeds depend only
on (collection seed, tier, episode index), so a resumed collection produces byte-identical
files to an uninterrupted one.

This module imports no torch, gymnasium or ale-py at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from simple_game.errors import SimpleGameError
from simple_game.fsio import atomic_write_text

if TYPE_CHECKING:
    import gymnasium as gym
    import numpy as np

    from simple_game.config import EnvConfig

FORMAT = "simple-game-gameplay"
FORMAT_VERSION = 1
RAW_DIR = "raw_gameplay"
ACTIONS_DIR = "actions"
MANIFEST = "manifest.json"
EPISODE_RECORD = "episode.json"
PAIRING = (
    "An episode of T actions has T+1 frames. Frame t (t < T) is what the agent saw when it chose "
    "action t: the newest frame of its stack (grayscale) or the screen at that moment (rgb). "
    "Frame T is the screen after the last action. rewards[t], lives[t], terminated[t] and "
    "truncated[t] are what action t led to."
)
# Keys of a per-step list in an episode record; each has one entry per action.
STEP_KEYS = ("actions", "action_names", "rewards", "lives", "terminated", "truncated")


# --------------------------------------------------------------------------------------------
# Names, seeds and the split
# --------------------------------------------------------------------------------------------


def tier_name(level: int) -> str:
    return f"skill_level_{level}"


def episode_name(index: int) -> str:
    return f"episode_{index:03d}"


def frame_name(t: int) -> str:
    return f"frame_{t:05d}.png"


def episode_id(level: int, index: int) -> str:
    return f"{tier_name(level)}/{episode_name(index)}"


def actions_file(level: int) -> str:
    return f"{ACTIONS_DIR}/{tier_name(level)}_actions.json"


def episode_seeds(seed: int, level: int, index: int) -> tuple[int, int]:
    """(env seed, policy seed) of one episode: a function of these three numbers only.

    That is what makes collection resumable: episode 7 of tier 2 gets the same seeds whether
    it is the first episode this process plays or the last.
    """
    import numpy as np

    env_seed, policy_seed = np.random.SeedSequence([seed, level, index]).generate_state(2)
    return int(env_seed) & 0x7FFF_FFFF, int(policy_seed) & 0x7FFF_FFFF


def validation_indices(seed: int, level: int, episodes: int, fraction: float) -> list[int]:
    """Which episode indices of a tier form the validation split (a seeded permutation).

    ``round(fraction * episodes)`` of them, at least one when ``fraction > 0`` and the tier has
    two or more episodes, and never all of them.
    """
    import numpy as np

    if fraction <= 0 or episodes < 2:
        return []
    n_val = min(episodes - 1, max(1, round(fraction * episodes)))
    rng = np.random.default_rng(np.random.SeedSequence([seed, level, 0x5917]))
    return sorted(int(i) for i in rng.permutation(episodes)[:n_val])


# --------------------------------------------------------------------------------------------
# JSON and PNG
# --------------------------------------------------------------------------------------------


def dumps(obj: Any, indent: int = 2, _level: int = 0) -> str:
    """JSON like ``json.dumps(indent=2)``, but lists of plain values stay on one line.

    A whole game has thousands of steps; one action per line would make the files unreadable.
    """
    pad, end = " " * (indent * (_level + 1)), " " * (indent * _level)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(str(k))}: {dumps(v, indent, _level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(x, (dict, list, tuple)) for x in obj):
            return json.dumps(list(obj), separators=(",", ":"))
        return "[\n" + ",\n".join(pad + dumps(x, indent, _level + 1) for x in obj) + "\n" + end + "]"
    return json.dumps(obj)


def write_json(path: Path, data: Any) -> None:
    """Replace ``path`` atomically (readers see the old file or the whole new one)."""
    atomic_write_text(path, dumps(data) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimpleGameError(f"{path}: cannot read ({exc})") from None


def encode_png(frame: np.ndarray) -> bytes:
    """PNG bytes of a ``(H, W)`` grayscale or ``(H, W, 3)`` RGB uint8 frame (lossless)."""
    import cv2

    if frame.ndim == 3:
        frame = frame[:, :, ::-1]  # OpenCV writes BGR
    ok, buf = cv2.imencode(".png", frame)
    if not ok:  # pragma: no cover - cv2 fails only on bad input
        raise SimpleGameError(f"cannot encode a frame of shape {frame.shape} as PNG")
    return buf.tobytes()


def read_png(path: Path) -> np.ndarray:
    """A stored frame back as the array it was made from (RGB channel order)."""
    import cv2
    import numpy as np

    raw = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw.size else None
    if img is None:
        raise ValueError(f"{path.name} is not a readable PNG")
    return img[:, :, ::-1] if img.ndim == 3 else img


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
        data = encode_png(frame)
        try:
            with open(path, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise SimpleGameError(f"{path}: cannot write frame ({exc.strerror or exc})") from None
        self.bytes += len(data)  # a racy counter is fine: it is only reported

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
# Playing one episode (shared by collection and replay)
# --------------------------------------------------------------------------------------------


def make_env(env_cfg: EnvConfig, rgb: bool) -> gym.Env:
    """The evaluation-protocol env episodes are recorded (and replayed) in.

    Whole games (no life-loss ends), raw rewards, random no-op starts, sticky actions as the
    protocol says, and the frame cap; one env, reset with an explicit seed per episode.
    """
    from simple_game.envs import make_atari_env

    return make_atari_env(env_cfg, training=False, render_mode="rgb_array" if rgb else None)


@dataclass
class EpisodeResult:
    actions: list[int] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    lives: list[int] = field(default_factory=list)
    terminated: list[bool] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)
    start_lives: int = 0
    end: str = "game_over"

    @property
    def length(self) -> int:
        return len(self.actions)

    @property
    def score(self) -> float:
        return _number(sum(self.rewards))


def _number(x: float) -> float | int:
    """Atari rewards are whole numbers: store them as ints."""
    x = float(x)
    return int(x) if x.is_integer() else x


def play_episode(
    env: gym.Env,
    seed: int,
    choose: Callable[[int, np.ndarray], Optional[int]],
    on_frame: Callable[[int, np.ndarray], None],
    *,
    rgb: bool,
    max_steps: Optional[int] = None,
) -> EpisodeResult:
    """Reset with ``seed`` and play until the game ends, ``max_steps`` or ``choose`` returns None.

    ``choose(t, obs)`` gets the newest 84x84 observation and returns action ``t``;
    ``on_frame(t, frame)`` receives frame ``t`` (grayscale observation, or the RGB screen).
    """
    obs, _ = env.reset(seed=seed)
    ale = env.unwrapped.ale
    result = EpisodeResult(start_lives=int(ale.lives()))
    t = 0
    on_frame(0, _frame(env, obs, rgb))
    while True:
        if max_steps is not None and t >= max_steps:
            result.end = "max_steps"
            break
        action = choose(t, obs[:, :, 0])
        if action is None:
            result.end = "stopped"
            break
        obs, reward, terminated, truncated, info = env.step(int(action))
        t += 1
        result.actions.append(int(action))
        result.rewards.append(_number(reward))
        result.lives.append(int(info.get("lives", ale.lives())))
        result.terminated.append(bool(terminated))
        result.truncated.append(bool(truncated))
        on_frame(t, _frame(env, obs, rgb))
        if terminated or truncated:
            result.end = "game_over" if terminated else "frame_cap"
            break
    return result


def _frame(env: gym.Env, obs: np.ndarray, rgb: bool) -> np.ndarray:
    import numpy as np

    if rgb:
        return np.ascontiguousarray(env.render())
    return np.ascontiguousarray(obs[:, :, 0])


# --------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------


class Policy:
    """What picks the actions of one tier. ``start`` is called with each episode's own seed."""

    def start(self, seed: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def act(self, t: int, obs: np.ndarray) -> int:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class TierPlan:
    """One tier to collect: its level, how its actions are chosen, and what to record about it."""

    level: int
    episodes: int
    max_steps: Optional[int]
    make_policy: Callable[[int], Policy]  # n_actions -> a policy (loads the agent when called)
    info: dict[str, Any]  # source, checkpoint, sha256, algo, sampling, epsilon, milestone...

    @property
    def name(self) -> str:
        return tier_name(self.level)


@dataclass
class CollectionPlan:
    output: Path
    env_cfg: EnvConfig
    seed: int
    rgb: bool
    workers: int
    validation_fraction: float
    tiers: list[TierPlan]
    config_source: str = ""


@dataclass
class CollectionStats:
    frames_written: int = 0
    episodes_written: int = 0
    episodes_skipped: int = 0
    bytes_written: int = 0
    wall_s: float = 0.0
    encode_wait_s: float = 0.0

    @property
    def frames_per_s(self) -> float:
        return self.frames_written / self.wall_s if self.wall_s > 0 else 0.0


def replay_key(manifest: dict[str, Any]) -> dict[str, Any]:
    """What must not change between a collection and its resumption (or its replay)."""
    versions = manifest.get("versions", {})
    return {
        "format_version": manifest.get("format_version"),
        "env": manifest.get("env"),
        "frames": {k: manifest.get("frames", {}).get(k) for k in ("color", "shape")},
        "seed": manifest.get("collection", {}).get("seed"),
        "ale_py": versions.get("ale_py"),
        "gymnasium": versions.get("gymnasium"),
    }


def tier_fingerprint(plan: CollectionPlan, tier: TierPlan) -> str:
    """A hash of everything that decides a tier's episodes; stored in each episode record."""
    data = {
        "seed": plan.seed,
        "rgb": plan.rgb,
        "env": env_record(plan.env_cfg),
        "level": tier.level,
        "max_steps": tier.max_steps,
    }
    data.update({k: tier.info.get(k) for k in ("source", "checkpoint_sha256", "algo", "sampling", "epsilon")})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def env_record(env_cfg: EnvConfig) -> dict[str, Any]:
    """The emulator settings a replay needs (the vector-env knobs do not matter here)."""
    data = env_cfg.model_dump()
    for key in ("n_envs", "backend"):
        data.pop(key, None)
    data["sticky_probability"] = env_cfg.sticky_probability
    return data


def versions() -> dict[str, Optional[str]]:
    from importlib import metadata

    from simple_game import __version__

    found: dict[str, Optional[str]] = {"simple_game": __version__}
    for dist in ("ale-py", "gymnasium", "stable-baselines3", "torch", "numpy", "opencv-python-headless"):
        try:
            found[dist.replace("-", "_")] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist.replace("-", "_")] = None
    return found


def collect_dataset(plan: CollectionPlan, report: Callable[[str], None] = print) -> CollectionStats:
    """Record every missing episode of every tier, then write the actions files and manifest.

    Safe to interrupt at any point and to run again: finished episodes are kept (after checking
    they were made by the same configuration), leftovers of an interrupted one are removed.
    """
    from simple_game.envs import action_meanings

    out = plan.output
    meanings = action_meanings(plan.env_cfg)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimpleGameError(f"{out}: cannot create the output directory ({exc.strerror or exc})") from None
    stats = CollectionStats()
    t_start = time.perf_counter()
    with _exclusive(out):
        _check_resumable(plan, meanings)
        _remove_leftovers(out)
        records = {tier.level: _existing_records(plan, tier) for tier in plan.tiers}
        write_json(out / MANIFEST, build_manifest(plan, meanings, records, complete=False))
        env = make_env(plan.env_cfg, plan.rgb)
        writer = FrameWriter(plan.workers)
        try:
            for tier in plan.tiers:
                missing = [i for i in range(tier.episodes) if i not in records[tier.level]]
                stats.episodes_skipped += tier.episodes - len(missing)
                if tier.episodes - len(missing):
                    report(f"{tier.name}: {tier.episodes - len(missing)} of {tier.episodes} episodes already recorded")
                policy = tier.make_policy(len(meanings)) if missing else None
                for index in missing:
                    t0 = time.perf_counter()
                    record = _record_episode(plan, tier, index, env, policy, meanings, writer)
                    records[tier.level][index] = record
                    stats.episodes_written += 1
                    stats.frames_written += record["frames"]
                    dt = time.perf_counter() - t0
                    report(
                        f"{tier.name} {episode_name(index)}: score {record['score']:g}, {record['length']} steps, "
                        f"{record['end']}, {record['frames'] / max(dt, 1e-9):.0f} frames/s"
                    )
                write_json(out / actions_file(tier.level), build_actions(plan, tier, meanings, records[tier.level]))
            write_json(out / MANIFEST, build_manifest(plan, meanings, records, complete=True))
        finally:
            stats.encode_wait_s = writer.wait_s
            stats.bytes_written = writer.bytes
            writer.close()
            env.close()
    stats.wall_s = time.perf_counter() - t_start
    return stats


def _record_episode(
    plan: CollectionPlan,
    tier: TierPlan,
    index: int,
    env: gym.Env,
    policy: Policy,
    meanings: list[str],
    writer: FrameWriter,
) -> dict[str, Any]:
    tier_dir = plan.output / RAW_DIR / tier.name
    tier_dir.mkdir(parents=True, exist_ok=True)
    final = tier_dir / episode_name(index)
    tmp = tier_dir / f"{episode_name(index)}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
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
    record = {
        "episode_id": episode_id(tier.level, index),
        "skill_level": tier.level,
        "episode_index": index,
        "seed": env_seed,
        "policy_seed": policy_seed,
        **{k: tier.info.get(k) for k in ("source", "checkpoint", "checkpoint_sha256", "algo", "sampling", "epsilon")},
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
    with open(tmp / EPISODE_RECORD, "w", encoding="utf-8") as fh:
        fh.write(dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, final)  # the episode appears whole, or not at all
    _fsync_dir(tier_dir)
    return record


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One collector per output directory (an advisory lock on the directory itself)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SimpleGameError(f"{out}: another collect is writing to this directory") from None
        yield
    finally:
        os.close(fd)


def _check_resumable(plan: CollectionPlan, meanings: list[str]) -> None:
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


def _existing_records(plan: CollectionPlan, tier: TierPlan) -> dict[int, dict[str, Any]]:
    tier_dir = plan.output / RAW_DIR / tier.name
    found: dict[int, dict[str, Any]] = {}
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
                f"{path}: recorded with a different {tier.name} setup (checkpoint, sampling, epsilon or max_steps changed); "
                f"use a new output directory, or delete {tier_dir} to record the tier again"
            )
        found[index] = record
    return found


def _split_of(plan: CollectionPlan, tier: TierPlan) -> dict[int, str]:
    val = set(validation_indices(plan.seed, tier.level, tier.episodes, plan.validation_fraction))
    return {i: ("validation" if i in val else "train") for i in range(tier.episodes)}


def public_record(record: dict[str, Any], split: str) -> dict[str, Any]:
    """An episode as the actions file lists it: the stored record plus its split."""
    out = {k: v for k, v in record.items() if k != "fingerprint"}
    keys = list(out)
    out["split"] = split
    # Keep the split near the top, next to the other per-episode facts.
    order = keys[: keys.index("seed") + 1] + ["split"] + keys[keys.index("seed") + 1 :]
    return {k: out[k] for k in order}


def build_actions(
    plan: CollectionPlan, tier: TierPlan, meanings: list[str], records: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    split = _split_of(plan, tier)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skill_level": tier.level,
        "game": plan.env_cfg.game,
        "action_meanings": meanings,
        "pairing": PAIRING,
        "tier": tier.info,
        "episodes": [public_record(records[i], split[i]) for i in sorted(records)],
    }


def _score_stats(scores: list[float]) -> dict[str, Any]:
    if not scores:
        return {"mean": None, "std": None, "min": None, "max": None}
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
    return {"mean": round(mean, 4), "std": round(std, 4), "min": _number(min(scores)), "max": _number(max(scores))}


def build_manifest(
    plan: CollectionPlan, meanings: list[str], records: dict[int, dict[int, dict[str, Any]]], *, complete: bool
) -> dict[str, Any]:
    """Everything a reader needs before opening a frame: versions, env, format, tiers, split."""
    env_cfg = plan.env_cfg
    shape = [210, 160, 3] if plan.rgb else [env_cfg.screen_size, env_cfg.screen_size]
    tiers, train_ids, val_ids = [], [], []
    for tier in plan.tiers:
        recs = records.get(tier.level, {})
        split = _split_of(plan, tier)
        t_train = [episode_id(tier.level, i) for i in sorted(recs) if split[i] == "train"]
        t_val = [episode_id(tier.level, i) for i in sorted(recs) if split[i] == "validation"]
        train_ids += t_train
        val_ids += t_val
        tiers.append(
            {
                "name": tier.name,
                "skill_level": tier.level,
                **tier.info,
                "max_steps": tier.max_steps,
                "episodes_planned": tier.episodes,
                "episodes": len(recs),
                "steps": sum(r["length"] for r in recs.values()),
                "frames": sum(r["frames"] for r in recs.values()),
                "score": _score_stats([r["score"] for r in recs.values()]),
                "train_episodes": len(t_train),
                "validation_episodes": len(t_val),
                "actions_file": actions_file(tier.level),
            }
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "complete": complete,
        "versions": versions(),
        "game": env_cfg.game,
        "protocol": env_cfg.protocol,
        "action_meanings": meanings,
        "env": env_record(env_cfg),
        "frames": {
            "format": "png",
            "color": "rgb" if plan.rgb else "grayscale",
            "shape": shape,
            "dtype": "uint8",
            "frame_stack": env_cfg.frame_stack,
            "final_frame_stored": True,
            "pairing": PAIRING,
        },
        "collection": {"seed": plan.seed, "config": plan.config_source},
        "totals": {
            "episodes": sum(t["episodes"] for t in tiers),
            "steps": sum(t["steps"] for t in tiers),
            "frames": sum(t["frames"] for t in tiers),
        },
        "tiers": tiers,
        "split": {
            "validation_fraction": plan.validation_fraction,
            "method": "per tier, a permutation of the episode indices seeded by (seed, skill level); its first round(fraction * episodes) are validation",
            "train": train_ids,
            "validation": val_ids,
        },
    }


# --------------------------------------------------------------------------------------------
# Verification by replay
# --------------------------------------------------------------------------------------------


@dataclass
class EpisodeCheck:
    episode_id: str
    split: str = ""
    steps: int = 0
    frames_checked: int = 0
    frames_differing: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class VerifyReport:
    root: Path
    episodes: list[EpisodeCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # dataset-level
    frames_checked: int = 0
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(e.ok for e in self.episodes)


def load_manifest(root: Path) -> dict[str, Any]:
    root = Path(root)
    if not root.is_dir():
        raise SimpleGameError(f"{root}: dataset directory not found")
    path = root / MANIFEST
    if not path.is_file():
        raise SimpleGameError(f"{root}: not a simple-game dataset (no {MANIFEST})")
    manifest = read_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SimpleGameError(f"{path}: not a simple-game dataset manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise SimpleGameError(
            f"{path}: format version {manifest.get('format_version')} is not supported (this simple-game reads {FORMAT_VERSION})"
        )
    return manifest


def verify_dataset(root: Path, progress: Optional[Callable[[EpisodeCheck], None]] = None) -> VerifyReport:
    """Replay every listed episode from its seed and actions; compare every frame and number."""
    from simple_game.config import EnvConfig

    root = Path(root)
    manifest = load_manifest(root)
    report = VerifyReport(root)
    t0 = time.perf_counter()
    try:
        env_cfg = EnvConfig.model_validate({k: v for k, v in manifest["env"].items() if k != "sticky_probability"})
    except Exception as exc:  # a hand-edited manifest
        raise SimpleGameError(f"{root / MANIFEST}: env: unusable ({str(exc).splitlines()[0]})") from None
    rgb = manifest.get("frames", {}).get("color") == "rgb"
    meanings = manifest.get("action_meanings", [])
    if not manifest.get("complete"):
        report.problems.append(
            "manifest says the collection is incomplete (interrupted?): run collect again to finish it"
        )
    have = {v: manifest.get("versions", {}).get(v) for v in ("ale_py", "gymnasium")}
    now = {v: versions().get(v) for v in have}
    if have != now:
        report.problems.append(f"recorded with {have}, replaying with {now}: emulation may differ")
    listed: set[str] = set()
    env = make_env(env_cfg, rgb)
    try:
        for tier in manifest.get("tiers", []):
            path = root / tier.get("actions_file", "")
            if not path.is_file():
                report.problems.append(f"{tier.get('name')}: actions file {tier.get('actions_file')} missing")
                continue
            try:
                actions = json.loads(path.read_text(encoding="utf-8"))
                episodes = actions["episodes"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                report.problems.append(f"{path.relative_to(root)}: unreadable ({exc})")
                continue
            if len(episodes) != tier.get("episodes"):
                report.problems.append(
                    f"{tier.get('name')}: manifest lists {tier.get('episodes')} episodes, {path.name} has {len(episodes)}"
                )
            for record in episodes:
                check = _verify_episode(root, env, record, meanings, rgb)
                listed.add(check.episode_id)
                report.episodes.append(check)
                report.frames_checked += check.frames_checked
                if progress:
                    progress(check)
    finally:
        env.close()
    raw = root / RAW_DIR
    if raw.is_dir():
        for path in sorted(raw.glob("skill_level_*/episode_*")):
            rel = f"{path.parent.name}/{path.name}"
            if ".tmp-" in path.name:
                report.problems.append(
                    f"{rel}: leftover of an interrupted collection (collect removes it when run again)"
                )
            elif rel not in listed:
                report.problems.append(f"{rel}: on disk but in no actions file")
    report.wall_s = time.perf_counter() - t0
    return report


def _verify_episode(root: Path, env: gym.Env, record: dict[str, Any], meanings: list[str], rgb: bool) -> EpisodeCheck:
    import numpy as np

    check = EpisodeCheck(str(record.get("episode_id", "?")), split=str(record.get("split", "")))
    try:
        actions = [int(a) for a in record["actions"]]
        seed = int(record["seed"])
        per_step = {k: list(record[k]) for k in STEP_KEYS}
    except (KeyError, TypeError, ValueError) as exc:
        check.problems.append(f"record unusable: {exc}")
        return check
    check.steps = len(actions)
    bad_len = [k for k, v in per_step.items() if len(v) != len(actions)]
    if bad_len:
        check.problems.append(f"{', '.join(bad_len)}: not one entry per action ({len(actions)} actions)")
    if record.get("length") != len(actions):
        check.problems.append(f"length {record.get('length')} but {len(actions)} actions")
    cap = record.get("max_steps")
    if isinstance(cap, int) and len(actions) > cap:
        check.problems.append(f"{len(actions)} actions, more than the cap max_steps {cap}")
    bad_action = next((t for t, a in enumerate(actions) if not 0 <= a < len(meanings)), None)
    if bad_action is not None:
        check.problems.append(f"action {actions[bad_action]} at step {bad_action} is not one of 0..{len(meanings) - 1}")
        return check
    bad_name = next((t for t, (a, n) in enumerate(zip(actions, per_step["action_names"])) if meanings[a] != n), None)
    if bad_name is not None:
        check.problems.append(
            f"step {bad_name}: action {actions[bad_name]} is {meanings[actions[bad_name]]}, recorded name {per_step['action_names'][bad_name]!r}"
        )

    folder = root / RAW_DIR / check.episode_id
    if not folder.is_dir():
        check.problems.append(f"frames folder {RAW_DIR}/{check.episode_id} missing")
        return check
    expected = {frame_name(t) for t in range(len(actions) + 1)}
    on_disk = {p.name for p in folder.glob("*.png")}
    if on_disk != expected:
        missing, extra = sorted(expected - on_disk), sorted(on_disk - expected)
        check.problems.append(f"frame files: {len(missing)} missing {missing[:3]}, {len(extra)} unexpected {extra[:3]}")

    differing: list[int] = []

    def compare(t: int, frame: np.ndarray) -> None:
        path = folder / frame_name(t)
        if not path.is_file():
            return
        check.frames_checked += 1
        try:
            stored = read_png(path)
        except ValueError:
            differing.append(t)
            return
        if stored.shape != frame.shape or not np.array_equal(stored, frame):
            differing.append(t)

    replay = play_episode(env, seed, lambda t, _obs: actions[t] if t < len(actions) else None, compare, rgb=rgb)
    check.frames_differing = len(differing)
    if differing:
        check.problems.append(f"{len(differing)} of {check.frames_checked} frames differ, first frame {differing[0]}")
    if replay.length != len(actions):
        check.problems.append(f"replayed game ended after {replay.length} steps, recorded {len(actions)}")
    for key in ("rewards", "lives", "terminated", "truncated"):
        got, want = getattr(replay, key), per_step[key][: replay.length]
        first = next((t for t, (g, w) in enumerate(zip(got, want)) if g != w), None)
        if first is not None:
            check.problems.append(f"{key} differ from step {first} (replay {got[first]!r}, recorded {want[first]!r})")
    if record.get("score") != replay.score and replay.length == len(actions):
        check.problems.append(f"score: replay {replay.score}, recorded {record.get('score')}")
    if (
        replay.length == len(actions)
        and record.get("end") in ("game_over", "frame_cap")
        and replay.end != record.get("end")
    ):
        check.problems.append(f"recorded end {record.get('end')!r}, replay ended with {replay.end!r}")
    return check
