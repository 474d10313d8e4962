"""Memory of programmed crossbars: peak bytes per programmed cell, and the three large cases.

Run with ``python benchmarks/memory.py [case ...]`` (cases: ``cells``, ``vgg8``, ``resnet18``,
``gpt2``; default: the first three). Each case runs in a subprocess of its own, so that one
case's peak is not another's:

* ``cells``: a 4096 × 1024 matrix programmed on ``ideal``, ``rram-22nm``, ``isaac`` and ``pcm``;
  the peak of numpy's allocations (tracemalloc) during programming, and what the matrix holds
  afterwards, divided by the programmed cells (stored rows × physical columns). The memory
  guard assumes :data:`cimsim.host_memory.BYTES_PER_CELL` at peak.
* ``vgg8``: ``simulate(workloads.get("vgg8"), rram-22nm, fidelity="functional")`` (target
  ≤ 1.5 GB peak, ≤ 30 s);
* ``resnet18``: ``tvm_bridge.offload`` of ResNet-18 on ``ideal`` (target ≤ 1 GB, ≤ 5 s);
* ``gpt2``: ``tvm_bridge.offload`` of GPT-2 decode on ``pcm`` (target ≤ 3 GB).

The large cases print the peak resident memory of the whole process (``ru_maxrss``: Python,
numpy, TVM and the model's own weights included), and the wall and CPU time of the call alone
(on a shared machine the CPU time is the steadier figure).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
import tracemalloc

CELL_PRESETS = ("ideal", "rram-22nm", "isaac", "pcm")
LARGE = {"vgg8": ("rram-22nm", 1.5, 30.0), "resnet18": ("ideal", 1.0, 5.0), "gpt2": ("pcm", 3.0, None)}


def bytes_per_cell() -> None:
    import numpy as np

    import cimsim

    w = np.random.default_rng(0).standard_normal((4096, 1024))
    for preset in CELL_PRESETS:
        tracemalloc.start()
        matrix = cimsim.AnalogMatrix(w, cimsim.load_preset(preset), seed=0)
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        cells = matrix.stored_rows * matrix.physical_columns
        print(f"{preset:>10}: {cells:>10,} cells, peak {peak / cells:5.2f} B/cell while programming, "
              f"{held / cells:5.2f} B/cell held after")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def large(case: str) -> None:
    import cimsim
    from cimsim.workload_loader import load_workload

    preset, _, _ = LARGE[case]
    cfg = cimsim.load_preset(preset)
    name = {"gpt2": "gpt2-decode"}.get(case, case)
    if case == "vgg8":
        workload = load_workload(name)
        start, cpu_before = time.perf_counter(), _cpu_s()
        cimsim.simulate(workload, cfg, fidelity="functional")
    else:
        import tvm_bridge
        import workloads

        mod = workloads.get(name)
        start, cpu_before = time.perf_counter(), _cpu_s()
        tvm_bridge.offload(mod, cfg, seed=0)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = usage.ru_utime + usage.ru_stime - cpu_before
    print(f"{case:>10} on {preset}: peak {usage.ru_maxrss * 1024 / 1e9:.2f} GB, {seconds:.1f} s wall, "
          f"{cpu_s:.1f} s CPU")


def main(argv: list[str]) -> None:
    cases = argv or ["cells", "vgg8", "resnet18"]
    if len(cases) > 1:
        for case in cases:
            subprocess.run([sys.executable, __file__, case], check=True)
        return
    case = cases[0]
    if case == "cells":
        bytes_per_cell()
    elif case in LARGE:
        preset, peak_gb, seconds = LARGE[case]
        print(f"{case:>10} target: <= {peak_gb} GB" + (f", <= {seconds} s" if seconds else ""))
        large(case)
    else:
        raise SystemExit(f"unknown case {case!r}; allowed: cells, {', '.join(LARGE)}")


if __name__ == "__main__":
    main(sys.argv[1:])
