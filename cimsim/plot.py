"""Figures (matplotlib, headless: no pyplot, no display needed). Each is saved as PNG and SVG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from cimsim.fileio import atomic_write


def line_chart(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    path_stem: str | Path,
    log_x: bool = False,
    log_y: bool = False,
) -> list[Path]:
    """One line per series against ``x``; writes ``path_stem``.png and .svg and returns both paths."""
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    for label, values in series.items():
        axes.plot(x, values, marker="o", label=label)
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if log_x:
        axes.set_xscale("log")
    if log_y:
        axes.set_yscale("log")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    stem = Path(path_stem)
    return [atomic_write(stem.with_suffix(f".{kind}"), lambda h, k=kind: figure.savefig(h, format=k)) for kind in ("png", "svg")]
