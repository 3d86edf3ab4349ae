"""``python -m simple_game.report``: runs the ``report`` command (:mod:`simple_game.cli.report`)."""

import sys

from simple_game.cli.report import main

if __name__ == "__main__":
    sys.exit(main())
