"""Check that the Atari ROMs are installed, list the games, and (optionally) fetch ROMs.

    simple-game roms                       # are the ROMs there? (exit 0 = yes)
    simple-game roms --list                # every game ale-py knows, by name
    simple-game roms --check pong breakout # these games specifically (typos get suggestions)
    simple-game roms --autorom ~/atari-roms   # fallback: download ROMs with AutoROM

Background: a ROM is the cartridge image of an Atari 2600 game. Since ale-py 0.9 the
ROMs ship inside the ale-py wheel, so ``pip install ale-py`` is all you need and nothing
has to be downloaded. Older tutorials tell you to run AutoROM or ``ale-import-roms``;
that is only needed for old ale-py versions or ale-py builds without ROMs.

ale-py looks for ``<rom_id>.bin`` in the folder named by the environment variable
``ALE_ROMS_DIR`` if it is set, otherwise in the ``roms/`` folder of the ale-py package,
and refuses a file whose MD5 checksum is not the expected one.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from simple_game.cli.common import cli_main
from simple_game.errors import SimpleGameError

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


# --------------------------------------------------------------------------- ale-py


@dataclass
class RomStatus:
    rom_id: str
    path: Path | None
    problem: str | None  # None when the ROM is present and its checksum is right

    @property
    def ok(self) -> bool:
        return self.problem is None


def _ale_roms():
    """Import ``ale_py.roms``, turning 'not installed' and 'too old' into clear errors."""
    try:
        import ale_py
        import ale_py.roms as ale_roms
    except ImportError as exc:
        raise SimpleGameError(
            f"ale-py is not importable from {sys.executable} ({exc}); install it with "
            "pip install 'ale-py>=0.10' (the ROMs come with it)"
        ) from None
    if not hasattr(ale_roms, "get_all_rom_ids") or not hasattr(ale_roms, "get_rom_path"):
        version = getattr(ale_py, "__version__", "unknown")
        raise SimpleGameError(
            f"ale-py {version} is older than {MIN_ALE_PY} and has no bundled ROMs; upgrade it: "
            "pip install --upgrade 'ale-py>=0.10' (or install ROMs with `simple-game roms --autorom DIR`)"
        )
    return ale_py, ale_roms


def rom_dir() -> tuple[Path, bool]:
    """The folder ale-py reads ROMs from, and whether it comes from ALE_ROMS_DIR."""
    env = os.environ.get(ROMS_ENV_VAR)
    if env:
        return Path(env).expanduser(), True
    _, ale_roms = _ale_roms()
    return Path(ale_roms.__file__).parent, False


def check_rom(rom_id: str) -> RomStatus:
    """Ask ale-py for the ROM exactly as environment creation does, and report what went wrong."""
    _, ale_roms = _ale_roms()
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


# --------------------------------------------------------------------------- actions


def _print_header() -> list[str]:
    ale_py, ale_roms = _ale_roms()
    rom_ids = list(ale_roms.get_all_rom_ids())
    folder, from_env = rom_dir()
    source = f"from ${ROMS_ENV_VAR}" if from_env else "bundled in the ale-py package"
    print(f"ale-py {ale_py.__version__}: {len(rom_ids)} Atari games; ROM folder {folder} ({source})")
    return rom_ids


def do_check_all() -> int:
    """Verify every ROM; exit 0 when all are fine."""
    rom_ids = _print_header()
    statuses = [check_rom(r) for r in rom_ids]
    bad = [s for s in statuses if not s.ok]
    if not bad:
        print(f"ok: all {len(rom_ids)} ROMs are present and their checksums match. Nothing to install.")
        return 0
    problems = {s.problem for s in bad}
    if len(bad) > 1 and len(problems) == 1:  # e.g. ALE_ROMS_DIR points at a missing folder
        print(f"  all {len(bad)}: {problems.pop()}", file=sys.stderr)
    else:
        for s in bad[:10]:
            print(f"  missing {s.rom_id}: {s.problem}", file=sys.stderr)
        if len(bad) > 10:
            print(f"  ... and {len(bad) - 10} more", file=sys.stderr)
    print(how_to_fix(), file=sys.stderr)
    raise SimpleGameError(f"{len(bad)} of {len(rom_ids)} Atari ROMs are missing or damaged (how to fix: see above)")


def do_check(games: list[str]) -> int:
    """Verify the named games; unknown names are an error with close-name suggestions."""
    rom_ids = _print_header()
    resolved: list[str] = []
    unknown: list[str] = []
    for name in games:
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
    bad = []
    for rom_id in resolved:
        status = check_rom(rom_id)
        if status.ok:
            gym_id = f"ALE/{gym_name(rom_id)}-v5"
            print(f"ok       {rom_id:<20} {gym_id:<28} {status.path}")
        else:
            print(f"MISSING  {rom_id:<20} {status.problem}", file=sys.stderr)
            bad.append(rom_id)
    if bad:
        print(how_to_fix(), file=sys.stderr)
        raise SimpleGameError(f"ROM not available for {', '.join(bad)} (how to fix: see above)")
    return 0


def do_list() -> int:
    """Print every game ale-py knows, marking the ones whose ROM is missing."""
    rom_ids = sorted(_print_header())
    statuses = {r: check_rom(r) for r in rom_ids}
    names = [r if statuses[r].ok else f"{r} (missing)" for r in rom_ids]
    try:
        from rich.columns import Columns
        from rich.console import Console

        Console(highlight=False).print(Columns(names, equal=True, column_first=True, padding=(0, 2)))
    except ImportError:  # rich is a dependency, but a plain list is fine too
        print("\n".join(names))
    n_ok = sum(s.ok for s in statuses.values())
    print(
        f"{n_ok} of {len(rom_ids)} ROMs available. In Gymnasium a game is ALE/<Name>-v5, "
        f"e.g. space_invaders -> ALE/{gym_name('space_invaders')}-v5."
    )
    if n_ok < len(rom_ids):
        print(how_to_fix(), file=sys.stderr)
        return 1
    return 0


def do_autorom(target: Path) -> int:
    """Download ROMs into ``target`` with AutoROM. Optional: bundled ROMs make this unnecessary."""
    exe = shutil.which("AutoROM")
    if exe is None:
        raise SimpleGameError(
            "the AutoROM command is not installed: pip install autorom (it downloads the ROMs, so it needs "
            "the internet). Usually you do not need it: ale-py >= 0.9 already bundles the ROMs, see `simple-game roms`"
        )
    target = target.expanduser().resolve()
    try:
        target.mkdir(parents=True, exist_ok=True)  # AutoROM refuses a folder that does not exist
    except OSError as exc:
        raise SimpleGameError(f"cannot create {target}: {exc}") from None
    cmd = [exe, "--accept-license", "--install-dir", str(target)]
    print("running: " + " ".join(cmd))
    print("(by accepting you confirm you own licenses for these Atari 2600 ROMs)")
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
    print(f"\n{n_bins} ROM files in {folder}.")
    quoted = shlex.quote(str(folder))
    print(f"Tell ale-py to use them by setting {ROMS_ENV_VAR} before training, e.g.:")
    print(f"  export {ROMS_ENV_VAR}={quoted}     # Linux / macOS (add it to ~/.bashrc or ~/.zshrc)")
    print(f'  $env:{ROMS_ENV_VAR} = "{folder}"     # Windows PowerShell')
    print(f"Then check with: {ROMS_ENV_VAR}={quoted} simple-game roms")
    return 0


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simple-game roms",
        description="Check that the Atari ROMs are available. They ship inside ale-py (>= 0.9), so "
        "normally there is nothing to install; this tells you what to do when they are missing.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list every game ale-py knows")
    action.add_argument(
        "--check",
        nargs="+",
        metavar="GAME",
        help="check specific games, e.g. --check pong breakout (any spelling: "
        "breakout, Breakout, ALE/Breakout-v5, BreakoutNoFrameskip-v4)",
    )
    action.add_argument(
        "--autorom",
        metavar="DIR",
        type=Path,
        help="optional fallback: download ROMs into DIR with AutoROM (pip install autorom; "
        f"needs the internet), then point {ROMS_ENV_VAR} at DIR",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parser


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.autorom is not None:
        return do_autorom(args.autorom)
    if args.list:
        return do_list()
    if args.check:
        return do_check(args.check)
    return do_check_all()


if __name__ == "__main__":
    sys.exit(main())
