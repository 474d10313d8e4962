"""Sweep throughput: 1,080 analytical points in this process, on 2 local workers and on a 2-worker Dask cluster.

Run with ``python benchmarks/sweep.py`` (``OMP_NUM_THREADS=1`` as ``make test`` sets it). The sweep:
``lenet5`` and ``mlp`` on ``isaac`` and ``rram-22nm`` × batch 1, 4, 16 × ``adc.bits`` 4..8 ×
``array.rows`` 64, 128, 256 × ``array.bits_per_cell`` 1, 2, 4 × ``dac.bits`` 1, 2 (analytical
fidelity, pipelined). Prints, for each way of running it, the points per second over the run's
whole wall time (worker start-up, TVM import and extraction in each worker included), the
speed-up over this process, and the parallel efficiency against a floor: the points' own wall
time in this process (``wall_s``, summed over its table) divided by 2 workers. All tables must
agree, wall times aside.

Dask runs twice: with ``MALLOC_TRIM_THRESHOLD_`` unset through
``distributed.nanny.pre-spawn-environ``, and with Dask's default worker environment, whose
``MALLOC_TRIM_THRESHOLD_=65536`` turns off glibc's adaptive mmap threshold, so that large numpy
temporaries are mapped and unmapped again on every use (a LeNet-5 or MLP point takes about 1.8x
as long). The default runs last: Dask's nanny also writes that variable into the environment of
the process that starts the cluster, and processes spawned later inherit it.

First, points per second per core (:func:`per_core_rates`): LeNet-5 and ResNet-18 on ``isaac`` and
``rram-22nm`` at batch 4 over ``adc.bits``, ``dac.bits`` and ``array.bits_per_cell``, timed in
closed form (the sweeps' default) and by the event engine in the same process, one after the
other, with the ratio of the two rates (points per wall second, and per CPU second of this process,
which a machine shared with other jobs does not dilute). Targets of issue 16: 1,000 closed-form points/s per core
on LeNet-5, 100 on ResNet-18. ``python benchmarks/sweep.py --per-core`` runs this part alone. A
one-point sweep first loads the workload and compiles the kernels; the objects it leaves (imports,
caches: some 60,000 in the collector's middle generation, beside some 270,000 older ones) are then
collected once, as they are within the first points of a long sweep, so that the rate measured
over ~100 points is the sustained one. Without it, the first measured sweep pays that one pass,
a pass of the middle generation (10-20 ms) or a full one (about 120 ms), whichever the
collector's counters happen to trigger: 0.1 to 1.3 ms a point of a 96-point sweep.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from pathlib import Path

from cimsim.sweep.run import SweepResult, run_sweep

WORKERS = 2
SWEEP = """
[sweep]
name = "benchmark"
chip = ["isaac", "rram-22nm"]
workloads = ["lenet5", "mlp"]
batch = [1, 4, 16]
fidelity = "analytical"

[grid]
"adc.bits" = [4, 5, 6, 7, 8]
"array.rows" = [64, 128, 256]
"array.bits_per_cell" = [1, 2, 4]
"dac.bits" = [1, 2]
"""


def figures(result: SweepResult) -> list[dict]:
    return [{column: value for column, value in row.items() if column != "wall_s"} for row in result.rows()]


def line(label: str, result: SweepResult, reference: SweepResult) -> str:
    floor_s = sum(row["wall_s"] for row in reference.rows()) / WORKERS
    return (f"{label:<44}{result.wall_s:9.1f}{result.points_per_s:12.1f}"
            f"{reference.wall_s / result.wall_s:10.2f}{floor_s / result.wall_s:12.2f}")


def on_dask(spec: Path, out: Path, trim_memory: bool) -> SweepResult:
    """The sweep on a local Dask cluster, its workers' ``MALLOC_TRIM_THRESHOLD_`` as Dask sets it or unset."""
    import dask
    from distributed import LocalCluster

    unset = {} if trim_memory else {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with dask.config.set(unset):
        with LocalCluster(n_workers=WORKERS, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
            return run_sweep(spec, out, scheduler=cluster)


PER_CORE = """
[sweep]
name = "per-core"
chip = ["isaac", "rram-22nm"]
workloads = ["{workload}"]
batch = [4]
fidelity = "analytical"
timing = "{timing}"

[grid]
"adc.bits" = {adc_bits}
"dac.bits" = [1, 2]
"array.bits_per_cell" = [1, 2, 4]
"""
PER_CORE_RUNS = {  # workload: (ADC widths in closed form, in events); the events grid is smaller (slower points)
    "lenet5": ([3, 4, 5, 6, 7, 8, 9, 10], [5, 6, 7]),
    "resnet18": ([4, 5, 6, 7, 8], [6]),
}


def per_core_rate(folder: Path, workload: str, timing: str, adc_bits: list[int]) -> tuple[SweepResult, float]:
    """The per-core sweep of ``workload`` in this process (one core), and the CPU seconds it took."""
    stem = f"{workload}-{timing}-{len(adc_bits)}"
    spec = folder / f"{stem}.toml"
    spec.write_text(PER_CORE.format(workload=workload, timing=timing, adc_bits=adc_bits))
    cpu_s = time.process_time()
    result = run_sweep(spec, folder / f"{stem}.csv", workers=1)
    return result, time.process_time() - cpu_s


def per_core_rates(folder: Path) -> None:
    """Closed-form and event points per second in this process, LeNet-5 and ResNet-18 (module docstring)."""
    print(f"{'per core, batch 4':<18}{'timing':>12}{'points':>7}{'wall s':>8}{'points/s':>10}{'points/CPU s':>14}"
          f"{'closed/events':>15}")
    for workload, (closed_bits, event_bits) in PER_CORE_RUNS.items():
        per_core_rate(folder, workload, "closed-form", [closed_bits[0]])  # loads the workload and compiles once
        gc.collect()  # settles what the warm-up made (module docstring)
        closed = per_core_rate(folder, workload, "closed-form", closed_bits)
        events = per_core_rate(folder, workload, "events", event_bits)
        for timing, (result, cpu_s) in (("closed-form", closed), ("events", events)):
            ratio = f"{closed[0].points_per_s / events[0].points_per_s:15.1f}" if timing == "events" else ""
            print(f"{workload:<18}{timing:>12}{result.computed:7d}{result.wall_s:8.2f}{result.points_per_s:10.1f}"
                  f"{result.computed / cpu_s:14.1f}{ratio}")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cimsim-sweep-"))
    per_core_rates(folder)
    if "--per-core" in sys.argv[1:]:
        return
    spec = folder / "benchmark.toml"
    spec.write_text(SWEEP)
    in_process = run_sweep(spec, folder / "in-process.csv", workers=1)
    pool = run_sweep(spec, folder / "pool.csv", workers=WORKERS)
    dask_untrimmed = on_dask(spec, folder / "dask-untrimmed.csv", trim_memory=False)
    dask_default = on_dask(spec, folder / "dask.csv", trim_memory=True)  # last (module docstring)
    tables = [figures(result) for result in (in_process, pool, dask_untrimmed, dask_default)]
    assert all(table == tables[0] for table in tables), "the tables differ"
    print(f"{in_process.points} points ({in_process.errors} refused by the simulator), tables in {folder}")
    print(f"{'':<44}{'wall s':>9}{'points/s':>12}{'speed-up':>10}{'efficiency':>12}")
    print(f"{'in this process':<44}{in_process.wall_s:9.1f}{in_process.points_per_s:12.1f}{1.0:10.2f}{'':>12}")
    print(line(f"local pool, {WORKERS} workers", pool, in_process))
    print(line(f"Dask LocalCluster, {WORKERS} workers, no malloc trim", dask_untrimmed, in_process))
    print(line(f"Dask LocalCluster, {WORKERS} workers, default", dask_default, in_process))


if __name__ == "__main__":
    main()
