"""The roofline of the von Neumann baseline, with the GEMM layers of a workload placed on it.

The roof is the smaller of the PE array's peak, pes × clock × 2 operations per second (1 MAC = 2
ops), and the DRAM bandwidth times the operational intensity (operations per DRAM byte); the
ridge, where they meet, is peak / bandwidth. A layer sits at its intensity, 2 × dense MACs over
the bytes it moves to and from DRAM for the whole batch (:func:`cimsim.arch.von_neumann.operation_traffic`:
spilled activations per inference, weights once per batch), and at the rate
:func:`cimsim.arch.von_neumann.roofline_ns` gives it: on the roof unless the PE utilisation or the global
buffer holds it lower. A layer with no DRAM traffic (weights resident, activations on chip) has
infinite intensity and is drawn at the right edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from cimsim.arch.von_neumann import Traffic, operation_traffic, roofline_ns
from cimsim.config.von_neumann import VonNeumannConfig
from cimsim.errors import ConfigError, check_batch
from cimsim.plot.base import save_figure
from cimsim.workload import Workload


@dataclass(frozen=True)
class RooflinePoint:
    """One GEMM layer over the batch: its operations, DRAM bytes and roofline time."""

    name: str
    ops: float  # 2 x dense MACs over the batch
    dram_bytes: float  # spilled activations x batch + weights fetched once per batch
    seconds: float  # roofline_ns over the batch

    @property
    def intensity(self) -> float:
        """Operations per DRAM byte (inf without DRAM traffic)."""
        return self.ops / self.dram_bytes if self.dram_bytes else math.inf

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds


@dataclass(frozen=True)
class Roofline:
    """The ceilings of a von Neumann configuration and a workload's GEMM layers under them."""

    config: str
    workload: str
    batch: int
    peak_ops_per_s: float  # pes x clock x 2
    utilisation: float  # the fraction of the peak a layer sustains (pe.utilisation)
    dram_bytes_per_s: float
    points: list[RooflinePoint]

    @property
    def ridge_ops_per_byte(self) -> float:
        """The intensity where the bandwidth slope meets the compute ceiling: peak / bandwidth."""
        return self.peak_ops_per_s / self.dram_bytes_per_s

    def attainable_ops_per_s(self, intensity: float) -> float:
        """The roof at ``intensity``: min(peak, bandwidth × intensity)."""
        return min(self.peak_ops_per_s, self.dram_bytes_per_s * intensity)


def roofline(workload: Workload, cfg: VonNeumannConfig, batch: int = 1) -> Roofline:
    """The ceilings of ``cfg`` and the GEMM layers of ``workload`` run in batches of ``batch`` (module docstring)."""
    if not isinstance(cfg, VonNeumannConfig):
        raise ConfigError(f"cfg: a roofline needs a von Neumann config, got {type(cfg).__name__}")
    check_batch(batch)
    traffic = operation_traffic(workload, cfg, batch)
    return Roofline(
        config=cfg.meta.name,
        workload=workload.name,
        batch=int(batch),
        peak_ops_per_s=cfg.pe.pes * cfg.pe.clock_ghz * 1e9 * 2,
        utilisation=cfg.pe.utilisation,
        dram_bytes_per_s=cfg.memory.dram_gb_per_s * 1e9,
        points=[_point(gemm.name, traffic[gemm.name], cfg, batch) for gemm in workload.gemms],
    )


def _point(name: str, traffic: Traffic, cfg: VonNeumannConfig, batch: int) -> RooflinePoint:
    dram_bytes = (batch * traffic.dram_bits + traffic.batch_dram_bits) / 8
    return RooflinePoint(name, 2.0 * traffic.macs * batch, dram_bytes, roofline_ns(traffic, cfg, batch) * 1e-9)


def roofline_figure(workload: Workload, cfg: VonNeumannConfig, batch: int = 1) -> Figure:
    """Log-log roofline of ``cfg`` (the roof, the ridge, the sustained ceiling below 100% utilisation), layers as points."""
    line = roofline(workload, cfg, batch)
    finite = [p.intensity for p in line.points if math.isfinite(p.intensity)]
    low, high = min(finite + [line.ridge_ops_per_byte]) / 10, max(finite + [line.ridge_ops_per_byte]) * 10
    figure = Figure(figsize=(7.0, 4.8), layout="constrained")
    axes = figure.add_subplot()
    roof = [low, line.ridge_ops_per_byte, high]
    axes.plot(roof, [line.attainable_ops_per_s(i) for i in roof], color="black", label="roof: min(peak, DRAM × intensity)")
    axes.axvline(line.ridge_ops_per_byte, color="grey", linestyle=":",
                 label=f"ridge: {line.ridge_ops_per_byte:.3g} ops/byte")
    if line.utilisation < 1:
        axes.axhline(line.peak_ops_per_s * line.utilisation, color="grey", linestyle="--",
                     label=f"sustained: {line.utilisation:.0%} of peak")
    for point in line.points:
        edge = not math.isfinite(point.intensity)
        x = high if edge else point.intensity
        axes.plot(x, point.ops_per_s, marker=">" if edge else "o", linestyle="none", color="tab:blue")
        axes.annotate(point.name + (" (no DRAM)" if edge else ""), (x, point.ops_per_s), fontsize="x-small",
                      xytext=(4, -10 if edge else 4), textcoords="offset points", ha="right" if edge else "left")
    axes.set(xscale="log", yscale="log", xlabel="operational intensity (ops per DRAM byte)",
             ylabel="attainable performance (ops/s)",
             title=f"Roofline of {line.config}: {line.workload}, batch {line.batch} (1 MAC = 2 ops)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def roofline_chart(workload: Workload, cfg: VonNeumannConfig, path: str | Path, batch: int = 1) -> list[Path]:
    """Write :func:`roofline_figure` as PNG and SVG; return both paths."""
    return save_figure(roofline_figure(workload, cfg, batch), path)
