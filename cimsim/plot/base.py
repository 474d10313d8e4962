"""What every figure of :mod:`cimsim.plot.charts` shares: saving as PNG and SVG, colours, units scaled to the data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write

FORMATS = ("png", "svg")
ENERGY_UNITS = (("pJ", 1.0), ("nJ", 1e3), ("µJ", 1e6), ("mJ", 1e9), ("J", 1e12))
TIME_UNITS = (("ns", 1.0), ("µs", 1e3), ("ms", 1e6), ("s", 1e9))


def save_figure(figure: Figure, path: str | Path) -> list[Path]:
    """Write ``figure`` as ``<stem>.png`` and ``<stem>.svg``, each atomically; return both paths.

    ``<stem>`` is ``path`` less a ``.png`` or ``.svg`` suffix; any other suffix is part of the
    name (``adc-0.5`` gives ``adc-0.5.png``), except another image format's (``.pdf``, ``.jpg``),
    which is refused.
    """
    path = Path(path)
    suffix = path.suffix.lower()[1:]
    if suffix in figure.canvas.get_supported_filetypes() and suffix not in FORMATS:
        raise ConfigError(f"path = {str(path)!r}: figures are written as PNG and SVG, not .{suffix}")
    stem = path.with_suffix("") if suffix in FORMATS else path
    return [
        atomic_write(stem.with_name(f"{stem.name}.{kind}"), lambda handle, k=kind: figure.savefig(handle, format=k))
        for kind in FORMATS
    ]


def colour(index: int) -> tuple[float, float, float, float]:
    """The ``index``-th of 20 distinct colours (repeating): tab20's 10 dark hues, then its 10 light ones."""
    return colormaps["tab20"]((2 * index + index // 10) % 20)


def unit_for(values: Sequence[float], units: Sequence[tuple[str, float]]) -> tuple[str, float]:
    """The largest of ``units`` (name, size in the base unit) in which the largest value is >= 1."""
    largest = max(values, default=0.0)
    return max((unit for unit in units if unit[1] <= largest), key=lambda unit: unit[1], default=units[0])


def names(values: Sequence[object], noun: str) -> str:
    """Distinct ``values`` in order, comma-separated; ``"<n> <noun>s"`` when there are more than four."""
    distinct = list(dict.fromkeys(str(value) for value in values))
    return ", ".join(distinct) if len(distinct) <= 4 else f"{len(distinct)} {noun}s"
