#!/usr/bin/env python
"""Check (and, only if needed, install) the Atari ROMs: a thin wrapper around ``simple-game roms``.

    python scripts/setup_roms.py               # are the ROMs there?
    python scripts/setup_roms.py --list
    python scripts/setup_roms.py --check pong
    python scripts/setup_roms.py --autorom ~/atari-roms

Works from a fresh clone too: if simple_game is not installed, ``src/`` is put on the path.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from simple_game.cli.roms import main
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from simple_game.cli.roms import main

if __name__ == "__main__":
    sys.exit(main())
