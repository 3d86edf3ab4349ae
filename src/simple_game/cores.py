"""The CPU cores this process may run on: what parallel runs and emulator processes are sized by."""

from __future__ import annotations

import os


def cpu_cores() -> int:
    """The cores this process may run on (a container's or ``taskset``'s limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
