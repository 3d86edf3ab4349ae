"""Is the network still made of numbers? A diverged network (NaN or inf weights) cannot recover."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm


def parameters_finite(model: BaseAlgorithm) -> bool:
    """True when every network weight is a finite number (no NaN or inf)."""
    with torch.no_grad():
        return all(bool(torch.isfinite(p).all()) for p in model.policy.parameters())
