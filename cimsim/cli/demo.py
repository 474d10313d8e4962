"""The demonstration ``make demo`` runs: a whole network against the baseline, a sweep, and one layer.

First the main job (:mod:`cimsim.cli.demo_network`): ResNet-18, dense and 2:4-sparse, on ISAAC's
design against the von Neumann baseline, and a sweep of the ADC's bits. Then one random fully
connected layer (K×N weights, He-normal; non-negative, ReLU-like inputs) programmed on each CIM
preset's arrays: its output error against the float64 product, the actions per MAC the crossbar
model counts, the energy per MAC they cost (array-level: cells, converters, shift-add,
registers; no buffers, network or DRAM) and the chip's peak TOPS/W; and two studies of that
layer, error against ADC resolution and (on the ``pcm`` preset) error against time after
programming as the cells drift, without drift compensation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cimsim.config import ChipConfig, list_presets, load_preset
from cimsim.crossbar import AnalogMatrix
from cimsim.fileio import atomic_write_text
from cimsim.costs.ledger import Ledger
from cimsim.costs.peak import peak
from cimsim.plot import line_chart
from cimsim.progress import progress_bar
from cimsim.text_table import text_table
from cimsim.physics.seeding import generator

ADC_BITS = tuple(range(3, 11))
DRIFT_TIMES_S = (1.0, 60.0, 3600.0, 86400.0, 30 * 86400.0, 365 * 86400.0)
SUMMARY_FIGURES = ("adc_conversions_per_mac", "dac_conversions_per_mac", "cell_reads_per_mac", "energy_pj_per_mac",
                   "peak_tops_per_watt")
"""Per-MAC figures and peak TOPS/W of the summary table, in its column order."""
SECONDS_LABEL = {1.0: "1 s", 60.0: "1 min", 3600.0: "1 h", 86400.0: "1 day", 2592000.0: "30 days", 31536000.0: "1 year"}


@dataclass(frozen=True)
class DemoLayer:
    """The layer and its inputs: weights K×N, inputs M×K, and separate calibration inputs."""

    weights: np.ndarray
    inputs: np.ndarray
    calibration: np.ndarray

    @classmethod
    def random(cls, k: int = 512, n: int = 256, m: int = 256, seed: int = 0) -> DemoLayer:
        rng = generator(seed)
        weights = rng.standard_normal((k, n)) * np.sqrt(2.0 / k)
        inputs, calibration = (np.maximum(rng.standard_normal((rows, k)), 0.0) for rows in (m, m))
        return cls(weights, inputs, calibration)

    def exact(self) -> np.ndarray:
        return self.inputs @ self.weights


@dataclass(frozen=True)
class PresetResult:
    """One preset on the demo layer: error and actions per multiply-accumulate."""

    preset: str
    relative_error: float
    arrays: int
    adc_conversions_per_mac: float
    dac_conversions_per_mac: float
    cell_reads_per_mac: float
    energy_pj_per_mac: float
    peak_tops_per_watt: float


def relative_error(y: np.ndarray, exact: np.ndarray) -> float:
    """‖y − exact‖ / ‖exact‖ (Frobenius)."""
    return float(np.linalg.norm(y - exact) / np.linalg.norm(exact))


def run_layer(layer: DemoLayer, cfg: ChipConfig, seed: int, t_s: float | None = None) -> tuple[AnalogMatrix, np.ndarray]:
    """Program the layer, calibrate on its calibration inputs, drift to ``t_s``, read the inputs."""
    matrix = AnalogMatrix(layer.weights, cfg, seed=seed)
    matrix.calibrate(layer.calibration)
    matrix.ledger = Ledger()  # the reads of the inputs only: programming is priced apart (device.write_energy_pj)
    if t_s is not None:
        matrix.drift_to(t_s)
    return matrix, matrix.matmul(layer.inputs)


def preset_result(name: str, layer: DemoLayer, seed: int) -> PresetResult:
    cfg = load_preset(name)
    matrix, y = run_layer(layer, cfg, seed)
    macs = layer.inputs.shape[0] * layer.weights.size
    ledger = matrix.ledger
    return PresetResult(
        preset=name,
        relative_error=relative_error(y, layer.exact()),
        arrays=matrix.arrays,
        adc_conversions_per_mac=ledger.count("adc", "conversions") / macs,
        dac_conversions_per_mac=ledger.count("dac", "conversions") / macs,
        cell_reads_per_mac=ledger.count("cell", "reads") / macs,
        energy_pj_per_mac=ledger.energy_pj / macs,
        peak_tops_per_watt=peak(cfg).tops_per_watt,
    )


def error_against_adc_bits(presets: list[str], layer: DemoLayer, seed: int, progress: tqdm) -> dict[str, list[float]]:
    curves: dict[str, list[float]] = {}
    for name in presets:
        base = load_preset(name)
        curves[name] = []
        for bits in ADC_BITS:
            _, y = run_layer(layer, base.override({"adc.bits": bits}), seed)
            curves[name].append(relative_error(y, layer.exact()))
            progress.update()
    return curves


def error_against_drift(layer: DemoLayer, seed: int, progress: tqdm) -> list[float]:
    errors = []
    for t_s in DRIFT_TIMES_S:
        _, y = run_layer(layer, load_preset("pcm"), seed, t_s=t_s)
        errors.append(relative_error(y, layer.exact()))
        progress.update()
    return errors


def run_demo(out_dir: str | Path, seed: int = 0, network: bool = True) -> dict:
    """The whole demonstration (module docstring), printed as it goes; returns the layer study's report.

    ``network=False`` runs the layer study alone."""
    if network:
        from cimsim.cli.demo_network import run_network_demo

        found = run_network_demo(out_dir, seed)
        for variant, table in found["comparisons"].items():
            print(f"\n{variant}:\n{table['table']}")
        print("\nADC sweep, LeNet-5, functional:\n" + adc_sweep_table(found["adc_sweep"]))
    report = run_layer_demo(out_dir, seed)
    print("\none layer on every CIM preset:\n" + summary_table(report))
    files = (found["files"] if network else []) + [str(Path(out_dir) / "report.json")] + report["figures"]
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in files))
    return report


def run_layer_demo(out_dir: str | Path, seed: int = 0) -> dict:
    """The layer study: write ``report.json`` and its figures into ``out_dir``; return the report."""
    out = Path(out_dir)
    layer = DemoLayer.random(seed=seed)
    presets = list_presets("cim")
    swept = [name for name in ("isaac", "rram-22nm", "pcm") if name in presets]
    total = len(presets) + len(swept) * len(ADC_BITS) + len(DRIFT_TIMES_S)
    with progress_bar(total, "cimsim demo", "run") as progress:
        results = []
        for name in presets:
            results.append(preset_result(name, layer, seed))
            progress.update()
        adc_curves = error_against_adc_bits(swept, layer, seed, progress)
        drift_errors = error_against_drift(layer, seed, progress)
    k, n = layer.weights.shape
    shape = f"{layer.inputs.shape[0]}x{k} @ {k}x{n} layer"
    figures = line_chart(
        ADC_BITS, adc_curves, xlabel="ADC resolution (bits)", ylabel="relative output error ‖y − y_float‖ / ‖y_float‖",
        title=f"Output error against ADC bits, {shape}", path_stem=out / "error_vs_adc_bits", log_y=True,
    )
    figures += line_chart(
        DRIFT_TIMES_S, {"pcm, no drift compensation": drift_errors}, xlabel="time after programming (s)",
        ylabel="relative output error", title=f"PCM drift: output error over time, {shape}",
        path_stem=out / "error_vs_drift_time", log_x=True,
    )
    report = {
        "what": "one random fully connected layer on every CIM preset: error, actions and energy per MAC",
        "layer": {"m": layer.inputs.shape[0], "k": k, "n": n, "seed": seed},
        "presets": [asdict(r) for r in results],
        "error_vs_adc_bits": {"adc_bits": list(ADC_BITS), **adc_curves},
        "pcm_error_vs_drift_time": {"t_s": list(DRIFT_TIMES_S), "relative_error": drift_errors},
        "figures": [str(path) for path in figures],
    }
    atomic_write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    return report


def adc_sweep_table(rows: list[dict]) -> str:
    """The ADC sweep's rows as a text table with its column headers."""
    header = ["ADC bits", "TOPS/W", "layers' relative error (RMS)"]
    cells = [[str(row["adc.bits"]), f"{row['tops_per_watt']:.4g}", f"{row['layer_relative_error_rms']:.3g}"]
             for row in rows]
    return text_table(cells, header)


def summary_table(report: dict) -> str:
    """The per-preset results as a fixed-width text table."""
    header = ["preset", "rel. error", "arrays", "ADC conv/MAC", "DAC conv/MAC", "cell reads/MAC", "pJ/MAC", "peak TOPS/W"]
    rows = [
        [row["preset"], f"{row['relative_error']:.4g}", str(row["arrays"])]
        + [f"{row[key]:.4g}" for key in SUMMARY_FIGURES]
        for row in report["presets"]
    ]
    lines = [text_table(rows, header, min_widths=(12, 10, 6, 12, 12, 14, 8, 11), gap=" ", rule=False)]
    lines.append("pJ/MAC: this layer's array-level read energy (programming excluded); peak TOPS/W: the whole chip, cimsim.peak")
    drift = report["pcm_error_vs_drift_time"]
    lines.append("")
    lines.append("pcm, error after programming: " + ", ".join(
        f"{SECONDS_LABEL.get(t, f'{t:g} s')} {e:.3g}" for t, e in zip(drift["t_s"], drift["relative_error"])
    ))
    return "\n".join(lines)
