import sys

from simple_game.cli import main

sys.exit(main())
