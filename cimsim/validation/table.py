"""The validation table: every point of the registry, published against simulated.

:func:`validate` evaluates the points (:func:`~cimsim.validation.points.simulated`) into
:class:`ValidationRow` s; :func:`table_text` prints them, :func:`error_summary` gives the
fitted and held-out errors of each design separately, :func:`write_json` writes the rows as a
list of objects with exactly the keys of :data:`JSON_KEYS`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from cimsim.fileio import atomic_write_text
from cimsim.text_table import text_table
from cimsim.validation.designs import DESIGNS
from cimsim.validation.points import Design, signed_error, simulated

JSON_KEYS = ("design", "point", "metric", "published", "simulated", "error", "fitted")
METRIC_LABELS = {"tops_per_watt": "TOPS/W", "tops": "TOPS", "fj_per_mac": "fJ/MAC"}


@dataclass(frozen=True)
class ValidationRow:
    """One point evaluated: ``error`` = (simulated − published) / published, a signed fraction."""

    design: str
    point: str
    metric: str
    published: float
    simulated: float
    error: float
    fitted: bool


def validate(designs: Iterable[Design] = DESIGNS) -> list[ValidationRow]:
    """Every point of ``designs`` evaluated on today's model."""
    rows = []
    for design in designs:
        for point in design.points:
            value = simulated(design, point)
            rows.append(ValidationRow(design.name, point.point, point.metric, point.published, value,
                                      signed_error(value, point.published), point.fitted))
    return rows


def metric_label(metric: str) -> str:
    """``"tops_per_watt"`` as ``"TOPS/W"``, ``"share:adc"`` as ``"adc share (%)"``, ``"pj_per_adc_use:cell"`` as
    ``"cell pJ/ADC use"``."""
    kind, _, components = metric.partition(":")
    if kind == "share":
        return f"{components} share (%)"
    return METRIC_LABELS.get(metric) or f"{components} pJ/ADC use"


def table_text(rows: Sequence[ValidationRow]) -> str:
    """The rows as an aligned text table."""
    cells = [[r.design, r.point, metric_label(r.metric), f"{r.published:.4g}", f"{r.simulated:.4g}",
              f"{100 * r.error:+.1f}%", "fitted" if r.fitted else "held out"] for r in rows]
    return text_table(cells, ("design", "point", "metric", "published", "simulated", "error", "fitted or held out"))


def error_summary(rows: Sequence[ValidationRow]) -> str:
    """Per design: the largest and mean |error| of its fitted points and of its held-out points."""
    cells = []
    for design in dict.fromkeys(r.design for r in rows):
        line = [design]
        for fitted in (True, False):
            errors = [abs(r.error) for r in rows if r.design == design and r.fitted is fitted]
            line += [f"{100 * max(errors):.1f}%", f"{100 * sum(errors) / len(errors):.1f}%", str(len(errors))] if errors else ["-", "-", "0"]
        cells.append(line)
    header = ("design", "fitted max", "fitted mean", "n", "held-out max", "held-out mean", "n")
    return text_table(cells, header)


def write_json(rows: Sequence[ValidationRow], path: str | Path) -> Path:
    """The rows as a JSON list of objects with exactly the keys of :data:`JSON_KEYS`."""
    return atomic_write_text(path, json.dumps([asdict(r) for r in rows], indent=1) + "\n")
