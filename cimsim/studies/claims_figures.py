"""Figures of the article-claims study: TOPS/W per design and workload, and the baselines' data movement."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from cimsim.plot.base import colour, save_figure
from cimsim.studies.article_claims import (
    ABOUT_FACTOR,
    CIM_TOPS_PER_WATT,
    DATA_MOVEMENT_SHARE,
    GPU_TOPS_PER_WATT,
)


REFUSED_MARK_TOPS_PER_WATT = 1e-3
"""Where a refused run's marker sits on the TOPS/W axis."""


def _ordered(rows: Sequence[dict[str, Any]], key: str) -> list:
    return list(dict.fromkeys(r[key] for r in rows))


def tops_per_watt_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """One panel per (batch, bits): TOPS/W of each design (bars) on each workload (groups), log scale,
    with the claims' bands (GPU ≈ 1.2, CIM ≈ 24 TOPS/W, each ×/÷ the study's "about" factor)."""
    panels = [(b, p) for b in _ordered(rows, "batch") for p in _ordered(rows, "bits")]
    workloads, designs = _ordered(rows, "workload"), _ordered(rows, "design")
    columns = min(2, len(panels))
    figure = Figure(figsize=(7.5 * columns, 4.2 * -(-len(panels) // columns)), layout="constrained")
    axes_grid = np.atleast_1d(figure.subplots(-(-len(panels) // columns), columns, squeeze=False)).ravel()
    width = 0.8 / len(designs)
    for axes, (batch, bits) in zip(axes_grid, panels):
        for index, design in enumerate(designs):
            values = {r["workload"]: r["tops_per_watt"] for r in rows
                      if (r["design"], r["batch"], r["bits"]) == (design, batch, bits) and not r.get("error")}
            x = [i + (index - (len(designs) - 1) / 2) * width for i, w in enumerate(workloads) if w in values]
            axes.bar(x, [values[w] for w in workloads if w in values], width, color=colour(index), label=design)
            refused = [i + (index - (len(designs) - 1) / 2) * width for i, w in enumerate(workloads) if w not in values]
            axes.plot(refused, [REFUSED_MARK_TOPS_PER_WATT] * len(refused), "x", color=colour(index), ms=5)
        for target, name in ((GPU_TOPS_PER_WATT, "GPU claim"), (CIM_TOPS_PER_WATT, "CIM claim")):
            axes.axhspan(target / ABOUT_FACTOR, target * ABOUT_FACTOR, color="grey", alpha=0.15)
            axes.axhline(target, color="grey", lw=0.8, ls="--")
            axes.annotate(f"{name}: {target:g}", (len(workloads) - 0.5, target), ha="right", va="bottom", fontsize=7)
        axes.set(yscale="log", ylabel="TOPS/W (2 ops per MAC)", title=f"batch {batch}, w{bits}a{bits}")
        axes.set_xticks(range(len(workloads)), workloads, rotation=20, ha="right", fontsize=8)
        axes.grid(True, axis="y", which="major", alpha=0.3)
        axes.set_axisbelow(True)
    for axes in axes_grid[len(panels):]:
        axes.set_visible(False)
    handles = [Patch(color=colour(index), label=design) for index, design in enumerate(designs)]
    figure.legend(handles=handles, loc="outside lower center", ncol=min(len(designs), 7), fontsize=8)
    figure.suptitle(f"TOPS/W per design and workload; grey bands: the claims ×/÷ {ABOUT_FACTOR:g}; "
                    f"× at {REFUSED_MARK_TOPS_PER_WATT:g}: the design refused the run (the model does not fit)")
    return figure


def data_movement_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """One panel per von Neumann baseline: its data-movement share per workload, one marker per
    (batch, bits), against the claim's 90 %."""
    baseline = [r for r in rows if r["kind"] == "von-neumann" and not r.get("error")]
    designs, workloads = _ordered(baseline, "design"), _ordered(baseline, "workload")
    settings = list(dict.fromkeys((r["batch"], r["bits"]) for r in baseline))
    figure = Figure(figsize=(4.2 * max(len(designs), 1), 4.2), layout="constrained")
    axes_row = np.atleast_1d(figure.subplots(1, max(len(designs), 1), sharey=True, squeeze=False)).ravel()
    lowest = min((100 * r["data_movement_share"] for r in baseline), default=0.0)
    for axes, design in zip(axes_row, designs):
        for index, (batch, bits) in enumerate(settings):
            values = {r["workload"]: r["data_movement_share"] for r in baseline
                      if (r["design"], r["batch"], r["bits"]) == (design, batch, bits)}
            x = [i + (index - (len(settings) - 1) / 2) * 0.12 for i, w in enumerate(workloads) if w in values]
            axes.plot(x, [100 * values[w] for w in workloads if w in values], "o", color=colour(index),
                      label=f"batch {batch}, w{bits}a{bits}")
        axes.axhline(100 * DATA_MOVEMENT_SHARE, color="black", ls="--", lw=1)
        axes.set(title=design, ylim=(min(lowest, 100 * DATA_MOVEMENT_SHARE) - 3, 100.5))
        axes.set_xticks(range(len(workloads)), workloads, rotation=25, ha="right", fontsize=8)
        axes.grid(True, axis="y", alpha=0.3)
    axes_row[0].set_ylabel("data movement (% of energy)")
    axes_row[0].legend(fontsize=7, loc="lower left")
    figure.suptitle("Data movement on the von Neumann baselines; dashed: the claim's 90 %")
    return figure


def write_figures(rows: Sequence[dict[str, Any]], out: str | Path) -> list[Path]:
    """Both figures as PNG and SVG in directory ``out``."""
    out = Path(out)
    return (save_figure(tops_per_watt_figure(rows), out / "article_claims_tops_per_watt")
            + save_figure(data_movement_figure(rows), out / "article_claims_data_movement"))
