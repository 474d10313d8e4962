"""Validation against published silicon: the registry of operating points, the table, the parity figure.

A design (:class:`Design`) is a preset whose description cites its rows of
docs/reference/reference_figures.csv, the constants fitted (at most 3, each commented in the
preset with its rows) and its published points (:class:`Point`), each fitted or held out.
:func:`validate` evaluates every point into :class:`ValidationRow` s (``cimsim validate`` prints
them); :func:`refit` refits a design's constants when prices change. docs/validation.md gives the
method, the table and every fitted constant.
"""

from cimsim.validation.designs import DESIGNS, design
from cimsim.validation.fit import refit
from cimsim.validation.parity import parity_chart, parity_figure
from cimsim.validation.points import Design, Point, configured, simulated
from cimsim.validation.table import JSON_KEYS, ValidationRow, error_summary, table_text, validate, write_json

__all__ = [
    "DESIGNS",
    "JSON_KEYS",
    "Design",
    "Point",
    "ValidationRow",
    "configured",
    "design",
    "error_summary",
    "parity_chart",
    "parity_figure",
    "refit",
    "simulated",
    "table_text",
    "validate",
    "write_json",
]
