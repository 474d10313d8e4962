"""Figures (matplotlib, headless: no pyplot, no display needed).

Every chart function writes its figure as PNG and SVG (``path`` with or without a ``.png`` or
``.svg`` suffix, each file written atomically) and returns both paths; its ``*_figure`` twin
returns the :class:`~matplotlib.figure.Figure` unsaved, to show in a notebook or to test.

- :mod:`~cimsim.plot.charts`: figures of :class:`~cimsim.Report` objects (timeline, energy
  breakdown, TOPS/W against the baseline, per-layer bars) and plain lines;
- :mod:`~cimsim.plot.sweep`: figures of sweep tables (a metric or the accuracy against a swept
  parameter, the Pareto front);
- :mod:`~cimsim.plot.comparison`: a comparison's chips and baselines, energy by component and TOPS/W;
- :mod:`~cimsim.plot.baseline_roofline`: the von Neumann baseline's roofline;
- :mod:`~cimsim.plot.base`: saving, colours and units shared by all of them.
"""

from cimsim.plot.base import save_figure
from cimsim.plot.charts import (
    energy_breakdown_chart,
    energy_breakdown_figure,
    layer_bars,
    layer_bars_figure,
    line_chart,
    timeline_chart,
    timeline_figure,
    tops_per_watt_chart,
    tops_per_watt_figure,
)
from cimsim.plot.comparison import comparison_chart, comparison_figure
from cimsim.plot.baseline_roofline import Roofline, RooflinePoint, roofline, roofline_chart, roofline_figure
from cimsim.plot.sweep import (
    accuracy_vs_parameter,
    accuracy_vs_parameter_figure,
    metric_vs_parameter,
    metric_vs_parameter_figure,
    pareto_front,
    pareto_front_figure,
    pareto_points,
)

__all__ = [
    "Roofline",
    "RooflinePoint",
    "accuracy_vs_parameter",
    "accuracy_vs_parameter_figure",
    "comparison_chart",
    "comparison_figure",
    "energy_breakdown_chart",
    "energy_breakdown_figure",
    "layer_bars",
    "layer_bars_figure",
    "line_chart",
    "metric_vs_parameter",
    "metric_vs_parameter_figure",
    "pareto_front",
    "pareto_front_figure",
    "pareto_points",
    "roofline",
    "roofline_chart",
    "roofline_figure",
    "save_figure",
    "timeline_chart",
    "timeline_figure",
    "tops_per_watt_chart",
    "tops_per_watt_figure",
]
