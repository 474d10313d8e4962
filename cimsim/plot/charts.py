"""Figures (matplotlib, headless: no pyplot, no display needed).

Every function here writes its figure as PNG and SVG (``path`` with or without a ``.png`` or
``.svg`` suffix, each file written atomically: :func:`cimsim.plot.base.save_figure`) and returns
both paths; its ``*_figure`` twin returns the :class:`~matplotlib.figure.Figure` unsaved, to show
in a notebook or to test. Energies and times are drawn in the unit that suits the data (pJ to J,
ns to s), named on the axis.

- of one or more :class:`~cimsim.engine.report.Report`: :func:`timeline_chart` (Gantt),
  :func:`energy_breakdown_chart` (stacked by component), :func:`layer_bars` (per layer);
- of sweep tables (:mod:`cimsim.plot.sweep`): :func:`metric_vs_parameter`,
  :func:`accuracy_vs_parameter`, :func:`pareto_front` and :func:`pareto_points`;
- of the von Neumann baseline (:mod:`cimsim.plot.baseline_roofline`): :func:`roofline_chart`;
- :func:`line_chart`, lines from plain numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
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
    for (stage, lane), spans in bars.items():
        position = stages.index(stage) / max(len(stages) - 1, 1)
        axes.broken_barh([(start / unit_ns, length / unit_ns) for start, length in spans],
                         (lanes.index(lane) - 0.4, 0.8), facecolors=palette(position), edgecolors="none")
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


def energy_breakdown_figure(reports: Sequence[Report]) -> Figure:
    """One bar per report (e.g. CIM and the baseline), its energy per inference stacked by component.

    Per inference is the batch's energy over its size, so once-per-batch energy (weights from
    DRAM, reprogramming) is shared among the batch's inferences.
    """
    if not reports:
        raise ConfigError("energy_breakdown_chart: reports is empty, expected at least one Report")
    per_inference = [{c: pj / r.batch for c, pj in r.breakdown.items()} for r in reports]
    totals_pj = {c: sum(shares.get(c, 0.0) for shares in per_inference) for shares in per_inference for c in shares}
    unit, unit_pj = unit_for([sum(shares.values()) for shares in per_inference], ENERGY_UNITS)
    figure = Figure(figsize=(2.4 + 1.4 * len(reports), 4.5), layout="constrained")
    axes = figure.add_subplot()
    bottom = [0.0] * len(reports)
    for index, component in enumerate(sorted(totals_pj, key=lambda c: -totals_pj[c])):
        heights = [shares.get(component, 0.0) / unit_pj for shares in per_inference]
        axes.bar(range(len(reports)), heights, bottom=bottom, color=colour(index), label=component)
        bottom = [b + h for b, h in zip(bottom, heights)]
    labels = [f"{r.config}\n({r.architecture})\n{r.workload}, batch {r.batch}" for r in reports]
    axes.set_xticks(range(len(reports)), labels)
    title = (f"Energy by component: {names([r.workload for r in reports], 'workload')} "
             f"on {names([r.config for r in reports], 'config')}")
    axes.set(ylabel=f"energy per inference ({unit})", title=title)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def energy_breakdown_chart(reports: Sequence[Report], path: str | Path) -> list[Path]:
    """Write :func:`energy_breakdown_figure` as PNG and SVG; return both paths."""
    return save_figure(energy_breakdown_figure(reports), path)


def layer_bars_figure(report: Report) -> Figure:
    """Two panels of one bar per layer: energy per inference, and latency (first start to last end)."""
    if not report.layers:
        raise ConfigError(f"report of {report.workload} on {report.config} has no layers: nothing to plot")
    rows = report.layers
    energy_unit, unit_pj = unit_for([row.energy_pj / report.batch for row in rows], ENERGY_UNITS)
    time_unit, unit_ns = unit_for([row.latency_ns for row in rows], TIME_UNITS)
    figure = Figure(figsize=(9.0, 1.8 + 0.22 * len(rows)), layout="constrained")
    energy_axes, time_axes = figure.subplots(1, 2, sharey=True)
    kinds = list(dict.fromkeys(row.kind for row in rows))
    colours = [colour(kinds.index(row.kind)) for row in rows]
    energy_axes.barh(range(len(rows)), [row.energy_pj / report.batch / unit_pj for row in rows], color=colours)
    time_axes.barh(range(len(rows)), [row.latency_ns / unit_ns for row in rows], color=colours)
    energy_axes.set_yticks(range(len(rows)), [row.name for row in rows])
    energy_axes.invert_yaxis()
    energy_axes.set(xlabel=f"energy per inference ({energy_unit})", ylabel="layer", title="Energy")
    time_axes.set(xlabel=f"latency over the batch, first start to last end ({time_unit})", title="Latency")
    time_axes.legend(handles=[Patch(color=colour(i), label=kind) for i, kind in enumerate(kinds)], fontsize="small")
    figure.suptitle(f"Layers of {report.workload} on {report.config}, batch {report.batch}, {report.mode}")
    return figure


def layer_bars(report: Report, path: str | Path) -> list[Path]:
    """Write :func:`layer_bars_figure` as PNG and SVG; return both paths."""
    return save_figure(layer_bars_figure(report), path)
