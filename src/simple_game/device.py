"""Choosing where the network runs: ``auto`` -> cuda, then mps, then cpu.

Apple's MPS backend has no float64 and is sensitive to non-contiguous inputs, which is why
:class:`~simple_game.policies.SimpleNatureCNN` casts to contiguous float32 itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

import torch

from simple_game.errors import SimpleGameError


def _cuda_available() -> bool:
    return torch.cuda.is_available()


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(
    requested: str = "auto",
    cuda_available: Optional[Callable[[], bool]] = None,
    mps_available: Optional[Callable[[], bool]] = None,
) -> str:
    """Return a torch device string for ``requested`` (``auto``, ``cpu``, ``cuda[:N]``, ``mps``).

    An explicit device that is not available is a user error, not a silent fallback.
    """
    cuda_ok = cuda_available or _cuda_available
    mps_ok = mps_available or _mps_available
    if requested == "auto":
        if cuda_ok():
            return "cuda"
        if mps_ok():
            return "mps"
        return "cpu"
    if requested == "cpu":
        return "cpu"
    if requested.startswith("cuda"):
        if not cuda_ok():
            raise SimpleGameError(
                f"device: {requested!r} requested but CUDA is not available (use device: auto or cpu)"
            )
        return requested
    if requested == "mps":
        if not mps_ok():
            raise SimpleGameError("device: 'mps' requested but Apple MPS is not available (use device: auto or cpu)")
        return "mps"
    raise SimpleGameError(f"device: unknown device {requested!r} (allowed: auto, cpu, cuda, cuda:N, mps)")
