"""Spellings of structured sparsity, parsed and checked: N:M and block pruning of constant weights.

Three spellings are accepted everywhere a sparsity is given (``workloads.get(..., sparsity=...)``,
``workloads.sparsify``, a sweep's ``sparsity``, ``cimsim run --sparsity``):

``"N:M"`` (for example ``"2:4"``, ``"1:4"``, ``"3:8"``; integers ``1 <= N < M``)
    In every group of M consecutive weights along the reduction (K) dimension, keep the N of
    largest magnitude and zero the others (a pattern per column).

``"N:M:rows"`` (for example ``"2:4:rows"``)
    The same N:M pattern for every column: in every group of M consecutive rows along K, keep
    the N rows of largest L2 norm. This is the crossbar's N:M: a zero row is never stored.

``"block:RxC:fraction"`` (for example ``"block:4x4:0.5"``; ``x``, ``X`` or ``×``; integers
``R, C >= 1`` and ``0 <= fraction <= 1``)
    Zero that fraction of the R x C blocks (R along K, C along N) of smallest L1 norm.

``None`` is dense. This module only reads and checks the spelling (plain Python, no TVM); the
pruning itself, on numpy arrays and Relax modules, is :mod:`workloads.sparsity`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cimsim.errors import ConfigError

__all__ = ["ALLOWED_SPARSITY", "BlockSparsity", "NMSparsity", "Sparsity", "parse_sparsity"]

ALLOWED_SPARSITY = (
    '"N:M" with integers 1 <= N < M (e.g. "2:4"), "N:M:rows" (one pattern for all columns, e.g. "2:4:rows"), '
    'or "block:RxC:fraction" with integers '
    'R, C >= 1 and 0 <= fraction <= 1 (e.g. "block:4x4:0.5"), or None for dense'
)
"""What a sparsity may be, in words (for error messages)."""


@dataclass(frozen=True)
class NMSparsity:
    """Keep the ``n`` largest |w| in each group of ``m`` consecutive weights along K (per column,
    or, ``rows``, the ``n`` rows of largest norm, the same for every column)."""

    n: int
    m: int
    rows: bool = False

    def __str__(self) -> str:
        return f"{self.n}:{self.m}" + (":rows" if self.rows else "")


@dataclass(frozen=True)
class BlockSparsity:
    """Zero the ``fraction`` of ``rows`` x ``cols`` blocks (K x N) with the smallest L1 norm."""

    rows: int
    cols: int
    fraction: float

    def __str__(self) -> str:
        return f"block:{self.rows}x{self.cols}:{self.fraction:g}"


Sparsity = NMSparsity | BlockSparsity


def parse_sparsity(spec, argument: str = "sparsity") -> Sparsity | None:
    """Parse a sparsity string (see the module docstring); ``None`` means dense.

    Already parsed :class:`NMSparsity` / :class:`BlockSparsity` objects pass through.
    Raises :class:`cimsim.ConfigError` naming ``argument``, the value and what is allowed.
    """
    if spec is None or isinstance(spec, NMSparsity | BlockSparsity):
        return spec
    if not isinstance(spec, str):
        raise ConfigError(f"{argument}={spec!r} is not allowed: expected {ALLOWED_SPARSITY}")
    text = spec.strip()
    m = re.fullmatch(r"(\d+)\s*:\s*(\d+)(\s*:\s*rows)?", text)
    if m:
        n_keep, group = int(m.group(1)), int(m.group(2))
        if not 1 <= n_keep < group:
            raise ConfigError(
                f"{argument}={spec!r} is not allowed: N:M needs 1 <= N < M "
                f"(got N={n_keep}, M={group}); expected {ALLOWED_SPARSITY}"
            )
        return NMSparsity(n_keep, group, rows=m.group(3) is not None)
    m = re.fullmatch(
        r"block\s*:\s*(\d+)\s*[xX×]\s*(\d+)\s*:\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)", text
    )
    if m:
        rows, cols, fraction = int(m.group(1)), int(m.group(2)), float(m.group(3))
        if rows < 1 or cols < 1 or not 0.0 <= fraction <= 1.0:
            raise ConfigError(
                f"{argument}={spec!r} is not allowed: block sparsity needs R, C >= 1 and "
                f"0 <= fraction <= 1 (got R={rows}, C={cols}, fraction={fraction}); "
                f"expected {ALLOWED_SPARSITY}"
            )
        return BlockSparsity(rows, cols, fraction)
    raise ConfigError(f"{argument}={spec!r} is not allowed: expected {ALLOWED_SPARSITY}")
