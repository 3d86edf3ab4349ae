"""Verification by replay: every episode is played again from its seed and recorded actions.

Emulation is deterministic given the reset seed and the actions, so a dataset whose frames,
rewards, lives and lengths all come out of the replay again bit for bit is exactly what the
emulator produces, with nothing lost, reordered or edited.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from simple_game.config import EnvConfig
from simple_game.dataset.episode import EpisodeResult, make_env, play_episode
from simple_game.dataset.format import EPISODE_RECORD, MANIFEST, RAW_DIR, STEP_KEYS, frame_name, read_json, read_png
from simple_game.dataset.manifest import public_record, versions
from simple_game.dataset.npz import shard_problems, shard_table
from simple_game.dataset.reader import load_manifest
from simple_game.errors import SimpleGameError

if TYPE_CHECKING:
    import gymnasium as gym


@dataclass
class EpisodeCheck:
    """The replay of one episode: how much was compared and what did not match."""

    episode_id: str
    split: str = ""
    steps: int = 0  # T actions: T + 1 frames expected
    frames_checked: int = 0  # stored frames compared with the replay
    frames_differing: int = 0  # of those, how many differ (or do not decode)
    frames_missing: int = 0  # of the T + 1, how many are not on disk
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def frames_expected(self) -> int:
        return self.steps + 1

    def line(self) -> str:
        """The episode and everything wrong with it, on one line that starts with its id."""
        return f"{self.episode_id} ({self.split or 'no split'}, {self.steps} steps): {'; '.join(self.problems)}"


@dataclass
class VerifyReport:
    """Every episode's check, and the problems of the dataset as a whole."""

    root: Path
    episodes: list[EpisodeCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # dataset-level
    frames_checked: int = 0
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(e.ok for e in self.episodes)

    @property
    def failed(self) -> list[EpisodeCheck]:
        return [e for e in self.episodes if not e.ok]

    @property
    def frames_per_s(self) -> float:
        return self.frames_checked / self.wall_s if self.wall_s else 0.0

    def failure_summary(self) -> str:
        """What failed, naming only the parts that did."""
        parts = []
        if self.failed:
            parts.append(f"{len(self.failed)} of {len(self.episodes)} episodes do not reproduce (MISMATCH above)")
        if self.problems:
            parts.append(f"{len(self.problems)} dataset problem{'s' if len(self.problems) > 1 else ''}")
        return ", ".join(parts)

    def tier_counts(self) -> list[tuple[str, int, int, int]]:
        """Per tier, in the order replayed: (name, episodes, episodes failed, frames checked)."""
        tiers: dict[str, list[EpisodeCheck]] = {}
        for check in self.episodes:
            tiers.setdefault(check.episode_id.split("/")[0], []).append(check)
        return [
            (name, len(checks), sum(not c.ok for c in checks), sum(c.frames_checked for c in checks))
            for name, checks in tiers.items()
        ]


def verify_dataset(root: Path, progress: Optional[Callable[[EpisodeCheck], None]] = None) -> VerifyReport:
    """Replay every listed episode from its seed and actions; compare every frame and number."""
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
    env = make_env(env_cfg, rgb)
    shards = shard_table(manifest)
    try:
        for tier in manifest.get("tiers", []):
            for record in _tier_episodes(root, tier, report):
                check = _verify_episode(root, env, record, meanings, rgb, shards.get(str(record.get("episode_id"))))
                report.episodes.append(check)
                report.frames_checked += check.frames_checked
                if progress:
                    progress(check)
    finally:
        env.close()
    report.problems += _unlisted_folders(root, {check.episode_id for check in report.episodes})
    report.wall_s = time.perf_counter() - t0
    return report


def _tier_episodes(root: Path, tier: dict[str, Any], report: VerifyReport) -> list[dict[str, Any]]:
    """The episode records a tier's actions file lists (none, with a problem, when it is unusable)."""
    path = root / tier.get("actions_file", "")
    if not path.is_file():
        report.problems.append(f"{tier.get('name')}: actions file {tier.get('actions_file')} missing")
        return []
    try:
        actions = json.loads(path.read_text(encoding="utf-8"))
        episodes = actions["episodes"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.problems.append(f"{path.relative_to(root)}: unreadable ({exc})")
        return []
    if len(episodes) != tier.get("episodes"):
        report.problems.append(
            f"{tier.get('name')}: manifest lists {tier.get('episodes')} episodes, {path.name} has {len(episodes)}"
        )
    return episodes


def _unlisted_folders(root: Path, listed: set[str]) -> list[str]:
    """Episode folders no actions file lists: leftovers of an interrupted collection, or strays."""
    problems = []
    raw = root / RAW_DIR
    if raw.is_dir():
        for path in sorted(raw.glob("skill_level_*/episode_*")):
            rel = f"{path.parent.name}/{path.name}"
            if ".tmp-" in path.name:
                problems.append(f"{rel}: leftover of an interrupted collection (collect removes it when run again)")
            elif rel not in listed:
                problems.append(f"{rel}: on disk but in no actions file")
    return problems


def _verify_episode(
    root: Path, env: gym.Env, record: dict[str, Any], meanings: list[str], rgb: bool, shard: Optional[dict[str, Any]]
) -> EpisodeCheck:
    """Check one record on its own, then replay it and compare frames (PNGs and shard) and outcomes."""
    check = EpisodeCheck(str(record.get("episode_id", "?")), split=str(record.get("split", "")))
    try:
        actions = [int(a) for a in record["actions"]]
        seed = int(record["seed"])
        per_step = {k: list(record[k]) for k in STEP_KEYS}
    except (KeyError, TypeError, ValueError) as exc:
        check.problems.append(f"record unusable: {exc}")
        return check
    check.steps = len(actions)
    if not _record_consistent(check, record, actions, per_step, meanings):
        return check
    folder = root / RAW_DIR / check.episode_id
    if not folder.is_dir():
        check.problems.append(f"frames folder {RAW_DIR}/{check.episode_id} missing")
        return check
    _check_frame_files(check, folder)
    _check_own_record(check, folder, record)
    packed, problems = shard_problems(root, shard) if shard else (None, [])
    check.problems += problems
    replay = _replay(env, seed, actions, folder, rgb, check, packed)
    _compare_outcomes(check, record, replay, actions, per_step)
    return check


def _some(items: list[str]) -> str:
    """The first three of a list, and how many more."""
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    return ", ".join(items[:3]) + more


def _check_frame_files(check: EpisodeCheck, folder: Path) -> None:
    """Exactly frames 0..T on disk: the missing ones counted out of T + 1, strays named."""
    expected = [frame_name(t) for t in range(check.frames_expected)]
    on_disk = {p.name for p in folder.glob("*.png")}
    missing = [t for t, name in enumerate(expected) if name not in on_disk]
    extra = sorted(on_disk - set(expected))
    check.frames_missing = len(missing)
    if missing:
        which = "frame" if len(missing) == 1 else "frames"
        check.problems.append(
            f"{len(missing)} of {check.frames_expected} frames missing ({which} {_some([str(t) for t in missing])})"
        )
    if extra:
        which = "file" if len(extra) == 1 else "files"
        check.problems.append(f"{len(extra)} unexpected frame {which} ({_some(extra)})")


def _check_own_record(check: EpisodeCheck, folder: Path, record: dict[str, Any]) -> None:
    """The folder's episode.json must be the actions file's record (the loader reads its steps there)."""
    path = folder / EPISODE_RECORD
    if not path.is_file():
        check.problems.append(f"{EPISODE_RECORD} missing")
        return
    try:
        own = public_record(read_json(path), check.split)
    except (SimpleGameError, AttributeError, ValueError, TypeError):
        check.problems.append(f"{EPISODE_RECORD} unreadable")
        return
    differ = [k for k in dict.fromkeys([*record, *own]) if record.get(k) != own.get(k)]
    if differ:
        check.problems.append(f"{EPISODE_RECORD} differs from the actions file in {_some(differ)}")


def _record_consistent(
    check: EpisodeCheck, record: dict[str, Any], actions: list[int], per_step: dict[str, list], meanings: list[str]
) -> bool:
    """Problems a record shows without a replay; False when its actions cannot even be replayed."""
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
        return False
    names = per_step["action_names"]
    bad_name = next((t for t, (a, n) in enumerate(zip(actions, names, strict=False)) if meanings[a] != n), None)
    if bad_name is not None:
        check.problems.append(
            f"step {bad_name}: action {actions[bad_name]} is {meanings[actions[bad_name]]}, "
            f"recorded name {names[bad_name]!r}"
        )
    return True


def _replay(
    env: gym.Env,
    seed: int,
    actions: list[int],
    folder: Path,
    rgb: bool,
    check: EpisodeCheck,
    shard: Optional[np.ndarray] = None,
) -> EpisodeResult:
    """Play the recorded actions from the recorded seed, comparing each frame with the stored PNG (and shard)."""
    differing: list[int] = []
    shard_differing: list[int] = []

    def compare(t: int, frame: np.ndarray) -> None:
        if shard is not None and (t >= len(shard) or not np.array_equal(shard[t], frame)):
            shard_differing.append(t)
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
        check.problems.append(f"{len(differing)} of {check.frames_expected} frames differ, first frame {differing[0]}")
    if shard is not None and (shard_differing or len(shard) != replay.length + 1):
        first = shard_differing[0] if shard_differing else min(len(shard), replay.length + 1)
        check.problems.append(
            f"shard: {len(shard_differing)} of {check.frames_expected} frames differ or are missing "
            f"(it holds {len(shard)}), first frame {first}"
        )
    return replay


def _compare_outcomes(
    check: EpisodeCheck, record: dict[str, Any], replay: EpisodeResult, actions: list[int], per_step: dict[str, list]
) -> None:
    """The replay's length, rewards, lives, ends and score against the record."""
    if replay.length != len(actions):
        check.problems.append(f"replayed game ended after {replay.length} steps, recorded {len(actions)}")
    for key in ("rewards", "lives", "terminated", "truncated"):
        got, want = getattr(replay, key), per_step[key][: replay.length]
        first = next((t for t, (g, w) in enumerate(zip(got, want, strict=False)) if g != w), None)
        if first is not None:
            check.problems.append(f"{key} differ from step {first} (replay {got[first]!r}, recorded {want[first]!r})")
    whole = replay.length == len(actions)
    if record.get("score") != replay.score and whole:
        check.problems.append(f"score: replay {replay.score}, recorded {record.get('score')}")
    if whole and record.get("end") in ("game_over", "frame_cap") and replay.end != record.get("end"):
        check.problems.append(f"recorded end {record.get('end')!r}, replay ended with {replay.end!r}")
