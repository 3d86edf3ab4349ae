"""Check that the Atari ROMs are installed, list the games, and (optionally) fetch ROMs.

    simple-game roms                       # are the ROMs there? (exit 0 = yes)
    simple-game roms --list                # every game ale-py knows, by name
    simple-game roms --check pong breakout # these games specifically (typos get suggestions)
    simple-game roms --autorom ~/atari-roms   # fallback: download ROMs with AutoROM

Since ale-py 0.9 the ROMs ship inside the ale-py wheel: nothing to download. AutoROM or
``ale-import-roms`` (older tutorials) are only for old or ROM-less ale-py builds.
The checks live in :mod:`simple_game.envs.roms`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simple_game.cli.common import cli_main
from simple_game.errors import SimpleGameError


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _require_ale_py() -> None:
    """Import the ROM checks; a missing ale-py is a one-line user error, not a traceback."""
    try:
        import simple_game.envs.roms  # noqa: F401
    except ImportError as exc:
        if not (exc.name or "").startswith("ale_py"):
            raise
        raise SimpleGameError(
            f"ale-py is not importable from {sys.executable} ({exc}); install it with "
            "pip install 'ale-py>=0.10' (the ROMs come with it)"
        ) from None


def do_check_all() -> int:
    """Verify every ROM; exit 0 when all are fine."""
    from simple_game.envs import roms

    rom_ids = roms.rom_ids()
    print(roms.describe_rom_dir(len(rom_ids)))
    bad = [s for s in map(roms.check_rom, rom_ids) if not s.ok]
    if not bad:
        print(f"ok: all {len(rom_ids)} ROMs are present and their checksums match. Nothing to install.")
        return 0
    _err("\n".join([*roms.problem_lines(bad), roms.how_to_fix()]))
    raise SimpleGameError(f"{len(bad)} of {len(rom_ids)} Atari ROMs are missing or damaged (how to fix: see above)")


def do_check(games: list[str]) -> int:
    """Verify the named games; unknown names are an error with close-name suggestions."""
    from simple_game.envs import roms

    rom_ids = roms.rom_ids()
    print(roms.describe_rom_dir(len(rom_ids)))
    bad = []
    for rom_id in roms.resolve_games(games, rom_ids):
        status = roms.check_rom(rom_id)
        if status.ok:
            gym_id = f"ALE/{roms.gym_name(rom_id)}-v5"
            print(f"ok       {rom_id:<20} {gym_id:<28} {status.path}")
        else:
            _err(f"MISSING  {rom_id:<20} {status.problem}")
            bad.append(rom_id)
    if bad:
        _err(roms.how_to_fix())
        raise SimpleGameError(f"ROM not available for {', '.join(bad)} (how to fix: see above)")
    return 0


def do_list() -> int:
    """Print every game ale-py knows, marking the ones whose ROM is missing."""
    from rich.columns import Columns
    from rich.console import Console

    from simple_game.envs import roms

    rom_ids = roms.rom_ids()
    print(roms.describe_rom_dir(len(rom_ids)))
    statuses = {r: roms.check_rom(r) for r in sorted(rom_ids)}
    names = [r if s.ok else f"{r} (missing)" for r, s in statuses.items()]
    Console(highlight=False).print(Columns(names, equal=True, column_first=True, padding=(0, 2)))
    n_ok = sum(s.ok for s in statuses.values())
    print(
        f"{n_ok} of {len(statuses)} ROMs available. In Gymnasium a game is ALE/<Name>-v5, "
        f"e.g. space_invaders -> ALE/{roms.gym_name('space_invaders')}-v5."
    )
    if n_ok < len(statuses):
        _err(roms.how_to_fix())
        return 1
    return 0


def do_autorom(target: Path) -> int:
    """Download ROMs into ``target`` with AutoROM. Optional: bundled ROMs make this unnecessary."""
    from simple_game.envs import roms

    target = target.expanduser().resolve()
    cmd = roms.autorom_command(target)
    print("running: " + " ".join(cmd) + "\n(by accepting you confirm you own licenses for these Atari 2600 ROMs)")
    folder, n_bins = roms.run_autorom(cmd, target)
    print(f"\n{n_bins} ROM files in {folder}.\n{roms.use_rom_dir(folder)}")
    return 0


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
        help="check specific games, e.g. --check pong breakout "
        "(any spelling: breakout, Breakout, ALE/Breakout-v5, BreakoutNoFrameskip-v4)",
    )
    action.add_argument(
        "--autorom",
        metavar="DIR",
        type=Path,
        help="optional fallback: download ROMs into DIR with AutoROM (pip install autorom; "
        "needs the internet), then point ALE_ROMS_DIR at DIR",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parser


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _require_ale_py()
    if args.autorom is not None:
        return do_autorom(args.autorom)
    if args.list:
        return do_list()
    if args.check:
        return do_check(args.check)
    return do_check_all()


if __name__ == "__main__":
    sys.exit(main())
