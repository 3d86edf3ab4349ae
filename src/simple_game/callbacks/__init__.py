"""SB3 callbacks: what happens around ``model.learn`` without touching the algorithm.

SB3 calls ``_on_step`` after every vector-env step (``n_envs`` agent steps at once), so each
callback here checks cheaply whether its moment has come (every N agent steps or seconds).
Callbacks receive the envs and the run directory; they never build them. One module each:

- :mod:`.console`: the progress table; :mod:`.evaluation`: periodic evaluation, ``best.zip``;
- :mod:`.checkpoint`: step checkpoints and ``latest``; :mod:`.milestones`: skill-level checkpoints;
- :mod:`.video`: MP4s during training; :mod:`.failure_gate`: NaN/inf stops the run;
- :mod:`.logger`: ``progress.csv`` and TensorBoard; :mod:`.periodic`: the 'every N steps' base.

Every save goes through :func:`save_if_finite`: a network whose weights turned NaN or inf is
never written as a checkpoint, and :class:`FailureGateCallback` stops such a run early.
"""

from __future__ import annotations

from simple_game.callbacks.checkpoint import CheckpointCallback
from simple_game.callbacks.console import ConsoleCallback
from simple_game.callbacks.evaluation import EvaluationCallback
from simple_game.callbacks.failure_gate import FailureGateCallback, TrainingDiverged, divergence_reason, save_if_finite
from simple_game.callbacks.logger import AppendingCSVOutputFormat, make_logger
from simple_game.callbacks.milestones import MilestoneCallback
from simple_game.callbacks.periodic import MetadataFn, PeriodicCallback
from simple_game.callbacks.video import VideoCallback

__all__ = [
    "AppendingCSVOutputFormat",
    "CheckpointCallback",
    "ConsoleCallback",
    "EvaluationCallback",
    "FailureGateCallback",
    "MetadataFn",
    "MilestoneCallback",
    "PeriodicCallback",
    "TrainingDiverged",
    "VideoCallback",
    "divergence_reason",
    "make_logger",
    "save_if_finite",
]
