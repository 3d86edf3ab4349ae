"""Are the Atari ROMs installed? Game names, ROM checks and the AutoROM fallback.

A ROM is the cartridge image of an Atari 2600 game. Since ale-py 0.9 the ROMs ship inside the
ale-py wheel, so ``pip install ale-py`` is all you need. ale-py looks for ``<rom_id>.bin`` in
the folder named by ``ALE_ROMS_DIR`` if it is set, otherwise in the ``roms/`` folder of the
ale-py package, and refuses a file whose MD5 checksum is not the expected one. The command
``simple-game roms`` (:mod:`simple_game.cli.roms`) prints what these functions find.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import shlex
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import ale_py
import ale_py.roms

from simple_game.errors import SimpleGameError

__all__ = [
    "ROMS_ENV_VAR",
    "RomStatus",
    "gym_name",
    "normalize_game",
    "resolve_game",
    "resolve_games",
    "suggest",
    "rom_ids",
    "rom_dir",
    "describe_rom_dir",
    "check_rom",
    "problem_lines",
    "how_to_fix",
    "autorom_command",
    "run_autorom",
    "use_rom_dir",
]

ROMS_ENV_VAR = "ALE_ROMS_DIR"
MIN_ALE_PY = "0.9"
REINSTALL_HINT = "pip install --upgrade --force-reinstall --no-deps 'ale-py>=0.10'"


# --------------------------------------------------------------------------- names


def gym_name(rom_id: str) -> str:
    """'space_invaders' -> 'SpaceInvaders' (the name in Gymnasium ids like ALE/SpaceInvaders-v5)."""
    return rom_id.title().replace("_", "")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def normalize_game(name: str) -> str:
    """Reduce any common spelling of a game to a comparison key.

    'breakout', 'Breakout', 'ALE/Breakout-v5', 'BreakoutNoFrameskip-v4' and
    'space-invaders' / 'SpaceInvaders' / 'space_invaders' all work.
    """
    s = name.strip()
    s = re.sub(r"^ALE/", "", s, flags=re.IGNORECASE)
    s = re.sub(r"-v\d+$", "", s)
    s = re.sub(r"(NoFrameskip|Deterministic)$", "", s)
    s = re.sub(r"-ram$", "", s)
    return _key(s)


def resolve_game(name: str, rom_ids: list[str]) -> str | None:
    """The ale-py ROM id for ``name`` (e.g. 'BreakoutNoFrameskip-v4' -> 'breakout'), or None."""
    by_key = {_key(r): r for r in rom_ids}
    return by_key.get(normalize_game(name))


def suggest(name: str, rom_ids: list[str], n: int = 3) -> list[str]:
    """Close matches for a misspelt game name, best first."""
    by_key = {_key(r): r for r in rom_ids}
    close = difflib.get_close_matches(normalize_game(name), list(by_key), n=n, cutoff=0.6)
    return [by_key[k] for k in close]


def resolve_games(names: list[str], rom_ids: list[str]) -> list[str]:
    """ROM ids for every name; unknown names are one error with close-name suggestions."""
    resolved: list[str] = []
    unknown: list[str] = []
    for name in names:
        rom_id = resolve_game(name, rom_ids)
        if rom_id is None:
            close = suggest(name, rom_ids)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            unknown.append(f"'{name}'{hint}")
        else:
            resolved.append(rom_id)
    if unknown:
        raise SimpleGameError(
            f"unknown game {'; '.join(unknown)}; `simple-game roms --list` shows all {len(rom_ids)} games"
        )
    return resolved


# --------------------------------------------------------------------------- ale-py


@dataclass
class RomStatus:
    rom_id: str
    path: Path | None
    problem: str | None  # None when the ROM is present and its checksum is right

    @property
    def ok(self) -> bool:
        return self.problem is None


def _ale_roms() -> ModuleType:
    """``ale_py.roms``, or a clear error when this ale-py is too old to bundle ROMs."""
    if not hasattr(ale_py.roms, "get_all_rom_ids") or not hasattr(ale_py.roms, "get_rom_path"):
        version = getattr(ale_py, "__version__", "unknown")
        raise SimpleGameError(
            f"ale-py {version} is older than {MIN_ALE_PY} and has no bundled ROMs; upgrade it: "
            "pip install --upgrade 'ale-py>=0.10' (or install ROMs with `simple-game roms --autorom DIR`)"
        )
    return ale_py.roms


def rom_ids() -> list[str]:
    """Every game this ale-py knows, as ROM ids ('breakout', 'space_invaders', ...)."""
    return list(_ale_roms().get_all_rom_ids())


def rom_dir() -> tuple[Path, bool]:
    """The folder ale-py reads ROMs from, and whether it comes from ALE_ROMS_DIR."""
    env = os.environ.get(ROMS_ENV_VAR)
    if env:
        return Path(env).expanduser(), True
    return Path(str(_ale_roms().__file__)).parent, False


def describe_rom_dir(n_games: int) -> str:
    """One line: the ale-py version, how many games, and where the ROMs are read from."""
    folder, from_env = rom_dir()
    source = f"from ${ROMS_ENV_VAR}" if from_env else "bundled in the ale-py package"
    return f"ale-py {ale_py.__version__}: {n_games} Atari games; ROM folder {folder} ({source})"


def check_rom(rom_id: str) -> RomStatus:
    """Ask ale-py for the ROM exactly as environment creation does, and report what went wrong."""
    ale_roms = _ale_roms()
    quiet = io.StringIO()
    try:
        # get_rom_path prints "Loading roms from ..." when ALE_ROMS_DIR is set; keep output clean
        with contextlib.redirect_stdout(quiet), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = ale_roms.get_rom_path(rom_id)
    except NotADirectoryError as exc:
        return RomStatus(rom_id, None, str(exc))
    except FileNotFoundError as exc:
        return RomStatus(rom_id, None, f"file not found: {exc.filename or exc}")
    except OSError as exc:  # ale-py raises OSError on an MD5 mismatch
        first_line = str(exc).splitlines()[0] if str(exc) else repr(exc)
        return RomStatus(rom_id, None, f"wrong ROM file: {first_line}")
    if path is None:
        return RomStatus(rom_id, None, "not supported by this ale-py version")
    path = Path(path)
    if not path.is_file():
        return RomStatus(rom_id, None, f"file not found: {path}")
    return RomStatus(rom_id, path, None)


def problem_lines(bad: list[RomStatus]) -> list[str]:
    """What is wrong with these ROMs, at most 11 lines (one line when they share one problem)."""
    problems = {s.problem for s in bad}
    if len(bad) > 1 and len(problems) == 1:  # e.g. ALE_ROMS_DIR points at a missing folder
        return [f"  all {len(bad)}: {problems.pop()}"]
    lines = [f"  missing {s.rom_id}: {s.problem}" for s in bad[:10]]
    if len(bad) > 10:
        lines.append(f"  ... and {len(bad) - 10} more")
    return lines


def how_to_fix() -> str:
    """What to do when ROMs are missing, depending on where ale-py looks."""
    folder, from_env = rom_dir()
    if from_env:
        return (
            f"{ROMS_ENV_VAR} is set to {folder}, so ale-py looks only there.\n"
            f"  - To use the ROMs bundled with ale-py instead: unset {ROMS_ENV_VAR}\n"
            f"  - To fill that folder: pip install autorom && simple-game roms --autorom {folder}"
        )
    return (
        f"ale-py reads its bundled ROMs from {folder}, and some are missing or damaged.\n"
        f"  - Reinstall ale-py (the ROMs are inside the wheel, no download needed):\n"
        f"      {REINSTALL_HINT}\n"
        f"  - Only if that is impossible (old or ROM-less ale-py build), download them once\n"
        f"    with AutoROM (needs the internet):\n"
        f"      pip install autorom && simple-game roms --autorom ~/atari-roms\n"
        f"      export {ROMS_ENV_VAR}=~/atari-roms"
    )


# --------------------------------------------------------------------------- AutoROM


def autorom_command(target: Path) -> list[str]:
    """The AutoROM command line that downloads ROMs into ``target`` (created if missing)."""
    exe = shutil.which("AutoROM")
    if exe is None:
        raise SimpleGameError(
            "the AutoROM command is not installed: pip install autorom (it downloads the ROMs, so it needs "
            "the internet). Usually you do not need it: ale-py >= 0.9 already bundles the ROMs, see `simple-game roms`"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)  # AutoROM refuses a folder that does not exist
    except OSError as exc:
        raise SimpleGameError(f"cannot create {target}: {exc}") from None
    return [exe, "--accept-license", "--install-dir", str(target)]


def run_autorom(cmd: list[str], target: Path) -> tuple[Path, int]:
    """Run AutoROM; returns the folder holding the ``.bin`` files and how many there are."""
    try:
        result = subprocess.run(cmd, check=False)
    except OSError as exc:
        raise SimpleGameError(f"could not run AutoROM: {exc}") from None
    if result.returncode != 0:
        raise SimpleGameError(f"AutoROM failed with exit code {result.returncode} (is the internet reachable?)")
    # AutoROM writes <rom>.bin into the folder (very old versions used a ROM/ subfolder) and can
    # exit 0 after a network error, so count what actually arrived.
    folder = target
    if not any(target.glob("*.bin")) and any((target / "ROM").glob("*.bin")):
        folder = target / "ROM"
    n_bins = len(list(folder.glob("*.bin")))
    if n_bins == 0:
        raise SimpleGameError(
            f"AutoROM finished but {target} has no .bin files (check its output above and your network)"
        )
    return folder, n_bins


def use_rom_dir(folder: Path) -> str:
    """How to point ale-py at a folder of downloaded ROMs."""
    quoted = shlex.quote(str(folder))
    return (
        f"Tell ale-py to use them by setting {ROMS_ENV_VAR} before training, e.g.:\n"
        f"  export {ROMS_ENV_VAR}={quoted}     # Linux / macOS (add it to ~/.bashrc or ~/.zshrc)\n"
        f'  $env:{ROMS_ENV_VAR} = "{folder}"     # Windows PowerShell\n'
        f"Then check with: {ROMS_ENV_VAR}={quoted} simple-game roms"
    )
