"""Figures of sweep tables: a figure against a swept parameter, accuracy over seeds, energy-accuracy fronts.

A sweep table is a sequence of rows, each a mapping from column name to value: the swept
parameters (``"adc.bits"``, ``"workload"``, ``"chip"``, ``"seed"``, ...) and what was measured
(``"tops_per_watt"``, ``"energy_pj"``, ``"relative_error"``, ...). Axes are labelled from
:data:`LABELS` (with units) or, for other columns, with the column's name. Rows that share a
series and an x (several seeds, say) are drawn as their mean with ± 1 sample standard deviation
as error bars: filter the table first so that such rows differ only in their seed. A missing column, or a non-number where a number is plotted, is a
:class:`~cimsim.errors.ConfigError` naming the column. Which rows are on a Pareto front is
:mod:`cimsim.pareto`'s (data); this module draws it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from cimsim.pareto import HIGHER_IS_BETTER, Rows, column, numeric, pareto_points
from cimsim.plot.base import colour, names, save_figure

LABELS = {
    "tops_per_watt": ("energy efficiency", "TOPS/W"),
    "tops": ("throughput", "TOPS"),
    "tops_per_mm2": ("area efficiency", "TOPS/mm²"),
    "energy_pj": ("energy", "pJ"),
    "energy_per_inference_pj": ("energy per inference", "pJ"),
    "latency_ns": ("latency", "ns"),
    "throughput_inferences_per_s": ("throughput", "inferences/s"),
    "data_movement_share": ("data-movement share of energy", ""),
    "area_um2": ("area", "µm²"),
    "relative_error": ("relative output error", "‖y − y_ref‖ / ‖y_ref‖"),
    "layer_relative_error_rms": ("relative error of the layers (RMS)", "‖y − y_ref‖ / ‖y_ref‖"),
    "accuracy": ("accuracy", ""),
    "top1_agreement": ("top-1 agreement with the exact model", ""),
    "adc.bits": ("ADC resolution", "bits"),
    "dac.bits": ("DAC resolution", "bits"),
    "batch": ("batch size", "inferences"),
    "seed": ("seed", ""),
}
"""Known columns: (quantity, unit); the axis label is "quantity (unit)"."""

PRESET_COLUMNS = ("chip", "preset", "config")
"""Columns that name the machine, in the order a title looks for them."""


@dataclass(frozen=True)
class Point:
    """The rows of one series at one x: the mean of y, its sample standard deviation (0 for one row), how many."""

    x: Any
    mean: float
    spread: float
    samples: int


def label(column: str) -> str:
    """The axis label of ``column``: ``"quantity (unit)"`` from :data:`LABELS`, else the column's name."""
    quantity, unit = LABELS.get(column, (column, ""))
    return f"{quantity} ({unit})" if unit else quantity


def quantity(column: str) -> str:
    """What ``column`` measures, without its unit, for titles."""
    return LABELS.get(column, (column, ""))[0]


def curves(rows: Rows, x: str, y: str, series: str | None = None) -> dict[str, list[Point]]:
    """One curve per value of column ``series`` (one, named after ``y``, without): its points in x order.

    Numeric x values are sorted; others (names) keep the order of their first row.
    """
    xs, ys = column(rows, x), numeric(rows, y)
    keys = [str(key) for key in column(rows, series)] if series else [quantity(y)] * len(rows)
    grouped: dict[str, dict[Any, list[float]]] = {}
    for key, x_value, y_value in zip(keys, xs, ys):
        grouped.setdefault(key, {}).setdefault(x_value, []).append(y_value)
    ordered = sorted if all(isinstance(v, Real) and not isinstance(v, bool) for v in xs) else list
    return {key: [_point(x_value, by_x[x_value]) for x_value in ordered(by_x)] for key, by_x in grouped.items()}


def _point(x: Any, values: list[float]) -> Point:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return Point(x, statistics.fmean(values), spread, len(values))


def context(rows: Rows) -> str:
    """``"<workloads> on <presets>"`` from the rows' ``workload`` and chip/preset/config columns, those they have."""
    parts = [names(column(rows, "workload"), "workload")] if all("workload" in row for row in rows) else []
    machine = next((name for name in PRESET_COLUMNS if all(name in row for row in rows)), None)
    if machine:
        parts.append(names(column(rows, machine), machine))
    return " on ".join(parts)


def _title(first: str, *details: str) -> str:
    """``first``, then the non-empty ``details`` on a second line."""
    second = "; ".join(detail for detail in details if detail)
    return f"{first}\n{second}" if second else first


def metric_vs_parameter_figure(
    rows: Rows, x: str, y: str, series: str | None = None, *, log_x: bool = False, log_y: bool = False,
    title: str | None = None,
) -> Figure:
    """Column ``y`` against column ``x``, one line per value of column ``series`` (module docstring)."""
    lines = curves(rows, x, y, series)
    repeated = max(point.samples for points in lines.values() for point in points) > 1
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    axes = figure.add_subplot()
    for index, (name, points) in enumerate(lines.items()):
        spreads = [point.spread for point in points] if repeated else None
        axes.errorbar([p.x for p in points], [p.mean for p in points], yerr=spreads, marker="o", capsize=3,
                      color=colour(index), label=name)
    repeats = "seeds" if all("seed" in row for row in rows) else "repeated rows"
    note = f"mean ± 1 s.d. over {repeats}" if repeated else ""
    default = _title(f"{quantity(y)} against {quantity(x)}", context(rows), note)
    axes.set(xlabel=label(x), ylabel=label(y), title=title or default)
    axes.set_xscale("log" if log_x else "linear")
    axes.set_yscale("log" if log_y else "linear")
    axes.grid(True, which="both", alpha=0.3)
    if series:
        axes.legend(title=series, fontsize="small")
    return figure


def metric_vs_parameter(
    rows: Rows, x: str, y: str, series: str | None, path: str | Path, *, log_x: bool = False, log_y: bool = False,
    title: str | None = None,
) -> list[Path]:
    """Write :func:`metric_vs_parameter_figure` as PNG and SVG; return both paths."""
    return save_figure(metric_vs_parameter_figure(rows, x, y, series, log_x=log_x, log_y=log_y, title=title), path)


def accuracy_vs_parameter_figure(
    rows: Rows, x: str, *, y: str = "layer_relative_error_rms", series: str | None = None, log_x: bool = False,
    log_y: bool = True, title: str | None = None,
) -> Figure:
    """Accuracy (by default the relative output error, on a log axis) against column ``x``, ± 1 s.d. over seeds."""
    return metric_vs_parameter_figure(rows, x, y, series, log_x=log_x, log_y=log_y, title=title)


def accuracy_vs_parameter(
    rows: Rows, x: str, path: str | Path, *, y: str = "layer_relative_error_rms", series: str | None = None,
    log_x: bool = False, log_y: bool = True, title: str | None = None,
) -> list[Path]:
    """Write :func:`accuracy_vs_parameter_figure` as PNG and SVG; return both paths."""
    figure = accuracy_vs_parameter_figure(rows, x, y=y, series=series, log_x=log_x, log_y=log_y, title=title)
    return save_figure(figure, path)


def pareto_front_figure(
    rows: Rows, energy: str, accuracy: str, *, series: str | None = None, log_x: bool = False,
    log_y: bool = False, title: str | None = None,
) -> Figure:
    """Every row as a point (``energy`` across, ``accuracy`` up), the Pareto-optimal ones connected.

    Each column is minimised unless it is in :data:`HIGHER_IS_BETTER`.
    """
    objectives = {name: name in HIGHER_IS_BETTER for name in (energy, accuracy)}
    front = pareto_points(rows, [n for n, up in objectives.items() if not up], [n for n, up in objectives.items() if up])
    keys = [str(key) for key in column(rows, series)] if series else [""] * len(rows)
    xs, ys = numeric(rows, energy), numeric(rows, accuracy)
    figure = Figure(figsize=(6.4, 4.6), layout="constrained")
    axes = figure.add_subplot()
    for index, key in enumerate(dict.fromkeys(keys)):
        chosen = [i for i, k in enumerate(keys) if k == key]
        axes.scatter([xs[i] for i in chosen], [ys[i] for i in chosen], color=colour(index), alpha=0.6,
                     label=key or "all points")
    line = sorted(zip(numeric(front, energy), numeric(front, accuracy)))
    axes.plot(*zip(*line), color="black", marker="o", markerfacecolor="none", markersize=10, label="Pareto-optimal")
    better = f"better towards the {'top' if objectives[accuracy] else 'bottom'} {'right' if objectives[energy] else 'left'}"
    default = _title(f"{quantity(accuracy)} against {quantity(energy)}", context(rows), better)
    axes.set(xlabel=label(energy), ylabel=label(accuracy), title=title or default)
    axes.set_xscale("log" if log_x else "linear")
    axes.set_yscale("log" if log_y else "linear")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(title=series, fontsize="small")
    return figure


def pareto_front(
    rows: Rows, energy: str, accuracy: str, path: str | Path, *, series: str | None = None, log_x: bool = False,
    log_y: bool = False, title: str | None = None,
) -> list[Path]:
    """Write :func:`pareto_front_figure` as PNG and SVG; return both paths."""
    figure = pareto_front_figure(rows, energy, accuracy, series=series, log_x=log_x, log_y=log_y, title=title)
    return save_figure(figure, path)
