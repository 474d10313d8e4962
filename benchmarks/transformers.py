"""Whole transformers of the zoo through ``cimsim.simulate``: ``bert-base`` and ``gpt2-small-decode``.

Run with ``python benchmarks/transformers.py [model ...]``. For each model on ``isaac`` (with
``chip.oversubscription = "reprogram"`` when its weights need more arrays than the chip has: the
row says so) and on ``vn-45nm``, batch 1, pipelined, ``analytical`` fidelity, prints the wall time
of ``simulate`` with ``timing="closed-form"`` and with events (placement and counting included;
building and extracting the model is not: it is loaded from the workload cache, built the first
time), its ratio to the target (0.5 s closed form, 10 s events), the CPU time of this process
(which a machine shared with other jobs does not dilute), the events, latency and energy.
A first small simulation compiles numba's kernels before any time is taken.
"""

from __future__ import annotations

import sys
import time

import cimsim  # first: it sets the thread-pool variables numpy reads when it loads

from cimsim.workload_loader import load_workload  # noqa: E402

MODELS = ("bert-base", "gpt2-small-decode")
TARGET_S = {"closed-form": 0.5, "events": 10.0}


def simulate_timed(wl: cimsim.Workload, cfg, timing: str) -> tuple[cimsim.Report, float, float]:
    """The report, its wall time and the CPU time of this process (s)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    report = cimsim.simulate(wl, cfg, timing=timing)
    return report, time.perf_counter() - start, time.process_time() - cpu_start


def main(models) -> None:
    cimsim.simulate(load_workload("mlp"), cimsim.load_preset("isaac"))  # numba's kernels compiled here
    print(f"{'model':<18} {'machine':<28} {'timing':<12} {'wall s':>8} {'/target':>8} {'CPU s':>7} {'events':>9} "
          f"{'latency ms':>11} {'energy mJ':>10}")
    for name in models:
        start = time.perf_counter()
        wl = load_workload(name)
        print(f"{name}: {wl!r}, loaded in {time.perf_counter() - start:.1f} s")
        for preset in ("isaac", "vn-45nm"):
            cfg, machine = cimsim.load_preset(preset), preset
            for timing in ("closed-form", "events"):
                try:
                    report, seconds, cpu_s = simulate_timed(wl, cfg, timing)
                except cimsim.ConfigError:  # more arrays than the chip has
                    cfg, machine = cfg.override({"chip.oversubscription": "reprogram"}), preset + " (reprogram)"
                    report, seconds, cpu_s = simulate_timed(wl, cfg, timing)
                print(f"{name:<18} {machine:<28} {timing:<12} {seconds:8.2f} {seconds / TARGET_S[timing]:8.1f} "
                      f"{cpu_s:7.2f} {report.events:9d} {report.latency_ns / 1e6:11.2f} {report.energy_pj / 1e9:10.2f}")


if __name__ == "__main__":
    main(sys.argv[1:] or MODELS)
