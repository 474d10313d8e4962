"""Figures (matplotlib, headless: no pyplot, no display needed), written atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write

if TYPE_CHECKING:
    from cimsim.report import Report


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


def _save(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` atomically in the format named by the suffix of ``path`` (.png, .svg, .pdf)."""
    path = Path(path)
    if not path.suffix:
        raise ConfigError(f"path = {str(path)!r} has no suffix, expected .png, .svg or .pdf")
    return atomic_write(path, lambda handle: figure.savefig(handle, format=path.suffix[1:]))


def _colour(index: int) -> tuple[float, float, float, float]:
    """The ``index``-th of 20 distinct colours (repeating): tab20's 10 dark hues, then its 10 light ones."""
    return colormaps["tab20"]((2 * index + index // 10) % 20)


def timeline_chart(report: Report, path: str | Path) -> Path:
    """Gantt chart of ``report.timeline``: one lane per resource, bars coloured by stage; returns ``path``."""
    if not report.timeline:
        raise ConfigError(f"report of {report.workload} on {report.config} has an empty timeline: nothing to plot")
    ordered = sorted(report.timeline, key=lambda interval: interval.start_ns)
    lanes = list(dict.fromkeys(interval.resource for interval in ordered))
    stages = list(dict.fromkeys([row.name for row in report.layers] + [interval.stage for interval in ordered]))
    bars: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for interval in ordered:
        span_ns = (interval.start_ns, interval.end_ns - interval.start_ns)
        bars.setdefault((interval.stage, interval.resource), []).append(span_ns)
    figure = Figure(figsize=(8.0, 1.2 + 0.4 * len(lanes)), layout="constrained")
    axes = figure.add_subplot()
    for (stage, resource), spans_ns in bars.items():
        lane = (lanes.index(resource) - 0.4, 0.8)
        axes.broken_barh(spans_ns, lane, facecolors=_colour(stages.index(stage)), edgecolors="none")
    legend = [Patch(color=_colour(index), label=stage) for index, stage in enumerate(stages)]
    axes.legend(handles=legend, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.set_yticks(range(len(lanes)), lanes)
    axes.invert_yaxis()
    axes.set(xlabel="time (ns)", title=f"{report.workload} on {report.config}, batch {report.batch}, {report.mode}")
    return _save(figure, path)


def energy_breakdown_chart(reports: Sequence[Report], path: str | Path) -> Path:
    """One bar per report, stacked by component (pJ over the batch); returns ``path``."""
    totals_pj = {c: sum(r.breakdown.get(c, 0.0) for r in reports) for r in reports for c in r.breakdown}
    components = sorted(totals_pj, key=lambda c: -totals_pj[c])
    labels = [f"{report.config}\n{report.workload}, batch {report.batch}" for report in reports]
    figure = Figure(figsize=(1.6 + 1.4 * len(reports), 4.5), layout="constrained")
    axes = figure.add_subplot()
    bottom_pj = [0.0] * len(reports)
    for index, component in enumerate(components):
        heights_pj = [report.breakdown.get(component, 0.0) for report in reports]
        axes.bar(range(len(reports)), heights_pj, bottom=bottom_pj, color=_colour(index), label=component)
        bottom_pj = [b + h for b, h in zip(bottom_pj, heights_pj)]
    axes.set_xticks(range(len(reports)), labels)
    axes.set(ylabel="energy (pJ)", title="Energy by component")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(figure, path)
