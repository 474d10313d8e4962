"""Design-space sweeps: a grid of chips, workloads and configuration overrides, simulated point by point.

A sweep runs on a laptop by default (a local process pool), scales out on Dask distributed, and
never loses a finished point: the table is rewritten atomically in batches, and ``resume``
picks up where a killed run stopped.

The sweep file (TOML)::

    [sweep]
    name = "adc-bits"                  # optional; default: the file's stem
    chip = ["isaac", "rram-22nm"]      # preset names or config .toml paths (relative to this file)
    workloads = ["lenet5", "mlp"]      # zoo names (workloads.list()), .onnx files, or saved .json / .npz workloads
    batch = [1, 16]                    # default 1
    seeds = [0]                        # default 0
    sparsity = ["", "2:4"]             # "" or "dense", "N:M", "block:RxC:fraction" (zoo models); default dense
    fidelity = "analytical"            # or "functional", or both in a list
    mode = "pipelined"                 # or "layer"

    [grid]                             # the cartesian product of dotted configuration paths
    "adc.bits" = [4, 5, 6, 7, 8]
    "array.rows" = [64, 128, 256]

    [[points]]                         # explicit override sets, after the grid's (or instead of it)
    "adc.bits" = 10
    "array.rows" = 512

Every key of ``[sweep]`` but ``name`` takes one value or a list. The points are the product of
chip × workload × sparsity × batch × seed × fidelity × mode × override sets, where the override
sets are the grid's product followed by the ``[[points]]`` tables (one empty set when there are
neither). Each override set is validated on every chip before anything runs
(:mod:`cimsim.sweep_spec`). A point's id is a hash of its parameters, not of its position, so
it names the same simulation in any sweep; a point given twice runs once.

Seeds: a point's seed is the ``seeds`` value it was built with. It draws a zoo model's weights
and every random number of the simulation, so the result depends on the point alone, not on the
worker or the number of workers. Points that differ only in their configuration share their
draws (common random numbers): differences between them are the parameters', not the noise's.

The table (CSV; :mod:`cimsim.sweep_table`) has one row per point: ``point_id``, the axes
(``chip``, ``workload``, ``sparsity``, ``batch``, ``seed``, ``fidelity``, ``mode``), the
configuration's value at every swept path, and :data:`cimsim.sweep_point.FIGURES` (energy in
pJ, latency in ns, TOPS, TOPS/W, TOPS/mm², data-movement share, ..., ``wall_s`` of the point,
``error`` when its simulation refused, e.g. a workload too large for the chip).

Running: :func:`run_sweep` in Python, or ``python -m cimsim.sweep SWEEP.toml OUT.csv
[--workers N] [--scheduler tcp://host:port] [--resume]``. Local workers are spawned processes,
so a script that runs a sweep needs ``if __name__ == "__main__":``. On Dask, unset the
``MALLOC_TRIM_THRESHOLD_`` that Dask's nanny gives its workers
(``distributed.nanny.pre-spawn-environ``): it makes a point about 1.8x slower.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cimsim.errors import ConfigError, ShapeError
from cimsim.sweep_point import columns, run_point
from cimsim.sweep_spec import Point, SweepSpec, load_sweep
from cimsim.sweep_table import TableWriter, check_writable, read_rows, read_table, remove_stale_temporaries

__all__ = ["SweepResult", "SweepSpec", "load_sweep", "read_table", "run_sweep"]

IN_FLIGHT_PER_WORKER = 4
"""Points submitted ahead per worker thread: enough to keep workers busy, few enough to stop quickly."""


@dataclass(frozen=True)
class SweepResult:
    """What a run did: the table's path, the sweep's points, those run now and those found in the table."""

    path: Path
    points: int  # points in the sweep
    computed: int  # points simulated by this run
    skipped: int  # points already in the table (resume)
    errors: int  # points of this run whose simulation refused (their row has an ``error``)
    wall_s: float  # wall-clock time of the run, setup and worker start-up included (s)

    @property
    def points_per_s(self) -> float:
        """Points simulated per second of the run's wall time."""
        return self.computed / self.wall_s if self.wall_s > 0 else 0.0

    def rows(self) -> list[dict[str, Any]]:
        """The table read back (:func:`cimsim.sweep_table.read_table`)."""
        return read_table(self.path)


def run_sweep(
    spec: SweepSpec | str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    workers: int | None = None,
    scheduler: Any = None,
    resume: bool = False,
    progress: bool | None = None,
    *,
    flush_rows: int = 200,
    flush_s: float = 5.0,
) -> SweepResult:
    """Simulate every point of ``spec`` (a :class:`SweepSpec` or a sweep file) into the table ``out_path``.

    ``workers``: local processes (default ``os.cpu_count()``; 1 runs in this process).
    ``scheduler``: run on Dask distributed instead: an address (``"tcp://host:port"``), a
    ``dask.distributed.Client`` (left open) or a cluster such as ``LocalCluster``.
    ``resume``: keep the rows already in ``out_path`` and run only the missing points; without
    it an existing table is an error. ``progress``: a bar of points done, rate and time left
    (default: when stderr is a terminal). Finished rows are written atomically every
    ``flush_rows`` rows or ``flush_s`` seconds (:class:`~cimsim.sweep_table.TableWriter`), and
    when the run ends, fails or is interrupted.
    """
    start_s = time.perf_counter()
    spec = spec if isinstance(spec, SweepSpec) else load_sweep(spec)
    _check_run(workers, scheduler, flush_rows, flush_s)
    client = _connect(scheduler)
    try:
        table = _open_table(Path(out_path), spec, resume, flush_rows, flush_s)
        computed, errors = _fill(table, spec, workers, client, progress)
    finally:
        if client is not None and client is not scheduler:
            client.close()
    skipped = len(spec.points) - computed  # the run went through: it computed every point the table lacked
    return SweepResult(table.path, len(spec.points), computed, skipped, errors, time.perf_counter() - start_s)


def _fill(table: TableWriter, spec: SweepSpec, workers: int | None, client: Any, progress: bool | None) -> tuple[int, int]:
    """Run the points missing from ``table`` into it; how many ran and how many of those the simulator refused."""
    todo = [point for point in spec.points if point.id not in table]
    computed = errors = 0
    rows = _dask_rows(todo, spec.paths, client) if client is not None else _local_rows(todo, spec.paths, workers)
    bar = _progress_bar(len(spec.points), len(spec.points) - len(todo), spec.name, progress)
    try:
        table.flush()  # the header (and the kept rows) at once: the table exists from the start
        for row in rows:
            table.add(row)
            computed, errors = computed + 1, errors + bool(row.get("error"))
            bar.update()
    finally:
        table.flush()
        rows.close()
        bar.close()
    return computed, errors


# --------------------------------------------------------------------------- setup


def _check_run(workers, scheduler, flush_rows, flush_s) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers = {workers!r}; allowed: an integer >= 1 (1 runs in this process), or None")
    if workers is not None and scheduler is not None:
        raise ConfigError(f"workers = {workers!r} with scheduler = {scheduler!r}: give one (Dask has its own workers)")
    if isinstance(flush_rows, bool) or not isinstance(flush_rows, int) or flush_rows < 1:
        raise ConfigError(f"flush_rows = {flush_rows!r}; allowed: an integer >= 1")
    if isinstance(flush_s, bool) or not isinstance(flush_s, (int, float)) or not flush_s > 0:
        raise ConfigError(f"flush_s = {flush_s!r}; allowed: a number of seconds > 0")


def _open_table(out: Path, spec: SweepSpec, resume: bool, flush_rows: int, flush_s: float) -> TableWriter:
    """The writer of ``out``, holding the rows already there when resuming; ConfigError before any work."""
    check_writable(out)
    try:
        header, rows = read_rows(out)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"output '{out}' cannot be read as a table ({exc}); choose another path") from None
    wanted = columns(spec.paths)
    if rows and not resume:
        raise ConfigError(f"output '{out}' already holds a table; pass resume=True (--resume) to run the points "
                          "it lacks, or choose another path")
    if rows and (header != wanted or any(len(row) != len(wanted) for row in rows)):
        raise ConfigError(f"output '{out}' is not a table of this sweep: its columns are {header}, this sweep "
                          f"writes {wanted}; choose another path")
    remove_stale_temporaries(out)
    order = {point.id: index for index, point in enumerate(spec.points)}
    return TableWriter(out, wanted, rows, order, flush_rows, flush_s)


def _progress_bar(total: int, done: int, name: str, show: bool | None) -> tqdm:
    show = sys.stderr.isatty() if show is None else show
    return tqdm(total=total, initial=done, desc=name, unit="point", disable=not show, dynamic_ncols=True)


# --------------------------------------------------------------------------- where points run


def _local_rows(todo: list[Point], paths: tuple[str, ...], workers: int | None) -> Iterator[dict[str, Any]]:
    """The rows of ``todo`` as they finish, from a local pool, or from this process with one worker."""
    workers = min((os.cpu_count() or 1) if workers is None else workers, len(todo))
    if workers <= 1:
        return (run_point(point, paths) for point in todo)
    return _pool_rows(todo, paths, workers)


def _pool_rows(todo: list[Point], paths: tuple[str, ...], workers: int) -> Iterator[dict[str, Any]]:
    """A pool of fresh ("spawn") processes: no thread pool of TVM, numba or BLAS is forked mid-flight."""
    pool = futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=(os.getpid(),)
    )
    try:
        yield from _in_window(todo, lambda point: pool.submit(run_point, point, paths), _first_done,
                              IN_FLIGHT_PER_WORKER * workers)
    finally:
        pool.shutdown(cancel_futures=True)


def _dask_rows(todo: list[Point], paths: tuple[str, ...], client: Any) -> Iterator[dict[str, Any]]:
    """The same point function on Dask distributed."""
    from distributed import wait

    threads = max(1, sum(client.nthreads().values()))
    return _in_window(todo, lambda point: client.submit(run_point, point, paths, pure=False),
                      lambda pending: wait(pending, return_when="FIRST_COMPLETED"), IN_FLIGHT_PER_WORKER * threads)


def _connect(scheduler: Any):
    """None without a scheduler; else a ``distributed.Client``: the one given, or one connected here."""
    if scheduler is None:
        return None
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler
    if not isinstance(scheduler, str) and not hasattr(scheduler, "scheduler_address"):
        raise ConfigError(f"scheduler = {scheduler!r}; allowed: an address 'tcp://host:port', a "
                          "dask.distributed.Client or a cluster (e.g. LocalCluster)")
    try:
        return Client(scheduler, timeout="10s")
    except OSError as exc:
        raise ConfigError(f"scheduler = {scheduler!r}: cannot connect ({exc})") from None


def _in_window(todo: list[Point], submit: Callable, first_done: Callable, window: int) -> Iterator[dict[str, Any]]:
    """Results of ``submit(point)`` as they finish, with at most ``window`` points in flight."""
    queue = iter(todo)
    pending = {submit(point) for point in itertools.islice(queue, window)}
    while pending:
        done, pending = first_done(pending)
        pending = set(pending) | {submit(point) for point in itertools.islice(queue, len(done))}
        for future in done:
            yield future.result()


def _first_done(pending: set[futures.Future]) -> tuple[set, set]:
    return futures.wait(pending, return_when=futures.FIRST_COMPLETED)


def _init_worker(parent_pid: int) -> None:
    """A pool worker: one numba thread (the pool is the parallelism), and exit when the parent dies."""
    import numba

    numba.set_num_threads(1)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int, poll_s: float = 1.0) -> None:
    """Exit once ``parent_pid`` is no longer this process's parent (it was killed, say with SIGKILL)."""
    while os.getppid() == parent_pid:
        time.sleep(poll_s)
    os._exit(1)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """``python -m cimsim.sweep SWEEP.toml OUT.csv [--workers N] [--scheduler ADDRESS] [--resume]``."""
    parser = argparse.ArgumentParser(prog="python -m cimsim.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("sweep", help="sweep file (TOML)")
    parser.add_argument("out", help="output table (CSV)")
    parser.add_argument("--workers", type=int, help="local worker processes (default: all cores; 1 = in-process)")
    parser.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    parser.add_argument("--resume", action="store_true", help="keep the rows in OUT and run the missing points")
    args = parser.parse_args(argv)
    try:
        result = run_sweep(args.sweep, args.out, args.workers, args.scheduler, args.resume)
    except (ConfigError, ShapeError) as exc:
        print(f"cimsim sweep: error: {exc}", file=sys.stderr)
        return 2
    print(f"{result.path}: {result.computed} points run ({result.errors} refused), {result.skipped} already there, "
          f"{result.wall_s:.1f} s, {result.points_per_s:.1f} points/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
