"""The main job of ``make demo``: a whole network on a CIM chip against the von Neumann baseline, and a sweep.

1. ResNet-18 (ImageNet, 224×224), dense and with ``2:4:rows`` sparsity (half of every 4 rows of
   every weight matrix zero, the same rows for all columns: the N:M a crossbar can skip), at
   batch 16, pipelined, on ISAAC's design and on ``vn-45nm``. The precision must match for the
   comparison to mean anything (``cimsim.compare`` checks): ``vn-45nm`` computes 8-bit weights
   and activations, so the chip is ISAAC with 8-bit weights and inputs (``isaac (w8a8)``).
2. A sweep of the ADC's resolution (4 to 10 bits) on LeNet-5, functional fidelity: energy
   efficiency and the layers' error against the ADC bits. The chip is one tile of the same
   design, without ISAAC's off-chip links (their 10.4 W of static power would swamp a network
   this small), and its ADC's energy follows Walden's figure of merit, 2^bits × ISAAC's FoM
   (``energy.adc_model = "walden"``; ISAAC's own table value is one number, at 8 bits).

Everything is written under the output directory: each report (JSON, one CSV row per layer),
the comparison tables, the energy breakdown and the TOPS/W of every run against the baseline,
the chip's per-layer bars and the Gantt timeline of the dense batch, the sweep's table and its
two figures. The chip is named by its preset and its overrides (``isaac (w8a8)``).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from cimsim import plot
from cimsim.config import load_preset
from cimsim.config.naming import config_label
from cimsim.fileio import atomic_write_text
from cimsim.engine.comparison import compare
from cimsim.simulate import simulate
from cimsim.sweep import run_sweep
from cimsim.sweep.spec import SweepSpec
from cimsim.sweep.table import read_table
from cimsim.workload_loader import load_workload

WORKLOAD = "resnet18"
BATCH = 16
VARIANTS = ("dense", "2:4:rows")
BASELINE = "vn-45nm"
CHIP_PRESET = "isaac"
CHIP_OVERRIDES = {"mapping.weight_bits": 8, "mapping.input_bits": 8}
ADC_BITS = list(range(4, 11))
SWEEP_CHIP = CHIP_OVERRIDES | {"energy.adc_model": "walden", "chip.tiles": 1, "energy.static_power_mw": 0.0}
"""The sweep's chip: ISAAC at 8 bits, one tile, no off-chip links' static power, Walden's ADC energy."""


def chip():
    """ISAAC's design at the baseline's precision (8-bit weights and inputs), named ``isaac (w8a8)``."""
    cfg = load_preset(CHIP_PRESET).override(CHIP_OVERRIDES)
    return cfg.override({"meta.name": config_label(cfg, CHIP_PRESET)})


def compare_variants(out: Path, seed: int) -> tuple[dict, list[Path]]:
    """Part 1: each variant on the chip and on the baseline; the tables and the figures."""
    cfg, base_cfg = chip(), load_preset(BASELINE)
    tables, reports, paths = {}, [], []
    for variant in VARIANTS:
        wl = load_workload(WORKLOAD, variant, seed)
        cim = simulate(wl, cfg, batch=BATCH, seed=seed, record_timeline=variant == VARIANTS[0])
        base = simulate(wl, base_cfg, batch=BATCH, seed=seed)
        comparison = compare([base, cim], labels=[f"{BASELINE} {variant}", f"{cfg.meta.name} {variant}"])
        tables[variant] = comparison.to_dict() | {"table": str(comparison)}
        for report, side in ((cim, "chip"), (base, "baseline")):
            paths += [report.to_json(out / f"{WORKLOAD}_{_tag(variant)}_{side}.json"),
                      report.to_csv(out / f"{WORKLOAD}_{_tag(variant)}_{side}_layers.csv")]
        reports += [base, cim]
    paths += plot.energy_breakdown_chart(reports, out / "energy_breakdown")
    paths += plot.tops_per_watt_chart(reports, out / "tops_per_watt")
    dense_cim = reports[1]
    paths += plot.layer_bars(dense_cim, out / f"{WORKLOAD}_chip_layers")
    paths += plot.timeline_chart(dense_cim, out / f"{WORKLOAD}_chip_timeline")
    return tables, paths


def _tag(variant: str) -> str:
    return variant.replace(":", "-")


def adc_sweep(out: Path, seed: int) -> tuple[list[dict], list[Path]]:
    """Part 2: LeNet-5 on the chip, ADC bits 4 to 10, functional fidelity."""
    spec = SweepSpec.from_dict(
        {
            "sweep": {"name": "adc-bits", "chip": "isaac", "workloads": ["lenet5"], "fidelity": "functional",
                      "seeds": [seed]},
            "grid": {"adc.bits": ADC_BITS} | {path: [value] for path, value in SWEEP_CHIP.items()},
        },
        base_dir=out,
    )
    result = run_sweep(spec, out / "adc_sweep.csv", workers=1, resume=True, progress=False)
    rows = [row for row in read_table(result.path) if row["seed"] == seed]
    paths = [result.path]
    on = textwrap.fill(f"lenet5, functional, on {config_label(load_preset(CHIP_PRESET).override(SWEEP_CHIP))}", 60)
    paths += plot.metric_vs_parameter(rows, "adc.bits", "tops_per_watt", "workload", out / "tops_per_watt_vs_adc_bits",
                                      title=f"Energy efficiency against ADC resolution\n{on}")
    paths += plot.accuracy_vs_parameter(rows, "adc.bits", out / "error_vs_adc_bits_lenet5", series="workload",
                                        title=f"Relative error of the layers (RMS) against ADC resolution\n{on}")
    return rows, paths


def run_network_demo(out_dir: str | Path, seed: int = 0) -> dict:
    """Both parts; returns what they found (also written to ``network_report.json``) and the files."""
    out = Path(out_dir)
    tables, paths = compare_variants(out, seed)
    rows, sweep_paths = adc_sweep(out, seed)
    summary = {
        "what": __doc__.strip().split("\n\n")[1].replace("\n", " "),
        "comparisons": tables,
        "adc_sweep": [{k: row[k] for k in ("adc.bits", "tops_per_watt", "layer_relative_error_rms")} for row in rows],
        "files": [str(p) for p in paths + sweep_paths],
    }
    atomic_write_text(out / "network_report.json", json.dumps(summary, indent=1) + "\n")
    return summary
