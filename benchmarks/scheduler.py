"""The chip in time: whole networks through the SimPy engine, on a CIM chip and on the von Neumann baseline.

Run with ``make bench`` (or ``python benchmarks/scheduler.py``). Prints

1. for ``resnet18``, ``vgg8``, ``bert-base-layer`` and ``gpt2-decode`` on ``isaac`` and on
   ``vn-45nm`` (batch 1, pipelined, ``analytical`` fidelity): the simulation's wall time
   (placement and counting included, TVM extraction not), the engine's events, its wall time
   alone and its events per second, energy, latency and TOPS/W (1 MAC = 2 ops, MACs with a non-zero weight). ISAAC's
   168 tiles hold about 16,000 arrays; a model whose weights need more runs on the same design
   with enough tiles to hold them (the row says how many), so that CIM stays weight-stationary;
2. the engine's cost against its work items: ``resnet18`` at batch 1, 4 and 16 (4× and 16×
   the chunks); events and wall time should grow in proportion;
3. the side-by-side table, CIM against von Neumann (``vn-45nm``), for the four workloads at
   batch 1 and batch 16, with the data-movement share of each energy. The precision must match
   (``compare`` refuses otherwise): ``vn-45nm`` computes 8-bit weights and activations, so the
   CIM side is ISAAC's design with 8-bit weights and inputs (``isaac-w8a8``: 4 cells per
   weight, 8 input cycles of 100 ns).
"""

from __future__ import annotations

import math
import time

import cimsim  # first: it sets the thread-pool variables numpy reads when it loads

import tvm_bridge  # noqa: E402
import workloads  # noqa: E402
from cimsim.costs.area import array_count  # noqa: E402
from cimsim.costs.array_counts import weight_arrays  # noqa: E402
from cimsim.engine import scheduler  # noqa: E402
from cimsim.engine.comparison import compare  # noqa: E402
from cimsim.simulate import machine_plan  # noqa: E402

MODELS = ("resnet18", "vgg8", "bert-base-layer", "gpt2-decode")


def workload(name: str) -> cimsim.Workload:
    extracted = tvm_bridge.extract(workloads.get(name))
    return cimsim.Workload(extracted.ops, name=name)


def chip_for(wl: cimsim.Workload, cfg: cimsim.ChipConfig) -> cimsim.ChipConfig:
    """``cfg``, with more tiles if the workload's weights need more arrays than it has."""
    needed = sum(weight_arrays(g.weights, cfg) for g in wl.gemms if g.weights is not None)
    if needed <= array_count(cfg):
        return cfg
    per_tile = cfg.tile.arrays_per_group * cfg.tile.groups_per_tile
    tiles = math.ceil(needed / per_tile)
    return cfg.override({"chip.tiles": tiles, "meta.name": f"{cfg.meta.name}-{tiles}-tiles"})


def timed(wl, cfg, batch=1) -> tuple[cimsim.Report, float]:
    start = time.perf_counter()
    report = cimsim.simulate(wl, cfg, batch=batch)
    return report, time.perf_counter() - start


def engine_seconds(wl, cfg, batch=1) -> float:
    """Wall time of the event engine alone on the plan simulate would run (best of 3: the VM is shared)."""
    plan, mode, _ = machine_plan(wl, cfg, batch)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        scheduler.run(plan, batch, mode)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    isaac, vn = cimsim.load_preset("isaac"), cimsim.load_preset("vn-45nm")
    wls = {name: workload(name) for name in MODELS}
    print("1. whole networks, batch 1, pipelined, analytical fidelity")
    header = (f"{'workload':<16}{'config':<22}{'wall s':>8}{'events':>9}{'engine s':>9}{'events/s':>10}"
              f"{'energy uJ':>12}{'latency us':>12}{'TOPS/W':>9}")
    print(header)
    reports = {}
    for name, wl in wls.items():
        for cfg in (chip_for(wl, isaac), vn):
            report, wall = timed(wl, cfg)
            engine = engine_seconds(wl, cfg)
            reports[(name, cfg.meta.name, 1)] = report
            print(f"{name:<16}{cfg.meta.name:<22}{wall:8.2f}{report.events:9d}{engine:9.3f}{report.events / engine:10.0f}"
                  f"{report.energy_pj * 1e-6:12.4g}{report.latency_ns * 1e-3:12.4g}{report.tops_per_watt:9.3g}")

    print("\n2. the engine's cost against its work items (resnet18 on isaac)")
    for batch in (1, 4, 16):
        report, wall = timed(wls["resnet18"], isaac, batch)
        chunks = batch * sum(row.chunks for row in report.layers)
        engine = engine_seconds(wls["resnet18"], isaac, batch)
        print(f"  batch {batch:3d}: {chunks:7d} work items, {report.events:8d} events, {wall:6.2f} s wall, "
              f"{engine:6.3f} s in the engine ({1e6 * engine / chunks:.1f} us per work item)")

    print("\n3. CIM (isaac-w8a8) against von Neumann (vn-45nm), at the same precision")
    isaac8 = isaac.override({"mapping.weight_bits": 8, "mapping.input_bits": 8, "meta.name": "isaac-w8a8"})
    for batch in (1, 16):
        for name, wl in wls.items():
            cim = timed(wl, chip_for(wl, isaac8), batch)[0]
            base = reports.get((name, vn.meta.name, batch)) or timed(wl, vn, batch)[0]
            print(f"\n{name}, batch {batch}")
            print(compare([base, cim]))


if __name__ == "__main__":
    main()
