"""The parity figure: published against simulated TOPS/W of every point, log-log, with a ±15 % band."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cimsim.plot.base import colour, save_figure
from cimsim.validation.table import ValidationRow

BAND = 0.15
"""The issue's target on TOPS/W: within 15 % of the published value."""


def parity_figure(rows: Sequence[ValidationRow]) -> Figure:
    """Published (x) against simulated (y) TOPS/W, one colour per design, filled = fitted, open = held out."""
    points = [r for r in rows if r.metric == "tops_per_watt"]
    figure = Figure(figsize=(6.4, 5.6), layout="constrained")
    axes = figure.add_subplot()
    values = [v for r in points for v in (r.published, r.simulated)]
    span = np.geomspace(min(values) / 1.5, max(values) * 1.5, 50)
    axes.plot(span, span, color="black", linewidth=0.8, label="simulated = published")
    axes.fill_between(span, span * (1 - BAND), span * (1 + BAND), color="0.85", label="±15 %")
    for index, design in enumerate(dict.fromkeys(r.design for r in points)):
        for fitted in (True, False):
            mine = [r for r in points if r.design == design and r.fitted is fitted]
            if mine:
                axes.scatter([r.published for r in mine], [r.simulated for r in mine], s=36, color=colour(index),
                             facecolors=colour(index) if fitted else "none", linewidths=1.4,
                             label=f"{design} ({'fitted' if fitted else 'held out'})")
    axes.set(xscale="log", yscale="log", xlabel="published TOPS/W", ylabel="cimsim TOPS/W (peak)",
             title="cimsim against published silicon: TOPS/W")
    axes.legend(fontsize=7, loc="upper left")
    axes.grid(True, which="both", linewidth=0.3)
    return figure


def parity_chart(rows: Sequence[ValidationRow], directory: str | Path) -> list[Path]:
    """Write the parity figure as ``parity.png`` and ``parity.svg`` in ``directory``."""
    return save_figure(parity_figure(rows), Path(directory) / "parity")
