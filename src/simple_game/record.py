"""``python -m simple_game.record``: runs the ``record`` command (:mod:`simple_game.cli.record`)."""

import sys

from simple_game.cli.record import main

if __name__ == "__main__":
    sys.exit(main())
