"""simple-game: train, evaluate, record and collect Atari agents with Stable-Baselines3.

Importing this package is cheap on purpose: it imports no torch, gymnasium or ale-py.
Heavy libraries are imported inside the functions that need them, because start-up
should stay fast and because, on macOS, importing torch before ale-py in some orders
has segfaulted (see docs/decisions.md).
"""

from __future__ import annotations

import os
import sys

__version__ = "0.1.0"

if __name__ != "simple_game":
    # Imported as ``src.simple_game`` (``python -m src.simple_game.train`` from the repository
    # root). Alias it to the one real package so classes are never loaded twice.
    _src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if _src not in sys.path:
        sys.path.insert(0, _src)
    import importlib

    sys.modules[__name__] = importlib.import_module("simple_game")
