"""simple-game: train, evaluate, record and collect Atari agents with Stable-Baselines3.

Importing this package is cheap on purpose: it imports no torch, gymnasium or ale-py, so
``--help`` is instant. The commands (:mod:`simple_game.cli`) import the library inside their
``main()``; library modules import torch and SB3 at the top, and only :mod:`simple_game.envs`
imports gymnasium and ale-py, after torch (on macOS other orders have segfaulted; see
docs/decisions.md and docs/architecture.md).
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
