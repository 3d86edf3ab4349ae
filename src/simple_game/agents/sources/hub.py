"""Agents on the Hugging Face Hub: ``hf://<org>/<repo>[@revision]``, fetched through its normal cache.

``huggingface_hub.snapshot_download`` downloads a repository's files once into the Hub cache
(``HF_HUB_CACHE``, by default ``~/.cache/huggingface/hub``: ``models--<org>--<repo>/snapshots/<commit>/``,
with ``refs/main`` naming the commit) and afterwards answers from there. Offline
(``HF_HUB_OFFLINE=1``, or the Hub cannot be reached) it answers from the cache alone, so a
repository pulled once keeps working on a train or a laptop without network.

RL Zoo repositories (``sb3/ppo-BreakoutNoFrameskip-v4``) hold ``ppo-BreakoutNoFrameskip-v4.zip``
and the Zoo's ``config.yml``, ``args.yml`` and ``env_kwargs.yml``; only zips and YAML/JSON files
are fetched (not the replay video or the training logs).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from simple_game.errors import SimpleGameError

PREFIX = "hf://"
ALLOW = ["*.zip", "*.yml", "*.yaml", "*.json"]
IGNORE = ["train_eval_metrics.zip"]
REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")
INSTALL = "pip install 'simple-game[hub]'"


def is_hub_ref(text: Optional[str]) -> bool:
    return bool(text) and str(text).startswith(PREFIX)


@dataclass(frozen=True)
class HubRef:
    """``hf://sb3/ppo-BreakoutNoFrameskip-v4@main``: a repository and an optional revision."""

    repo_id: str
    revision: Optional[str] = None

    @property
    def name(self) -> str:
        return self.repo_id.split("/", 1)[1]

    def __str__(self) -> str:
        return PREFIX + self.repo_id + (f"@{self.revision}" if self.revision else "")


def parse_hub_ref(text: str) -> HubRef:
    """``hf://org/repo[@revision]`` (or ``org/repo``) as a :class:`HubRef`; one line if it is not one."""
    body = text[len(PREFIX) :] if text.startswith(PREFIX) else text
    repo_id, _, revision = body.strip("/").partition("@")
    if not REPO_ID.fullmatch(repo_id):
        raise SimpleGameError(
            f"{text}: not a Hub repository (expected hf://<org>/<name>, e.g. hf://sb3/ppo-BreakoutNoFrameskip-v4)"
        )
    return HubRef(repo_id, revision or None)


def hub_cache_dir() -> str:
    """Where the Hub cache is (``HF_HUB_CACHE``, ``HF_HOME``/hub or ``~/.cache/huggingface/hub``)."""
    from huggingface_hub import constants  # noqa: PLC0415 - an optional extra, imported only when used

    return str(constants.HF_HUB_CACHE)


def fetch(ref: HubRef) -> Path:
    """The repository's folder in the Hub cache: downloaded now, or already there (offline too)."""
    try:
        from huggingface_hub import errors as hub_errors  # noqa: PLC0415 - an optional extra, imported only when used
        from huggingface_hub import snapshot_download  # noqa: PLC0415
    except ImportError:
        raise SimpleGameError(f"{ref}: the Hugging Face Hub needs huggingface_hub: {INSTALL}") from None
    try:
        folder = snapshot_download(ref.repo_id, revision=ref.revision, allow_patterns=ALLOW, ignore_patterns=IGNORE)
    except hub_errors.LocalEntryNotFoundError:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        why = "HF_HUB_OFFLINE is set" if offline else "the Hub cannot be reached"
        raise SimpleGameError(
            f"{ref}: not in the Hub cache ({hub_cache_dir()}) and {why}; "
            f"run `simple-game hub pull {ref.repo_id}` with network first"
        ) from None
    except hub_errors.RevisionNotFoundError:
        raise SimpleGameError(f"{ref}: the repository has no revision {ref.revision!r}") from None
    except hub_errors.RepositoryNotFoundError:
        raise SimpleGameError(f"{ref}: no such repository on the Hub (or it is private or gated)") from None
    except (hub_errors.HfHubHTTPError, hub_errors.HFValidationError, OSError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SimpleGameError(f"{ref}: cannot fetch from the Hub ({first})") from None
    return Path(folder)


def repo_zip(folder: Path, ref: HubRef, checkpoint: Optional[str] = None) -> Path:
    """The agent's zip in a fetched repository: ``checkpoint`` (a file name), ``<repo>.zip`` or the only zip."""
    zips = sorted(p for p in folder.glob("*.zip") if p.name not in IGNORE)
    if checkpoint is not None:
        wanted = checkpoint if checkpoint.endswith(".zip") else f"{checkpoint}.zip"
        chosen = [p for p in zips if p.name == wanted]
    else:
        chosen = [p for p in zips if p.stem == ref.name] or (zips if len(zips) == 1 else [])
    if not chosen:
        found = ", ".join(p.name for p in zips) or "none"
        raise SimpleGameError(f"{ref}: no agent zip to pick (zips: {found}); name one with --checkpoint FILE.zip")
    return chosen[0]
