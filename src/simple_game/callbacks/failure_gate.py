"""Divergence: a loss or weight that became NaN or inf stops training, and is never saved.

Every save goes through :func:`save_if_finite`, so a diverged network never becomes a
checkpoint; :class:`FailureGateCallback` stops such a run early; :func:`divergence_reason`
recognises the errors PyTorch raises on NaN before any callback can look.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Optional

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from simple_game.agents import parameters_finite
from simple_game.checkpoints import save_checkpoint


class TrainingDiverged(Exception):
    """The loss or the network weights became NaN or inf: training cannot recover."""


def divergence_reason(exc: BaseException, model: Any) -> Optional[str]:
    """Why an exception out of ``learn`` means training diverged, or ``None`` if it is another error.

    A NaN reaching PPO/A2C's action distribution makes PyTorch raise ``ValueError`` ("found
    invalid values") inside SB3 before any callback can look; that is divergence, not a bug.
    """
    text = str(exc)
    if isinstance(exc, ValueError) and ("found invalid values" in text or re.search(r"\bnan\b", text, re.IGNORECASE)):
        return (
            f"network outputs became NaN or inf at step {model.num_timesteps:,} "
            "(PyTorch rejected the action distribution)"
        )
    if isinstance(exc, (ValueError, RuntimeError)) and not parameters_finite(model):
        return f"network weights became NaN or inf at step {model.num_timesteps:,}"
    return None


def save_if_finite(model: Any, path: Any, metadata: dict) -> None:
    """Save a checkpoint, unless the network holds NaN or inf (then raise :class:`TrainingDiverged`)."""
    if not parameters_finite(model):
        raise TrainingDiverged(
            f"network weights are NaN or inf at step {model.num_timesteps:,}; not saving {Path(path).name}"
        )
    save_checkpoint(model, path, metadata)


class FailureGateCallback(BaseCallback):
    """Stop training as soon as a logged loss or a network weight is NaN or inf.

    Checked after every update (at the start of the next rollout, and at the end of training):
    the ``train/*loss*`` values SB3 has logged, and the weights whenever an update happened. It
    raises :class:`TrainingDiverged`; ``train`` then marks the run ``failed`` and keeps the
    last good checkpoint (a diverged network is never saved, see :func:`save_if_finite`).
    Usual causes: a learning rate far too high, or a bad custom network.
    """

    def __init__(self) -> None:
        super().__init__()
        self._checked_updates = -1

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        self.check()

    def _on_training_end(self) -> None:
        self.check()

    def check(self) -> None:
        # Losses only: some statistics are NaN by definition at times (SB3's explained_variance
        # is NaN when all returns in a rollout are equal), which is not divergence.
        bad = sorted(
            key
            for key, value in self.logger.name_to_value.items()
            if key.startswith("train/")
            and "loss" in key
            and isinstance(value, (int, float, np.floating))
            and not math.isfinite(float(value))
        )
        if bad:
            raise TrainingDiverged(f"{', '.join(bad)} became NaN or inf at step {self.model.num_timesteps:,}")
        updates = int(getattr(self.model, "_n_updates", 0))
        if updates != self._checked_updates:
            if not parameters_finite(self.model):
                raise TrainingDiverged(f"network weights became NaN or inf at step {self.model.num_timesteps:,}")
            self._checked_updates = updates
