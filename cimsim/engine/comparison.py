"""Reports side by side: :func:`compare` and the :class:`Comparison` it returns, with ratios against baselines.

A ratio between two machines means something only when they ran the same workload, at the same
batch size and the same precision (weight and activation bits): :func:`compare` checks it unless
told not to (``strict=False``). Chips of several precisions each meet their own baseline run (the
baseline machine at that precision) in one comparison: ``baseline`` then gives one index per report.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cimsim.engine.report import Report, standard_json
from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write_text
from cimsim.text_table import text_table

# (Report attribute, label in the comparison table)
COMPARED = (
    ("energy_pj", "energy pJ"),
    ("latency_ns", "latency ns"),
    ("throughput_inferences_per_s", "inferences/s"),
    ("tops", "TOPS"),
    ("tops_per_watt", "TOPS/W"),
    ("tops_per_mm2", "TOPS/mm²"),
    ("data_movement_share", "data movement share"),
)


@dataclass(frozen=True)
class Comparison:
    """Reports side by side: ``values[metric][i]`` of report ``i``; ratios of each against its baseline.

    ``baseline`` is the index of the first (often the only) baseline; ``against[i]`` the index of
    the baseline report ``i`` is measured against (empty: every report against ``baseline``), as
    when chips of several precisions each meet the baseline run at their precision.
    """

    workload: str  # the workload's name (names joined by " | " when not strict)
    batch: str  # the batch size (likewise)
    labels: list[str]
    baseline: int
    values: dict[str, list[float]]
    against: list[int] = field(default_factory=list)

    def baseline_of(self, index: int) -> int:
        """The index of the report that report ``index`` is measured against."""
        return self.against[index] if self.against else self.baseline

    def ratios(self) -> dict[str, list[float]]:
        """``values[metric][i] / values[metric][baseline_of(i)]`` (a baseline's own ratio is 1)."""
        return {m: [_ratio(v, vs[self.baseline_of(i)]) for i, v in enumerate(vs)] for m, vs in self.values.items()}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ratios": self.ratios()}

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as standard JSON (undefined ratios as ``null``), atomically."""
        return atomic_write_text(path, standard_json(self.to_dict()))

    def __str__(self) -> str:
        ratios = self.ratios()
        baselines = sorted({self.baseline_of(i) for i in range(len(self.labels))})
        header = ["metric"]
        for i, label in enumerate(self.labels):
            if i in baselines:
                header += [f"{label} (baseline)"]
            else:
                header += [label, "× baseline" if len(baselines) == 1 else f"× {self.labels[self.baseline_of(i)]}"]
        rows, undefined = [], []
        for metric, title in COMPARED:
            row = [title]
            for i, value in enumerate(self.values[metric]):
                row += [_shown(value, "")] + ([] if i in baselines else [_shown(ratios[metric][i], "×")])
                if math.isnan(value):
                    undefined.append(f"n/a: {title} of {self.labels[i]}: {UNDEFINED_BECAUSE.get(metric, 'undefined')}")
            rows.append(row)
        title = f"workload {self.workload}, batch {self.batch}; TOPS: 1 MAC = 2 ops, MACs with a non-zero weight"
        return "\n".join([title, text_table(rows, header), *undefined])


def compare(
    reports: Sequence[Report],
    baseline: int | Sequence[int] = 0,
    *,
    strict: bool = True,
    labels: Sequence[str] | None = None,
) -> Comparison:
    """Side-by-side figures of ``reports`` with ratios against ``reports[baseline]``.

    ``baseline``: one index, or one index per report (report ``i`` measured against
    ``reports[baseline[i]]``, a baseline against itself), e.g. two chips of different precisions
    each against the baseline machine run at its precision. With ``strict`` (the default) the
    reports must share their workload and batch size, and each report its precision (weight and
    activation bits) with its baseline: the variables that must match when two designs are
    compared (as in CiMLoop), since a ratio between different ones measures them, not the machines.
    """
    if not reports:
        raise ConfigError("compare: reports is empty, expected at least one Report")
    against = _baseline_indices(baseline, len(reports))
    if strict:
        _check_comparable(reports, against)
    names = list(labels) if labels is not None else [f"{r.config} ({r.architecture})" for r in reports]
    if len(names) != len(reports):
        raise ConfigError(f"compare: {len(names)} labels for {len(reports)} reports")
    values = {m: [float(getattr(r, m)) for r in reports] for m, _ in COMPARED}
    workload = " | ".join(dict.fromkeys(r.workload for r in reports))
    batch = " | ".join(dict.fromkeys(str(r.batch) for r in reports))
    return Comparison(workload, batch, names, against[0] if isinstance(baseline, int) else min(against), values,
                      [] if isinstance(baseline, int) else against)


def _baseline_indices(baseline: int | Sequence[int], count: int) -> list[int]:
    """Each report's baseline index (negative indices resolved); ConfigError for one out of range or not a baseline."""
    indices = [baseline] * count if isinstance(baseline, int) else list(baseline)
    if len(indices) != count:
        raise ConfigError(f"compare: baseline has {len(indices)} indices for {count} reports; give one index, "
                          "or one per report")
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, int) or not -count <= index < count:
            raise ConfigError(f"compare: baseline = {baseline!r}, expected an index into the {count} reports "
                              "(or one per report)")
    resolved = [index % count for index in indices]
    stray = [i for i in sorted(set(resolved)) if resolved[i] != i]
    if stray:
        raise ConfigError(f"compare: baseline = {baseline!r} measures report(s) {stray} against others while "
                          "reports are measured against them; a baseline is measured against itself")
    return resolved


def _check_comparable(reports: Sequence[Report], against: list[int]) -> None:
    for attribute in ("workload", "batch"):
        seen = sorted({str(getattr(r, attribute)) for r in reports})
        if len(seen) > 1:
            raise ConfigError(
                f"compare: reports have different {attribute} values {seen}; compare runs of one workload "
                "at one batch size and precision, or pass strict=False"
            )
    for index, report in enumerate(reports):
        base = reports[against[index]]
        if report.precision != base.precision:
            raise ConfigError(
                f"compare: reports have different precision values {sorted({base.precision, report.precision})} "
                f"({report.config} against the baseline {base.config}); compare runs of one workload at one batch "
                "size and precision, run the baseline at the chip's precision, or pass strict=False"
            )


UNDEFINED_BECAUSE = {"tops_per_mm2": "the configuration models no chip area"}
"""Why a compared figure can be undefined (NaN), said under the table."""


def _shown(value: float, prefix: str) -> str:
    """A figure in the table: 4 significant digits (3 for a ratio, ``prefix`` "×"), "n/a" when undefined (NaN)."""
    if math.isnan(value):
        return "n/a"
    return f"{prefix}{value:.3g}" if prefix else f"{value:.4g}"


def _ratio(value: float, baseline_value: float) -> float:
    """``value / baseline_value`` in IEEE arithmetic: inf for x/0, nan for 0/0 (an undefined ratio)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(value) / np.float64(baseline_value))
