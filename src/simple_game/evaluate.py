"""``python -m simple_game.evaluate``: runs the ``evaluate`` command (:mod:`simple_game.cli.evaluate`)."""

import sys

from simple_game.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
