"""``python -m simple_game.collect``: runs the ``collect`` command (:mod:`simple_game.cli.collect`)."""

import sys

from simple_game.cli.collect import main

if __name__ == "__main__":
    sys.exit(main())
