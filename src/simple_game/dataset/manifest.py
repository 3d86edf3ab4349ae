"""What a dataset says about itself: the manifest, the per-tier actions files and their keys.

The manifest holds everything a reader needs before opening a frame (versions, env, frame
format, tiers, split); an actions file lists every episode of one tier. Both are rebuilt from the
per-episode records, so they never disagree with what is on disk.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from typing import TYPE_CHECKING, Any, Optional

from simple_game import __version__
from simple_game.config import EnvConfig
from simple_game.dataset.format import FORMAT, FORMAT_VERSION, PAIRING, actions_file, episode_id, validation_indices
from simple_game.stats import summarize, whole_number

if TYPE_CHECKING:
    from simple_game.dataset.plan import CollectionPlan, TierPlan

SPLIT_METHOD = (
    "per tier, a permutation of the episode indices seeded by (seed, skill level); "
    "its first round(fraction * episodes) are validation"
)
STICKY_NOTE = (
    "sticky actions: on each emulator frame of a step the emulator repeats its previous action instead of the "
    "chosen one with probability sticky_probability, so a logged action is the agent's choice, not always the one "
    "executed; record action-labelled data with the classic protocol"
)
VERSIONED = ("ale-py", "gymnasium", "stable-baselines3", "torch", "numpy", "opencv-python-headless")


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


def action_labels(env_cfg: EnvConfig) -> dict[str, Any]:
    """What a logged action is: the agent's choice, which sticky actions sometimes override."""
    p = env_cfg.sticky_probability
    return {
        "logged": "the agent's choice",
        "sticky_probability": p,
        "always_executed": not p,
        "note": STICKY_NOTE if p else "no sticky actions: every logged action is the one the emulator executed",
    }


def sticky_warning(env_cfg: EnvConfig) -> Optional[str]:
    """The one line collect prints when the protocol is sticky (None when it is not)."""
    p = env_cfg.sticky_probability
    if not p:
        return None
    return (
        f"warning: the {env_cfg.protocol} protocol has sticky actions (p={p:g}): the emulator sometimes repeats the "
        "previous action, so a logged action is the agent's choice, not always the one executed; "
        "use protocol: classic for action-labelled data"
    )


def versions() -> dict[str, Optional[str]]:
    """The versions that decide emulation and decoding (a replay compares ale_py and gymnasium)."""
    found: dict[str, Optional[str]] = {"simple_game": __version__}
    for dist in VERSIONED:
        try:
            found[dist.replace("-", "_")] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist.replace("-", "_")] = None
    return found


def split_of(plan: CollectionPlan, tier: TierPlan) -> dict[int, str]:
    """``train`` or ``validation`` for every episode index of a tier."""
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
    """One tier's actions file: its header and every recorded episode, in index order."""
    split = split_of(plan, tier)
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


def score_stats(scores: list[float]) -> dict[str, Any]:
    """Mean and population std rounded to 4 places, min and max as whole numbers where they are."""
    summary = summarize(scores)
    if summary is None:
        return {"mean": None, "std": None, "min": None, "max": None}
    return {
        "mean": round(summary.mean, 4),
        "std": round(summary.std, 4),
        "min": whole_number(summary.min),
        "max": whole_number(summary.max),
    }


def _tier_entry(
    plan: CollectionPlan, tier: TierPlan, recs: dict[int, dict[str, Any]]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """A tier as the manifest lists it, and the ids of its recorded train and validation episodes."""
    split = split_of(plan, tier)
    train = [episode_id(tier.level, i) for i in sorted(recs) if split[i] == "train"]
    val = [episode_id(tier.level, i) for i in sorted(recs) if split[i] == "validation"]
    entry = {
        "name": tier.name,
        "skill_level": tier.level,
        **tier.info,
        "max_steps": tier.max_steps,
        "episodes_planned": tier.episodes,
        "episodes": len(recs),
        "steps": sum(r["length"] for r in recs.values()),
        "frames": sum(r["frames"] for r in recs.values()),
        "score": score_stats([r["score"] for r in recs.values()]),
        "train_episodes": len(train),
        "validation_episodes": len(val),
        "actions_file": actions_file(tier.level),
    }
    return entry, train, val


def build_manifest(
    plan: CollectionPlan, meanings: list[str], records: dict[int, dict[int, dict[str, Any]]], *, complete: bool
) -> dict[str, Any]:
    """Everything a reader needs before opening a frame: versions, env, format, tiers, split."""
    env_cfg = plan.env_cfg
    tiers, train_ids, val_ids = [], [], []
    for tier in plan.tiers:
        entry, t_train, t_val = _tier_entry(plan, tier, records.get(tier.level, {}))
        train_ids += t_train
        val_ids += t_val
        tiers.append(entry)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "complete": complete,
        "versions": versions(),
        "game": env_cfg.game,
        "protocol": env_cfg.protocol,
        "action_meanings": meanings,
        "action_labels": action_labels(env_cfg),
        "env": env_record(env_cfg),
        "frames": {
            "format": "png",
            "color": "rgb" if plan.rgb else "grayscale",
            "shape": [210, 160, 3] if plan.rgb else [env_cfg.screen_size, env_cfg.screen_size],
            "dtype": "uint8",
            "frame_stack": env_cfg.frame_stack,
            "final_frame_stored": True,
            "pairing": PAIRING,
        },
        "collection": {"seed": plan.seed, "config": plan.config_source},
        "totals": {k: sum(t[k] for t in tiers) for k in ("episodes", "steps", "frames")},
        "tiers": tiers,
        "split": {
            "validation_fraction": plan.validation_fraction,
            "method": SPLIT_METHOD,
            "train": train_ids,
            "validation": val_ids,
        },
    }
