"""``python -m simple_game.train``: runs the ``train`` command (:mod:`simple_game.cli.train`)."""

import sys

from simple_game.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
