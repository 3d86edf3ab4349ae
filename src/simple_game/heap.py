"""Heap reuse: keep freed memory in the process for the next big allocation (glibc's malloc).

glibc serves every request above its mmap threshold, at most 32 MB on 64-bit Linux, with a fresh
``mmap`` and hands it back to the kernel on ``free``. The next request of that size then
page-faults its way through freshly zeroed pages again (PyTorch's blocks 4 KB at a time: 14,000
faults for 58 MB). A PPO minibatch of 256 observations of 8 stacked 84x84 frames is 58 MB in
float32, and SB3 and PyTorch allocate several such arrays per minibatch (the numpy gather,
its tensor copy, ``obs / 255``, the NHWC copy). Measured here (docs/performance.md, "Heap
reuse"), ``x / 255`` on such a tensor took 65 ms with a fresh mapping and 20 ms from a reused
heap, and PPO's ``train()`` took 1.4x as long.
Frame stack 4 (29 MB) stays under the threshold: glibc already reuses those blocks, and the
switch measured neither faster nor slower there.

``on`` tells glibc (``mallopt``) to serve big blocks from the heap like small ones
(``M_MMAP_MAX = 0``) and to give the heap's free top back to the kernel only once it exceeds
512 MB (``M_TRIM_THRESHOLD``). The cost: a process keeps up to that much freed memory instead
of returning it. It changes where memory comes from, never what is computed.

This module imports nothing heavy (no torch), so the config can ask :func:`heap_reuse_supported`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform
import sys

__all__ = ["TRIM_THRESHOLD", "heap_reuse_supported", "set_heap_reuse"]

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
_M_MMAP_MAX = -4
TRIM_THRESHOLD = 512 * 2**20
"""The free heap top (bytes) that a process keeps before it gives memory back to the kernel."""

_state = {"on": False}


@functools.cache  # platform.libc_ver() reads the Python executable
def heap_reuse_supported() -> bool:
    """True where the C allocator is glibc's (Linux with glibc), the one ``mallopt`` tunes."""
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def set_heap_reuse(mode: str) -> str:
    """Apply ``compute.heap_reuse`` (``auto`` = ``on`` where supported) to this process.

    The setting is process-wide and cannot be undone exactly (glibc's adaptive threshold is
    lost once set), so ``off`` after an earlier ``on`` in the same process says so.
    :return: what this process now has, for the compute report (``"on"``, ``"off (...)"``).
    """
    if mode == "off":
        return "on (set earlier in this process)" if _state["on"] else "off"
    if not heap_reuse_supported():
        # ``on`` is refused when the config loads (schema.py); auto just reports.
        return "off (auto: not glibc's malloc)"
    if not _state["on"]:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if not (libc.mallopt(_M_MMAP_MAX, 0) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
            return "off (mallopt refused)"
        _state["on"] = True
    return "on"
