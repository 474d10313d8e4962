"""Figures (matplotlib, headless: no pyplot, no display needed).

Every function here writes its figure as PNG and SVG (``path`` with or without a ``.png`` or
``.svg`` suffix, each file written atomically: :func:`cimsim.plot.base.save_figure`) and returns
both paths; its ``*_figure`` twin returns the :class:`~matplotlib.figure.Figure` unsaved, to show
in a notebook or to test. Energies and times are drawn in the unit that suits the data (pJ to J,
ns to s), named on the axis.

- of one or more :class:`~cimsim.engine.report.Report`: :func:`timeline_chart` (Gantt),
  :func:`energy_breakdown_chart` (stacked by component), :func:`tops_per_watt_chart` (each chip
  against the baseline), :func:`layer_bars` (per layer);
- of sweep tables (:mod:`cimsim.plot.sweep`): :func:`metric_vs_parameter`,
  :func:`accuracy_vs_parameter`, :func:`pareto_front` and :func:`pareto_points`;
- of the von Neumann baseline (:mod:`cimsim.plot.baseline_roofline`): :func:`roofline_chart`;
- :func:`line_chart`, lines from plain numbers.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from cimsim.errors import ConfigError
from cimsim.plot.base import ENERGY_UNITS, TIME_UNITS, colour, names, save_figure, unit_for

if TYPE_CHECKING:
    from cimsim.engine.report import Report



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
    return save_figure(figure, path_stem)


MAX_TIMELINE_LANES = 36
"""Lanes a timeline draws one per resource; beyond, whole kinds of resources share a lane."""
MERGE_GAP_FRACTION = 1 / 2000
"""Spans of one stage on one lane closer than this fraction of the run are drawn as one bar (below a pixel)."""


def timeline_figure(report: Report) -> Figure:
    """Gantt chart of ``report.timeline``: one lane per resource, bars coloured by the layer's place in the network.

    A resource is named ``kind:instance`` (``arrays:conv2d_3``, ``link:4``); when there are more
    than :data:`MAX_TIMELINE_LANES` of them, the kinds with the least busy time are drawn one lane
    per kind ("link (18)": 18 resources overlaid) until the lanes fit. Colour runs along the
    layers in execution order (a colour bar, not a legend), so a pipeline's overlap shows as
    colours side by side.
    """
    if not report.timeline:
        raise ConfigError(
            f"report of {report.workload} on {report.config} has an empty timeline: nothing to plot "
            "(simulate with record_timeline=True)"
        )
    ordered = sorted(report.timeline, key=lambda interval: interval.start_ns)
    lane_of = _timeline_lanes([interval.resource for interval in ordered],
                              [interval.end_ns - interval.start_ns for interval in ordered])
    lanes = list(dict.fromkeys(lane_of[interval.resource] for interval in ordered))
    stages = list(dict.fromkeys([row.name for row in report.layers] + [interval.stage for interval in ordered]))
    end_ns = max(interval.end_ns for interval in ordered)
    unit, unit_ns = unit_for([end_ns], TIME_UNITS)
    bars = _merged_spans(ordered, lane_of, gap_ns=end_ns * MERGE_GAP_FRACTION)
    figure = Figure(figsize=(9.0, 1.8 + 0.24 * len(lanes)), layout="constrained")
    axes = figure.add_subplot()
    palette = colormaps["viridis"]
    stage_colours = palette(np.linspace(0.0, 1.0, len(stages)))
    lane_index = {lane: index for index, lane in enumerate(lanes)}
    stage_index = {stage: index for index, stage in enumerate(stages)}
    keys = [key for key, spans in bars.items() for _ in spans]
    spans = np.array([span for key in bars for span in bars[key]]) / unit_ns  # (bars, [start, length])
    rows = np.array([lane_index[lane] for _, lane in keys], dtype=float)
    boxes = np.empty((len(keys), 4, 2))
    boxes[:, :, 0] = spans[:, :1] + spans[:, 1:] * np.array([0.0, 1.0, 1.0, 0.0])
    boxes[:, :, 1] = rows[:, None] + np.array([-0.4, -0.4, 0.4, 0.4])
    colours = stage_colours[[stage_index[stage] for stage, _ in keys]]
    # one collection, rasterised in the SVG: thousands of bars stay one image, written in well under a second
    axes.add_collection(PolyCollection(boxes, facecolors=colours, edgecolors="none", rasterized=True))
    axes.autoscale_view()
    colour_bar = figure.colorbar(ScalarMappable(Normalize(0, len(stages) - 1), palette), ax=axes, pad=0.01)
    marks = sorted({0, len(stages) // 2, len(stages) - 1})
    colour_bar.set_ticks(marks, labels=[stages[index] for index in marks])
    colour_bar.set_label("layer, in execution order")
    axes.set_yticks(range(len(lanes)), lanes, fontsize="small")
    axes.invert_yaxis()
    title = f"Timeline: {report.workload} on {report.config}, batch {report.batch}, {report.mode}"
    axes.set(xlabel=f"time ({unit})", ylabel="resource", title=title)
    return figure


def _timeline_lanes(resources: Sequence[str], durations_ns: Sequence[float]) -> dict[str, str]:
    """Resource -> its lane: itself, or ``"<kind> (<n>)"`` for the kinds merged to fit :data:`MAX_TIMELINE_LANES`."""
    members: dict[str, list[str]] = {}
    busy_ns: dict[str, float] = {}
    for resource, duration in zip(resources, durations_ns):
        kind = resource.partition(":")[0]
        if resource not in members.setdefault(kind, []):
            members[kind].append(resource)
        busy_ns[kind] = busy_ns.get(kind, 0.0) + duration
    merged: set[str] = set()
    for kind in sorted(members, key=lambda k: busy_ns[k]):
        if sum(1 if k in merged else len(members[k]) for k in members) <= MAX_TIMELINE_LANES:
            break
        merged.add(kind)
    return {resource: (f"{kind} ({len(group)})" if kind in merged else resource)
            for kind, group in members.items() for resource in group}


def _merged_spans(ordered, lane_of: Mapping[str, str], gap_ns: float) -> dict[tuple[str, str], list[list[float]]]:
    """(stage, lane) -> [start_ns, length_ns] spans, each span absorbing the next when it starts within ``gap_ns`` of its end."""
    bars: dict[tuple[str, str], list[list[float]]] = {}
    for interval in ordered:
        spans = bars.setdefault((interval.stage, lane_of[interval.resource]), [])
        if spans and interval.start_ns <= spans[-1][0] + spans[-1][1] + gap_ns:
            spans[-1][1] = max(spans[-1][1], interval.end_ns - spans[-1][0])
        else:
            spans.append([interval.start_ns, interval.end_ns - interval.start_ns])
    return bars


def timeline_chart(report: Report, path: str | Path) -> list[Path]:
    """Write :func:`timeline_figure` as PNG and SVG; return both paths."""
    return save_figure(timeline_figure(report), path)


MAX_COMPONENTS = 7
"""Components an energy breakdown draws apart (the largest shares of any bar); the rest are one "other" block."""
OTHER_COLOUR = "0.75"


def energy_breakdown_figure(reports: Sequence[Report]) -> Figure:
    """One bar per report (e.g. CIM and the baseline), its energy per inference stacked by component.

    Per inference is the batch's energy over its size, so once-per-batch energy (weights from
    DRAM, reprogramming) is shared among the batch's inferences. The :data:`MAX_COMPONENTS`
    components with the largest share of any bar get a colour each, the others are summed into
    one grey block; each bar carries its total and its ratio to its baseline
    (:func:`baseline_index`: the von Neumann run of the same workload and batch).
    """
    if not reports:
        raise ConfigError("energy_breakdown_chart: reports is empty, expected at least one Report")
    per_inference = [{c: pj / r.batch for c, pj in r.breakdown.items()} for r in reports]
    totals = [math.fsum(shares.values()) for shares in per_inference]
    largest_share = {c: max(shares.get(c, 0.0) / total if total else 0.0 for shares, total in zip(per_inference, totals))
                     for shares in per_inference for c in shares}
    ranked = sorted(largest_share, key=lambda c: -largest_share[c])
    drawn, rest = ranked[:MAX_COMPONENTS], ranked[MAX_COMPONENTS:]
    unit, unit_pj = unit_for(totals, ENERGY_UNITS)
    figure = Figure(figsize=(3.2 + 1.7 * len(reports), 4.8), layout="constrained")
    axes = figure.add_subplot()
    bottom = [0.0] * len(reports)
    blocks = [(component, [component], colour(index)) for index, component in enumerate(drawn)]
    blocks += [(f"other ({len(rest)} components)", rest, OTHER_COLOUR)] if rest else []
    for label, components, block_colour in blocks:
        heights = [math.fsum(shares.get(c, 0.0) for c in components) / unit_pj for shares in per_inference]
        axes.bar(range(len(reports)), heights, bottom=bottom, color=block_colour, label=label, width=0.6)
        bottom = [b + h for b, h in zip(bottom, heights)]
    _label_bars(axes, reports, [t / unit_pj for t in totals], "{:.3g} " + unit)
    axes.set_xticks(range(len(reports)), [bar_label(r) for r in reports], fontsize="small")
    title = (f"Energy by component: {names([r.workload for r in reports], 'workload')} "
             f"on {names([r.config for r in reports], 'config')}")
    axes.set(ylabel=f"energy per inference ({unit})", title=title)
    axes.margins(y=0.15)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def baseline_index(reports: Sequence[Report], index: int = 0) -> int:
    """The report ``reports[index]`` is measured against: the first that is not a CIM chip and ran the
    same workload at the same batch, else the first that is not a CIM chip, else the first."""
    report, others = reports[index], [i for i, r in enumerate(reports) if r.architecture != "cim"]
    same = [i for i in others if (reports[i].workload, reports[i].batch) == (report.workload, report.batch)]
    return (same or others or [0])[0]


def bar_label(report: Report) -> str:
    """A bar's label: the configuration (wrapped), its architecture, the workload and the batch."""
    return f"{textwrap.fill(report.config, 18)}\n({report.architecture})\n{report.workload}, batch {report.batch}"


def _label_bars(axes, reports: Sequence[Report], heights: Sequence[float], form: str) -> None:
    """Write each bar's height in ``form`` above it, and its ratio to its baseline's under that."""
    for index, height in enumerate(heights):
        base = baseline_index(reports, index)
        ratio = "baseline" if index == base else f"×{height / heights[base]:.3g}" if heights[base] else "×n/a"
        axes.annotate(f"{form.format(height)}\n{ratio}", (index, height), xytext=(0, 3), textcoords="offset points",
                      ha="center", va="bottom", fontsize="small")


def tops_per_watt_figure(reports: Sequence[Report]) -> Figure:
    """One bar per report: its energy efficiency, TOPS/W (2 × MACs with a non-zero weight per pJ), with its
    value and its ratio to its baseline (:func:`baseline_index`: the von Neumann run of the same workload)."""
    if not reports:
        raise ConfigError("tops_per_watt_chart: reports is empty, expected at least one Report")
    values = [r.tops_per_watt for r in reports]
    kinds = list(dict.fromkeys(r.architecture for r in reports))
    figure = Figure(figsize=(3.2 + 1.5 * len(reports), 4.6), layout="constrained")
    axes = figure.add_subplot()
    for kind_index, kind in enumerate(kinds):
        members = [i for i, r in enumerate(reports) if r.architecture == kind]
        axes.bar(members, [values[i] for i in members], color=colour(kind_index), label=kind, width=0.6)
    bases = [reports[baseline_index(reports, i)].config for i in range(len(reports))]
    _label_bars(axes, reports, values, "{:.3g}")
    axes.set_xticks(range(len(reports)), [bar_label(r) for r in reports], fontsize="small")
    title = (f"Energy efficiency against {names(bases, 'baseline')}: {names([r.workload for r in reports], 'workload')}, "
             f"batch {names([r.batch for r in reports], 'batch')}")
    axes.set(ylabel="TOPS/W (1 MAC = 2 ops, whole run, static included)", title=title)
    axes.margins(y=0.15)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def tops_per_watt_chart(reports: Sequence[Report], path: str | Path) -> list[Path]:
    """Write :func:`tops_per_watt_figure` as PNG and SVG; return both paths."""
    return save_figure(tops_per_watt_figure(reports), path)


def energy_breakdown_chart(reports: Sequence[Report], path: str | Path) -> list[Path]:
    """Write :func:`energy_breakdown_figure` as PNG and SVG; return both paths."""
    return save_figure(energy_breakdown_figure(reports), path)


def layer_bars_figure(report: Report) -> Figure:
    """Two panels, a row per layer: energy per inference, and when the layer runs within the batch.

    The second panel draws each layer from its first start to its last end (``start_ns`` to
    ``end_ns``), so a run layer by layer is a staircase, and a pipelined run shows its layers
    overlapping, each one active for most of the batch: the span, not a time per layer, is what a
    pipelined layer's latency is.
    """
    if not report.layers:
        raise ConfigError(f"report of {report.workload} on {report.config} has no layers: nothing to plot")
    rows = report.layers
    energy_unit, unit_pj = unit_for([row.energy_pj / report.batch for row in rows], ENERGY_UNITS)
    time_unit, unit_ns = unit_for([row.end_ns for row in rows], TIME_UNITS)
    figure = Figure(figsize=(10.0, 1.8 + 0.22 * len(rows)), layout="constrained")
    energy_axes, time_axes = figure.subplots(1, 2, sharey=True)
    kinds = list(dict.fromkeys(row.kind for row in rows))
    colours = [colour(kinds.index(row.kind)) for row in rows]
    energy_axes.barh(range(len(rows)), [row.energy_pj / report.batch / unit_pj for row in rows], color=colours)
    time_axes.barh(range(len(rows)), [row.latency_ns / unit_ns for row in rows],
                   left=[row.start_ns / unit_ns for row in rows], color=colours)
    energy_axes.set_yticks(range(len(rows)), [row.name for row in rows], fontsize="small")
    energy_axes.invert_yaxis()
    energy_axes.set(xlabel=f"energy per inference ({energy_unit})", ylabel="layer", title="Energy")
    overlap = "layers overlap" if report.mode == "pipelined" else "one layer at a time"
    time_axes.set(xlabel=f"time since the batch starts ({time_unit})", title=f"Active span ({overlap})")
    time_axes.legend(handles=[Patch(color=colour(i), label=kind) for i, kind in enumerate(kinds)], fontsize="small")
    figure.suptitle(f"Layers of {report.workload} on {report.config}, batch {report.batch}, {report.mode}")
    return figure


def layer_bars(report: Report, path: str | Path) -> list[Path]:
    """Write :func:`layer_bars_figure` as PNG and SVG; return both paths."""
    return save_figure(layer_bars_figure(report), path)
