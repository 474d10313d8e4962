"""What a worker does for one point of a sweep: load, configure, simulate, flatten into a row.

Chips and workloads are cached per process, so a worker that runs many points of one workload
extracts it once (extraction through TVM takes 0.1-0.3 s for a small model). A point whose
simulation raises a :class:`~cimsim.errors.ConfigError` or :class:`~cimsim.errors.ShapeError`
(a workload that needs more arrays than the chip has, say) gets a row whose ``error`` column
says why and whose figures are empty; any other exception is a bug and stops the sweep.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from cimsim.errors import ConfigError, ShapeError
from cimsim.engine.report import Report
from cimsim.simulate import simulate
from cimsim.sweep.spec import AXES, Point, configured
from cimsim.workload import Workload
from cimsim.workload_loader import SAVED_SUFFIXES, load_workload

FIGURES = (
    "energy_pj",
    "energy_per_inference_pj",
    "latency_ns",
    "throughput_inferences_per_s",
    "tops",
    "tops_per_watt",
    "tops_per_mm2",
    "data_movement_share",
    "area_um2",
    "macs",
    "layer_relative_error_rms",
    "bottleneck",
    "precision",
    "wall_s",
    "error",
)
"""The columns after the parameters: the report's figures over the batch (energy in pJ, time in ns, area in
µm²; ``layer_relative_error_rms`` when functional: the RMS of the layers' relative errors), the energy per
inference (pJ), the point's wall time in its worker (s) and the error that stopped its simulation, if any."""
_DERIVED = ("throughput_inferences_per_s", "tops", "tops_per_watt", "tops_per_mm2", "data_movement_share", "area_um2",
            "bottleneck")


def columns(paths: tuple[str, ...]) -> list[str]:
    """The table's columns: the point id, the axes, the swept configuration paths, the figures."""
    return ["point_id", *AXES, *paths, *FIGURES]


def run_point(point: Point, paths: tuple[str, ...]) -> dict[str, Any]:
    """The row of ``point``: its parameters, the configuration's value at every swept path, the figures."""
    start_s = time.perf_counter()
    row: dict[str, Any] = {"point_id": point.id} | {axis: getattr(point, axis) for axis in AXES}
    cfg = configured(point.chip, point.base_dir, point.overrides)
    row |= {path: cfg.get(path) for path in paths}  # every path was checked on every chip
    try:
        report = simulate(_workload_of(point), cfg, batch=point.batch, mode=point.mode, fidelity=point.fidelity,
                          seed=point.seed, progress=False, timing=point.timing)
        row |= figures(report)
    except (ConfigError, ShapeError) as exc:
        row["error"] = "; ".join(str(exc).splitlines())
    row["wall_s"] = time.perf_counter() - start_s
    return row


def figures(report: Report) -> dict[str, Any]:
    """The report's totals and derived figures named as in :data:`FIGURES`."""
    derived = report.derived()
    return {
        "energy_pj": report.energy_pj,
        "energy_per_inference_pj": report.energy_pj / report.batch,
        "latency_ns": report.latency_ns,
        "macs": report.macs,
        "layer_relative_error_rms": (report.accuracy or {}).get("layer_relative_error_rms"),
        "precision": report.precision,
    } | {name: derived[name] for name in _DERIVED}


# --------------------------------------------------------------------------- per-process caches


_workload = functools.lru_cache(maxsize=8)(load_workload)


def _workload_of(point: Point) -> Workload:
    """The point's workload, loaded once per process: a file's once per path (its weights do not depend on
    the seed), a zoo model's once per sparsity and seed wherever the sweep runs (its folder does not matter)."""
    if point.workload.endswith(SAVED_SUFFIXES + (".onnx",)):
        return _workload(point.workload, point.sparsity, 0, point.base_dir)
    return _workload(point.workload, point.sparsity, point.seed, ".")

