"""The CIM against von Neumann table of docs/scheduler.md, with each side's bottleneck resource.

Run with ``python benchmarks/cim_vs_vn.py`` (``make bench`` runs it). For ``resnet18``, ``vgg8``,
``bert-base-layer`` and ``gpt2-decode`` at batch 1 and 16 (pipelined, analytical fidelity, event
timing) it prints one row per workload and batch: energy per inference, latency of the batch,
TOPS/W and the busiest resource (``Report.bottleneck``) of ISAAC at 8-bit weights and inputs
(``isaac-w8a8``, with more tiles when a model's weights need them: see ``scheduler.chip_for``)
and of ``vn-45nm``, and the CIM energy as a multiple of the baseline's. ``--json PATH`` also
writes the rows, so that two versions of the code can be compared number by number.
"""

from __future__ import annotations

import argparse
import json

import cimsim  # first: it sets the thread-pool variables numpy reads when it loads

from scheduler import MODELS, chip_for, workload  # noqa: E402  (benchmarks/scheduler.py)

BATCHES = (1, 16)


def row(name: str, batch: int, cim: cimsim.Report, base: cimsim.Report) -> dict:
    """One line of the table: both sides' energy per inference (µJ), latency (µs), TOPS/W and bottleneck."""
    line = {"workload": name, "batch": batch}
    for side, report in (("cim", cim), ("vn", base)):
        line |= {f"{side}_config": report.config, f"{side}_uj_per_inference": report.energy_pj / batch * 1e-6,
                 f"{side}_latency_us": report.latency_ns * 1e-3, f"{side}_tops_per_watt": report.tops_per_watt,
                 f"{side}_bottleneck": report.bottleneck}
    line["cim_energy_over_vn"] = cim.energy_pj / base.energy_pj
    return line


def table(rows: list[dict]) -> str:
    header = (f"{'workload':<16}{'batch':>6} | {'CIM uJ/inf':>11}{'lat us':>10}{'TOPS/W':>8}  {'bottleneck':<22}"
              f"| {'VN uJ/inf':>10}{'lat us':>10}{'TOPS/W':>8}  {'bottleneck':<14}| {'CIM/VN energy':>13}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['workload']:<16}{r['batch']:>6} | {r['cim_uj_per_inference']:>11.4g}{r['cim_latency_us']:>10.4g}"
                     f"{r['cim_tops_per_watt']:>8.3g}  {str(r['cim_bottleneck']):<22}| {r['vn_uj_per_inference']:>10.4g}"
                     f"{r['vn_latency_us']:>10.4g}{r['vn_tops_per_watt']:>8.3g}  {str(r['vn_bottleneck']):<14}"
                     f"| {r['cim_energy_over_vn']:>13.3g}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    isaac8 = cimsim.load_preset("isaac").override(
        {"mapping.weight_bits": 8, "mapping.input_bits": 8, "meta.name": "isaac-w8a8"})
    vn = cimsim.load_preset("vn-45nm")
    rows = []
    for name in MODELS:
        wl = workload(name)
        for batch in BATCHES:
            cim = cimsim.simulate(wl, chip_for(wl, isaac8), batch=batch, progress=False)
            base = cimsim.simulate(wl, vn, batch=batch, progress=False)
            rows.append(row(name, batch, cim, base))
    print("CIM (isaac-w8a8) against von Neumann (vn-45nm): energy per inference, latency of the batch, bottleneck")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
