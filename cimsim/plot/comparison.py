"""The figure of a comparison: chips and their baselines side by side, energy by component and TOPS/W.

:func:`comparison_chart` writes it as PNG and SVG (as every chart of :mod:`cimsim.plot`);
:func:`comparison_figure` returns it unsaved. One bar per report of a
:class:`~cimsim.engine.comparison.Comparison`, in its order and with its labels: on the left the
shares of the energy by component (stacked to 100 %: the machines' energies may differ by orders of
magnitude), the energy per inference (the batch's over its size) written above each bar; on the right TOPS/W (2 × MACs with a non-zero weight per pJ), each chip's bar
marked with its ratio to its own baseline. Baselines are hatched.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from cimsim.errors import ConfigError
from cimsim.plot.base import ENERGY_UNITS, colour, save_figure, unit_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cimsim.engine.comparison import Comparison
    from cimsim.engine.report import Report

NAMED_COMPONENTS = 9  # components drawn by name, the largest first; the rest are stacked as "other"
LOG_SPREAD = 30.0  # TOPS/W on a log axis when the largest bar is more than this many times the smallest


def comparison_figure(comparison: Comparison, reports: Sequence[Report]) -> Figure:
    """Energy per inference by component and TOPS/W of ``reports`` (those ``comparison`` was made of)."""
    if len(reports) != len(comparison.labels) or not reports:
        raise ConfigError(f"comparison_chart: {len(reports)} reports for a comparison of "
                          f"{len(comparison.labels)}; pass the reports compare() was given, in order")
    figure = Figure(figsize=(4.0 + 2.2 * len(reports), 5.2), layout="constrained")
    energy_axes, tops_axes = figure.subplots(1, 2)
    ticks = [textwrap.fill(label, 14) for label in comparison.labels]
    baselines = {comparison.baseline_of(i) for i in range(len(reports))}
    legend = _energy_panel(energy_axes, reports, ticks, baselines)
    _tops_per_watt_panel(tops_axes, comparison, ticks, baselines)
    figure.legend(handles=legend, loc="outside lower center", ncols=min(len(legend), 6), fontsize="small",
                  title="energy component")
    figure.suptitle(f"{comparison.workload}, batch {comparison.batch}: "
                    f"{len(reports) - len(baselines)} chip(s) against {len(baselines)} baseline run(s) (hatched)")
    return figure


def comparison_chart(comparison: Comparison, reports: Sequence[Report], path: str | Path) -> list[Path]:
    """Write :func:`comparison_figure` as PNG and SVG; return both paths."""
    return save_figure(comparison_figure(comparison, reports), path)


def _energy_panel(axes: Axes, reports: Sequence[Report], ticks: list[str], baselines: set[int]) -> list[Patch]:
    """Each report's energy as shares by component (machines may differ by orders of magnitude), total above.

    Returns the legend's entries, one per component drawn.
    """
    totals = [r.energy_pj / r.batch for r in reports]
    shares = [{c: pj / r.energy_pj if r.energy_pj else 0.0 for c, pj in r.breakdown.items()} for r in reports]
    ranked = sorted({c for share in shares for c in share}, key=lambda c: -max(share.get(c, 0.0) for share in shares))
    named, rest = ranked[:NAMED_COMPONENTS], ranked[NAMED_COMPONENTS:]
    bottom = [0.0] * len(reports)
    hatches = ["//" if i in baselines else "" for i in range(len(reports))]
    legend = []
    for index, component in enumerate(named + (["other"] if rest else [])):
        parts = rest if component == "other" else [component]
        heights = [100 * sum(share.get(c, 0.0) for c in parts) for share in shares]
        axes.bar(range(len(reports)), heights, bottom=bottom, color=colour(index), hatch=hatches,
                 edgecolor="white", linewidth=0.3)
        legend.append(Patch(color=colour(index), label=component))
        bottom = [b + h for b, h in zip(bottom, heights)]
    unit, unit_pj = unit_for(totals, ENERGY_UNITS)
    for x, total_pj in enumerate(totals):
        axes.annotate(f"{total_pj / unit_pj:.3g} {unit}", (x, 100), ha="center", va="bottom", fontsize="small")
    axes.set_xticks(range(len(reports)), ticks, fontsize="small")
    axes.set(ylabel="share of the energy (%)", ylim=(0, 110),
             title=f"Energy by component (per inference in {unit} above)")
    return legend


def _tops_per_watt_panel(axes: Axes, comparison: Comparison, ticks: list[str], baselines: set[int]) -> None:
    values = comparison.values["tops_per_watt"]
    ratios = comparison.ratios()["tops_per_watt"]
    colours = ["0.6" if i in baselines else colour(0) for i in range(len(values))]
    hatches = ["//" if i in baselines else "" for i in range(len(values))]
    axes.bar(range(len(values)), values, color=colours, hatch=hatches, edgecolor="white", linewidth=0.3)
    finite = [v for v in values if math.isfinite(v) and v > 0]
    if finite and max(finite) > LOG_SPREAD * min(finite):
        axes.set_yscale("log")
    for x, (value, ratio) in enumerate(zip(values, ratios)):
        text = f"{value:.3g}" if x in baselines else f"{value:.3g}\n×{ratio:.3g}"
        axes.annotate(text, (x, value), ha="center", va="bottom", fontsize="small")
    axes.set_xticks(range(len(values)), ticks, fontsize="small")
    axes.set(ylabel="TOPS/W (2 × MACs with a non-zero weight per pJ)",
             title="Energy efficiency (× its baseline above each chip)")
    axes.margins(y=0.2)
