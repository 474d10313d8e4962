"""Bounded memory: estimate a large allocation before making it, and refuse one above the limit.

The limit is ``CIMSIM_MEMORY_LIMIT_GB`` (gigabytes, 10^9 bytes) when set, else half of the
memory the operating system reports available (``MemAvailable`` in /proc/meminfo; on systems
without it, half of the physical memory). A programmed matrix holds 1.2 to 4.4 bytes per cell
(8.2 with a per-cell read-noise variance): its quantised weights (1 byte a weight up to 8 bits, shared by the weight's cells) and its read
operand per conversion column (int8 for noise-free cells, else float32); it does not hold its
cells' levels (computed from the weights) nor their conductances, but draws them again, a chunk
of rows at a time, whenever they are needed.
Programming peaks at :data:`BYTES_PER_CELL` per cell plus :data:`BYTES_PER_CHUNK_CELL` per cell
of one chunk (the float64 temporaries of one chunk of rows), as :func:`programming_bytes` adds
up (measured with tracemalloc in tests/test_memory.py and benchmarks/memory.py). Reads work in
chunks of vectors of bounded size, so their memory does not grow with the number of vectors
beyond the output itself.
"""

from __future__ import annotations

import os

from cimsim.errors import ConfigError

BYTES_PER_CELL = 9  # held per programmed cell, at most 8.2 (float32 operand and per-read variance, digital columns; 1.2-4.4 without)
BYTES_PER_CHUNK_CELL = 120  # float64 temporaries per cell of one chunk of rows (measured 47 noise-free, 112-114 with noise)
LIMIT_VARIABLE = "CIMSIM_MEMORY_LIMIT_GB"


def available_bytes() -> int:
    """Memory the system reports available (bytes)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_limit_bytes() -> int:
    """The limit (module docstring)."""
    text = os.environ.get(LIMIT_VARIABLE)
    if text is None:
        return available_bytes() // 2
    try:
        limit_gb = float(text)
    except ValueError:
        limit_gb = -1.0
    if not limit_gb > 0:
        raise ConfigError(f"{LIMIT_VARIABLE} = {text!r}; allowed: a number of gigabytes > 0")
    return int(limit_gb * 1e9)


def programming_bytes(cells: int, chunk_cells: int) -> float:
    """Peak memory of programming ``cells`` cells drawn ``chunk_cells`` at a time (bytes)."""
    return cells * BYTES_PER_CELL + min(cells, chunk_cells) * BYTES_PER_CHUNK_CELL


def check_allocation(nbytes: float, what: str, advice: str) -> None:
    """ConfigError when ``nbytes`` is above the limit, naming the size, the limit and how to chunk."""
    limit = memory_limit_bytes()
    if nbytes > limit:
        raise ConfigError(
            f"{what} needs about {nbytes / 1e9:.3g} GB, above the memory limit of {limit / 1e9:.3g} GB "
            f"({LIMIT_VARIABLE}, or half the available memory); {advice}"
        )
