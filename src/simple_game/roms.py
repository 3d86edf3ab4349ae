"""``python -m simple_game.roms``: runs the ``roms`` command (:mod:`simple_game.cli.roms`)."""

import sys

from simple_game.cli.roms import main

if __name__ == "__main__":
    sys.exit(main())
