"""Checkpoint files: an SB3 zip with simple-game's metadata stored inside, saved atomically.

The metadata (algorithm, game, frame stack, screen size, step, ...) lets a checkpoint be checked
before loading it, so a mismatch is one clear line instead of a shape error deep in PyTorch.
SB3's loader ignores the extra zip entry. This module imports nothing heavy.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simple_game.errors import SimpleGameError
from simple_game.fsio import atomic_write_bytes, json_default
from simple_game.interrupts import critical_section

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

METADATA_NAME = "simple_game.json"  # stored inside each checkpoint zip; SB3's loader ignores it


def save_checkpoint(model: BaseAlgorithm, path: Path, metadata: dict[str, Any]) -> Path:
    """Save an SB3 model atomically, with ``metadata`` stored inside the zip."""
    buffer = io.BytesIO()
    model.save(buffer)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(METADATA_NAME, json.dumps(metadata, indent=2, default=json_default))
    with critical_section():
        atomic_write_bytes(path, buffer.getvalue())
    return path


def read_checkpoint_metadata(path: Path) -> dict[str, Any]:
    """The simple-game metadata of a checkpoint (empty for a plain SB3 zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if METADATA_NAME not in archive.namelist():
                return {}
            return json.loads(archive.read(METADATA_NAME))
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise SimpleGameError(f"{path}: not a readable checkpoint ({exc})") from None
