"""Game names: every spelling people use (``Breakout``, ``ALE/Pong-v5``) -> ale-py's ROM id.

The list of ROMs is read from ale-py's own ``roms/md5.json`` without importing ale-py: importing
it would import gymnasium, and gymnasium must come after torch (the import-order rule kept in
:mod:`simple_game.envs`). Loading a config therefore imports no ale-py and no gymnasium.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from simple_game.errors import SimpleGameError


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choices, or ``""``: the hint every error message uses."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


@lru_cache(maxsize=1)
def bundled_rom_ids() -> tuple[str, ...]:
    """What ``ale_py.roms.get_all_rom_ids()`` returns, in its order, without importing ale-py.

    ale-py lists its ROMs as the keys of ``ale_py/roms/md5.json`` (``{"breakout.bin": md5}``);
    ``ALE_ROMS_DIR`` only changes where ale-py loads the ``.bin`` files from, not this list.
    """
    spec = importlib.util.find_spec("ale_py")
    if spec is None or spec.origin is None:
        raise SimpleGameError("ale-py is not installed (No module named 'ale_py'); run `make setup`")
    md5_file = Path(spec.origin).parent / "roms" / "md5.json"
    try:
        hashes = json.loads(md5_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SimpleGameError(f"ale-py's ROM list {md5_file} cannot be read ({exc}); run `make setup`") from None
    return tuple(key.split(".")[0] for key in hashes)


@lru_cache(maxsize=1)
def available_games() -> tuple[str, ...]:
    """ROM ids bundled with ale-py (e.g. ``breakout``, ``space_invaders``), sorted."""
    return tuple(sorted(bundled_rom_ids()))


def normalize_game(value: str) -> str:
    """Accept ``Breakout``, ``breakout``, ``SpaceInvaders``, ``ALE/Pong-v5`` or
    ``BreakoutNoFrameskip-v4`` and return ale-py's ROM id (``space_invaders``)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("game must be a non-empty string such as 'Breakout'")
    text = value.strip()
    text = re.sub(r"^ALE/", "", text)
    text = re.sub(r"(NoFrameskip|Deterministic)?-v\d+$", "", text)
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower().replace("-", "_")
    games = available_games()
    if snake in games:
        return snake
    flat = {g.replace("_", ""): g for g in games}
    if snake.replace("_", "") in flat:
        return flat[snake.replace("_", "")]
    raise ValueError(
        f"unknown game {value!r}{did_you_mean(snake, games)} ({len(games)} games available; "
        "`simple-game roms --list` lists them)"
    )
