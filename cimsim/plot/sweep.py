"""Figures of sweep tables: a figure against a swept parameter, accuracy over seeds, energy-accuracy fronts.

A sweep table is a sequence of rows, each a mapping from column name to value: the swept
parameters (``"adc.bits"``, ``"workload"``, ``"chip"``, ``"seed"``, ...) and what was measured
(``"tops_per_watt"``, ``"energy_pj"``, ``"relative_error"``, ...). Axes are labelled with units
(:func:`label`), and integer columns get integer ticks.

A figure against a parameter averages only over seeds: every other parameter that varies in the
rows is a **series** (one line per value or combination of values; colour by the first key,
marker and line style by the others), a **facet** (one panel per value, panels sharing their
axes) or a **filter** (``where``), else the figure is refused with one line naming the columns
left to choose (:mod:`cimsim.plot.sweep_rows`). Rows that share a panel, a series and an x
(several seeds) are drawn as their mean with ± 1 sample standard deviation as error bars, and
the title says so. A missing column, or a non-number where a number is plotted, is a
:class:`~cimsim.errors.ConfigError` naming the column. Which rows are on a Pareto front is
:mod:`cimsim.pareto`'s (data); this module draws it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from cimsim.pareto import HIGHER_IS_BETTER, Rows, column, numeric, pareto_points
from cimsim.plot.base import colour, names, save_figure
from cimsim.plot.sweep_rows import SEED, check_honest, describe, groups, keys, ordered, select

LABELS = {
    "tops_per_watt": ("energy efficiency", "TOPS/W"),
    "tops": ("throughput", "TOPS"),
    "tops_per_mm2": ("area efficiency", "TOPS/mm²"),
    "energy_pj": ("energy", "pJ"),
    "energy_per_inference_pj": ("energy per inference", "pJ"),
    "latency_ns": ("latency", "ns"),
    "throughput_inferences_per_s": ("throughput", "inferences/s"),
    "data_movement_share": ("data-movement share of energy", "fraction"),
    "area_um2": ("area", "µm²"),
    "macs": ("MACs with a non-zero weight", "MACs"),
    "wall_s": ("wall time of the point", "s"),
    "relative_error": ("relative output error", "‖y − y_ref‖ / ‖y_ref‖"),
    "layer_relative_error_rms": ("relative error of the layers (RMS)", "‖y − y_ref‖ / ‖y_ref‖"),
    "accuracy": ("accuracy", "fraction"),
    "top1_agreement": ("top-1 agreement with the exact model", "fraction"),
    "drift_s": ("time after programming", "s"),
    "adc.bits": ("ADC resolution", "bits"),
    "dac.bits": ("DAC resolution", "bits"),
    "array.rows": ("array height", "rows"),
    "array.cols": ("array width", "columns"),
    "array.bits_per_cell": ("cell resolution", "bits per cell"),
    "mapping.weight_bits": ("weight precision", "bits"),
    "mapping.input_bits": ("input precision", "bits"),
    "mapping.output_bits": ("output precision", "bits"),
    "device.program_noise": ("programming noise σ", "fraction of g_max"),
    "device.read_noise": ("read noise σ", "fraction of g_max"),
    "device.stuck_off": ("stuck-off cells", "fraction"),
    "device.stuck_on": ("stuck-on cells", "fraction"),
    "chip.tiles": ("tiles", "tiles per chip"),
    "batch": ("batch size", "inferences"),
    "seed": ("seed", ""),
}
"""Known columns: (quantity, unit); the axis label is "quantity (unit)"."""

NAME_UNITS = (
    ("_pj_per_bit_hop", "pJ/bit/hop"), ("_pj_per_bit", "pJ/bit"), ("_pj_per_op", "pJ/op"),
    ("_pj_per_conversion", "pJ"), ("_fj_per_step", "fJ/step"), ("_gb_per_s", "GB/s"), ("_us", "µS"), ("_ns", "ns"),
    ("_s", "s"), ("_pj", "pJ"), ("_mw", "mW"), ("_uw", "µW"), ("_um2", "µm²"), ("_mm2", "mm²"), ("_ghz", "GHz"),
    ("_nm", "nm"), ("_kib", "KiB"), ("_gbps", "Gb/s"), ("_gsps", "GS/s"), ("_ohm", "Ω"), ("_lsb", "LSB"),
    ("bits", "bits"),
)
"""Units named by the end of a configuration field's name (conductances in µS), for columns not in :data:`LABELS`."""

PRESET_COLUMNS = ("chip", "preset", "config")
"""Columns that name the machine, in the order a title looks for them."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINE_STYLES = ("-", "--", ":", "-.")
PANEL_COLUMNS = 3
"""Facet panels per row of the grid."""
INTEGER_TICKS = 12
"""An integer x axis with at most this many distinct values gets a tick at each value, else integer ticks."""


@dataclass(frozen=True)
class Point:
    """The rows of one series at one x: the mean of y, its sample standard deviation (0 for one row), how many."""

    x: Any
    mean: float
    spread: float
    samples: int


def label(column: str) -> str:
    """The axis label of ``column``: ``"quantity (unit)"`` from :data:`LABELS` or :data:`NAME_UNITS`, else its name."""
    quantity, unit = LABELS.get(column, (column, _name_unit(column)))
    return f"{quantity} ({unit})" if unit else quantity


def _name_unit(column: str) -> str:
    field = column.rpartition(".")[2]
    return next((unit for suffix, unit in NAME_UNITS if field.endswith(suffix)), "") if "." in column else ""


def quantity(column: str) -> str:
    """What ``column`` measures, without its unit, for titles."""
    return LABELS.get(column, (column, ""))[0]


def curves(rows: Rows, x: str, y: str, series: str | Sequence[str] | None = None) -> dict[str, list[Point]]:
    """One curve per value (or combination of values) of the ``series`` columns (one, named after ``y``,
    without): its points in x order (numeric x values sorted; others in the order of their first row)."""
    numeric(rows, y)
    lines: dict[str, list[Point]] = {}
    for key, members in groups(rows, keys(series, "series")).items():
        by_x: dict[Any, list[float]] = {}
        for row in members:
            by_x.setdefault(row[x], []).append(float(row[y]))
        lines[_series_name(key) or quantity(y)] = [_point(value, by_x[value]) for value in ordered(list(by_x))]
    return lines


def _series_name(key: tuple[Any, ...]) -> str:
    return ", ".join(map(str, key))


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
    rows: Rows, x: str, y: str, series: str | Sequence[str] | None = None, *,
    facet: str | Sequence[str] | None = None, where: Mapping[str, Any] | None = None, log_x: bool = False,
    log_y: bool = False, title: str | None = None,
) -> Figure:
    """Column ``y`` against column ``x``: one line per value of the ``series`` columns, one panel per value of the
    ``facet`` columns, only the rows matching ``where`` (``{column: value}``); refused when a parameter left
    over varies (module docstring). ``series`` and ``facet``: a column, comma-separated columns or a list."""
    series_keys, facet_keys = keys(series, "series"), keys(facet, "facet")
    rows = select(rows, where)
    check_honest(rows, x, y, series_keys + facet_keys)
    numeric(rows, y)
    panels = groups(rows, facet_keys)
    figure, grid = _panel_grid(*_layout(rows, facet_keys, list(panels)), legend=bool(series_keys))
    styles, samples = _styles(rows, series_keys), []
    for axes, (panel, members) in zip(grid, panels.items()):
        samples += _draw_curves(axes, curves(members, x, y, series_keys), styles)
        axes.set_title(describe(facet_keys, panel) if facet_keys else "", fontsize="medium")
        _format_axes(axes, rows, x, y, log_x, log_y)
        axes.xaxis.set_tick_params(labelbottom=True)  # shared axes: every panel keeps its x tick labels
    where = dict(where or {})
    text = title or _title(f"{quantity(y)} against {quantity(x)}", context(rows),
                           describe(list(where), list(where.values())), _averaging(rows, samples))
    (figure.suptitle if facet_keys else grid[0].set_title)(text)
    if series_keys:
        _legend(figure, grid, list(styles), ", ".join(series_keys))
    return figure


def _legend(figure: Figure, grid: list[Axes], names: list[str], title: str) -> None:
    """One legend of the series ``names`` (in order) over all panels: in the axes of a single panel, else beside them."""
    handles: dict[str, Any] = {}
    for axes in grid:
        for handle, name in zip(*axes.get_legend_handles_labels()):
            handles.setdefault(name, handle)
    shown = [name for name in names if name in handles]
    where = grid[0] if len(grid) == 1 else figure
    where.legend([handles[name] for name in shown], shown, title=title, fontsize="small",
                 **({} if len(grid) == 1 else {"loc": "outside right upper"}))


def _layout(rows: Rows, facet_keys: Sequence[str], panels: list[tuple]) -> tuple[int, int, list[tuple[int, int]]]:
    """Rows and columns of the grid of panels, and each panel's (row, column): with two facet keys of which the
    second has few values, a matrix (first key down, second across); otherwise :data:`PANEL_COLUMNS` to a row."""
    if len(facet_keys) == 2:
        down, across = (ordered(column(rows, name)) for name in facet_keys)
        if len(across) <= PANEL_COLUMNS + 1:
            return len(down), len(across), [(down.index(a), across.index(b)) for a, b in panels]
    columns = min(len(panels), PANEL_COLUMNS)
    return math.ceil(len(panels) / columns), columns, [divmod(index, columns) for index in range(len(panels))]


def _panel_grid(rows: int, columns: int, places: list[tuple[int, int]], legend: bool) -> tuple[Figure, list[Axes]]:
    """A figure of ``rows`` x ``columns`` axes sharing x and y; the axes at ``places`` in order, the others removed."""
    size = (6.4, 4.4) if len(places) == 1 else (4.0 * columns + 1.8 * legend, 3.2 * rows + 0.9)
    figure = Figure(figsize=size, layout="constrained")
    grid = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    for index, axes in enumerate(grid.flat):
        if divmod(index, columns) not in places:
            axes.remove()
    return figure, [grid[row, col] for row, col in places]


def _styles(rows: Rows, series_keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per series name: colour by the first key's value, marker and line style by the other keys' values."""
    if not series_keys:
        return {}
    hues = {value: index for index, value in enumerate(ordered(column(rows, series_keys[0])))}
    shapes = {key: index for index, key in enumerate(groups(rows, series_keys[1:]))}
    return {
        _series_name(key): {
            "color": colour(hues[key[0]]), "marker": MARKERS[shapes[key[1:]] % len(MARKERS)],
            "linestyle": LINE_STYLES[shapes[key[1:]] // len(MARKERS) % len(LINE_STYLES)],
        }
        for key in groups(rows, series_keys)
    }


def _draw_curves(axes: Axes, lines: dict[str, list[Point]], styles: dict[str, dict[str, Any]]) -> list[int]:
    """Each curve as its means, with ± 1 s.d. error bars when any point averages rows; the points' sample counts."""
    samples = [point.samples for points in lines.values() for point in points]
    for name, points in lines.items():
        spreads = [point.spread for point in points] if max(samples) > 1 else None
        style = styles.get(name, {"color": colour(0), "marker": "o"})
        axes.errorbar([p.x for p in points], [p.mean for p in points], yerr=spreads, capsize=3, label=name, **style)
    return samples


def _format_axes(axes: Axes, rows: Rows, x: str, y: str, log_x: bool, log_y: bool) -> None:
    """Labels with units (y on the first column of panels only: they share it), scales, a grid, integer ticks."""
    axes.set(xlabel=label(x), ylabel=label(y) if axes.get_subplotspec().is_first_col() else "")
    axes.set_xscale("log" if log_x else "linear")
    axes.set_yscale("log" if log_y else "linear")
    axes.grid(True, which="both", alpha=0.3)
    xs = column(rows, x)
    if _integers(xs):
        values = ordered(xs)
        if len(values) <= INTEGER_TICKS:
            axes.set_xticks(values, [str(value) for value in values])
            axes.xaxis.set_minor_locator(NullLocator())
        else:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if _integers(column(rows, y)) and not log_y:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _integers(values: Sequence[Any]) -> bool:
    return all(isinstance(value, Integral) and not isinstance(value, bool) for value in values)


def _averaging(rows: Rows, samples: list[int]) -> str:
    """What the error bars are: ``"mean ± 1 s.d. over 3 seeds"``; empty when no point averages rows."""
    counts = sorted({count for count in samples if count > 1})
    if not counts:
        return ""
    many = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    what = "seeds" if all(SEED in row for row in rows) else "repeated rows"
    return f"mean ± 1 s.d. over {many} {what}"


def metric_vs_parameter(
    rows: Rows, x: str, y: str, series: str | Sequence[str] | None, path: str | Path, *,
    facet: str | Sequence[str] | None = None, where: Mapping[str, Any] | None = None, log_x: bool = False,
    log_y: bool = False, title: str | None = None,
) -> list[Path]:
    """Write :func:`metric_vs_parameter_figure` as PNG and SVG; return both paths."""
    figure = metric_vs_parameter_figure(rows, x, y, series, facet=facet, where=where, log_x=log_x, log_y=log_y,
                                        title=title)
    return save_figure(figure, path)


def accuracy_vs_parameter_figure(
    rows: Rows, x: str, *, y: str = "layer_relative_error_rms", series: str | Sequence[str] | None = None,
    facet: str | Sequence[str] | None = None, where: Mapping[str, Any] | None = None, log_x: bool = False,
    log_y: bool = True, title: str | None = None,
) -> Figure:
    """Accuracy (by default the relative output error, on a log axis) against column ``x``, ± 1 s.d. over seeds."""
    return metric_vs_parameter_figure(rows, x, y, series, facet=facet, where=where, log_x=log_x, log_y=log_y,
                                      title=title)


def accuracy_vs_parameter(
    rows: Rows, x: str, path: str | Path, *, y: str = "layer_relative_error_rms",
    series: str | Sequence[str] | None = None, facet: str | Sequence[str] | None = None,
    where: Mapping[str, Any] | None = None, log_x: bool = False, log_y: bool = True, title: str | None = None,
) -> list[Path]:
    """Write :func:`accuracy_vs_parameter_figure` as PNG and SVG; return both paths."""
    figure = accuracy_vs_parameter_figure(rows, x, y=y, series=series, facet=facet, where=where, log_x=log_x,
                                          log_y=log_y, title=title)
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
    groups_of = [str(key) for key in column(rows, series)] if series else [""] * len(rows)
    xs, ys = numeric(rows, energy), numeric(rows, accuracy)
    figure = Figure(figsize=(6.4, 4.6), layout="constrained")
    axes = figure.add_subplot()
    for index, key in enumerate(dict.fromkeys(groups_of)):
        chosen = [i for i, k in enumerate(groups_of) if k == key]
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
