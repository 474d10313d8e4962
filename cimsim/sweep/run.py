"""Design-space sweeps: a grid of chips, workloads and configuration overrides, simulated point by point.

A sweep runs on a laptop by default (a local process pool), scales out on Dask distributed, and
never loses a finished point: the table is rewritten atomically in batches, and ``resume``
picks up where a killed run stopped. Ctrl-C raises :class:`SweepInterrupted`, a KeyboardInterrupt
whose message says how many rows the table kept, where, and to rerun with ``--resume``.

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
    timing = "closed-form"             # or "events": the SimPy engine, where shared resources contend

    [grid]                             # the cartesian product of dotted configuration paths
    "adc.bits" = [4, 5, 6, 7, 8]
    "array.rows" = [64, 128, 256]

    [[points]]                         # explicit override sets, after the grid's (or instead of it)
    "adc.bits" = 10
    "array.rows" = 512

Every key of ``[sweep]`` but ``name`` takes one value or a list. The points are the product of
chip × workload × sparsity × batch × seed × fidelity × mode × timing × override sets, where the override
sets are the grid's product followed by the ``[[points]]`` tables (one empty set when there are
neither). Each override set is validated on every chip before anything runs
(:mod:`cimsim.sweep.spec`). A point's id is a hash of its parameters, not of its position, so
it names the same simulation in any sweep; a point given twice runs once.

Seeds: a point's seed is the ``seeds`` value it was built with. It draws a zoo model's weights
and every random number of the simulation, so the result depends on the point alone, not on the
worker or the number of workers. Points that differ only in their configuration share their
draws (common random numbers): differences between them are the parameters', not the noise's.

The table (CSV; :mod:`cimsim.sweep.table`) has one row per point: ``point_id``, the axes
(``chip``, ``workload``, ``sparsity``, ``batch``, ``seed``, ``fidelity``, ``mode``, ``timing``), the
configuration's value at every swept path, and :data:`cimsim.sweep.point.FIGURES` (energy in
pJ, latency in ns, TOPS, TOPS/W, TOPS/mm², data-movement share, ..., ``wall_s`` of the point,
``error`` when its simulation refused, e.g. a workload too large for the chip).

Running: :func:`run_sweep` in Python, or ``python -m cimsim.sweep SWEEP.toml OUT.csv
[--workers N] [--scheduler tcp://host:port] [--resume]``. Local workers are spawned processes,
so a script that runs a sweep needs ``if __name__ == "__main__":``. On Dask, unset the
``MALLOC_TRIM_THRESHOLD_`` that Dask's nanny gives its workers
(``distributed.nanny.pre-spawn-environ``): it makes a point about 1.8x slower.

Workers that die: a sweep outlives the death of its workers (killed, out of memory, crashed).
A local pool whose worker dies is broken; the sweep keeps every row that finished, starts a new
pool and runs again the points that were in flight or not yet run. While a pool runs, the
directory ``.OUT.*.running`` beside the table holds one file per busy worker, named by its
process id and holding the id of the point it runs, so that a death is charged to the point
that was running in the dying worker, not to the points the pool ended with it. A point whose
worker died ``MAX_WORKER_DEATHS`` (3) times is not run again: its row gets an ``error`` saying
so. A pool that breaks 3 times in a row while no point finishes or is charged (a worker that
dies as it starts) stops the sweep with ``BrokenProcessPool``. On Dask, the nanny restarts a
dead worker and the scheduler runs its points again elsewhere, up to
``distributed.scheduler.allowed-failures`` (default 3) deaths per point (Dask charges a death to
every point the worker held, queued ones included); then ``KilledWorker`` makes the point's
row an ``error`` row, and the sweep goes on. Either way every point ends in the table once.
"""

from __future__ import annotations

import argparse
import collections
import csv
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cimsim.costs import unread_field_notes
from cimsim.errors import ConfigError, ShapeError
from cimsim.extras import missing_extra
from cimsim.progress import progress_bar
from cimsim.sweep.point import columns, run_point
from cimsim.sweep.spec import AXES, Point, SweepSpec, configured, load_sweep
from cimsim.sweep.table import TableWriter, check_writable, read_rows, read_table, remove_stale_temporaries

__all__ = ["SweepInterrupted", "SweepResult", "SweepSpec", "load_sweep", "read_table", "run_sweep"]

IN_FLIGHT_PER_WORKER = 4
"""Points submitted ahead per worker thread: enough to keep workers busy, few enough to stop quickly."""
MAX_WORKER_DEATHS = 3
"""Deaths of the local worker running a point after which the point gets an error row instead of another run."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or another KeyboardInterrupt) during :func:`run_sweep`, after the table kept the finished rows.

    Its message says how many rows the table holds, where, and to rerun with ``--resume``.
    """


@dataclass(frozen=True)
class SweepResult:
    """What a run did: the table's path, the sweep's points, those run now and those found in the table."""

    path: Path
    points: int  # points in the sweep
    computed: int  # points simulated by this run
    skipped: int  # points already in the table (resume)
    errors: int  # points of this run whose simulation refused or whose worker kept dying (their row has an ``error``)
    wall_s: float  # wall-clock time of the run, setup and worker start-up included (s)

    @property
    def points_per_s(self) -> float:
        """Points simulated per second of the run's wall time."""
        return self.computed / self.wall_s if self.wall_s > 0 else 0.0

    def rows(self) -> list[dict[str, Any]]:
        """The table read back (:func:`cimsim.sweep.table.read_table`)."""
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
    ``scheduler``: run on Dask distributed instead (the ``dask`` extra): an address (``"tcp://host:port"``), a
    ``dask.distributed.Client`` (left open) or a cluster such as ``LocalCluster``.
    ``resume``: keep the rows already in ``out_path`` and run only the missing points; without
    it an existing table is an error. ``progress``: a bar of points done, rate and time left
    (default: when stderr is a terminal). Finished rows are written atomically every
    ``flush_rows`` rows or ``flush_s`` seconds (:class:`~cimsim.sweep.table.TableWriter`), and
    when the run ends, fails or is interrupted.
    """
    start_s = time.perf_counter()
    spec = spec if isinstance(spec, SweepSpec) else load_sweep(spec)
    _check_run(workers, scheduler, flush_rows, flush_s)
    for note in unread_field_notes(  # a swept field that no active model reads, once per reason
        (configured(chip, base_dir, overrides), dict(overrides))
        for chip, base_dir, overrides in dict.fromkeys((p.chip, p.base_dir, p.overrides) for p in spec.points)
    ):
        print(f"note: {note}", file=sys.stderr)
    client = connect(scheduler)
    try:
        table = _open_table(Path(out_path), spec, resume, flush_rows, flush_s)
        computed, errors = _fill(table, spec, workers, client, progress)
    finally:
        if client is not None and client is not scheduler:
            client.close()
    skipped = len(spec.points) - computed  # the run went through: it computed every point the table lacked
    return SweepResult(table.path, len(spec.points), computed, skipped, errors, time.perf_counter() - start_s)


def _fill(table: TableWriter, spec: SweepSpec, workers: int | None, client: Any, progress: bool | None) -> tuple[int, int]:
    """Run the points missing from ``table`` into it; how many ran and how many of those got an error row."""
    todo = [point for point in spec.points if point.id not in table]
    computed = errors = 0
    if client is not None:
        rows = _dask_rows(todo, spec.paths, client)
    else:
        rows = _local_rows(todo, spec.paths, workers, table.path)
    bar = progress_bar(len(spec.points), spec.name, "point", progress, done=len(spec.points) - len(todo))
    try:
        table.flush()  # the header (and the kept rows) at once: the table exists from the start
        for row in rows:
            table.add(row)
            computed, errors = computed + 1, errors + bool(row.get("error"))
            bar.update()
    except KeyboardInterrupt:
        kept = len(spec.points) - len(todo) + computed  # written by the flush below, before this propagates
        raise SweepInterrupted(f"sweep {spec.name!r} stopped: {kept} of {len(spec.points)} rows kept in "
                               f"{table.path}; rerun with --resume (resume=True) to run the "
                               f"{len(spec.points) - kept} others") from None
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


# --------------------------------------------------------------------------- where points run


def _local_rows(todo: list[Point], paths: tuple[str, ...], workers: int | None, out: Path) -> Iterator[dict[str, Any]]:
    """The rows of ``todo`` as they finish, from a local pool, or from this process with one worker."""
    workers = min((os.cpu_count() or 1) if workers is None else workers, len(todo))
    if workers <= 1:
        return (run_point(point, paths) for point in todo)
    return _pool_rows(todo, paths, workers, out)


def _pool_rows(todo: list[Point], paths: tuple[str, ...], workers: int, out: Path) -> Iterator[dict[str, Any]]:
    """The rows of ``todo`` from local pools, each point's worker recorded under ``.OUT.*.running`` beside ``out``."""
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.", suffix=".running") as records:
        yield from _rows_despite_deaths(todo, paths, workers, Path(records))


def _rows_despite_deaths(todo: list[Point], paths: tuple[str, ...], workers: int,
                         records: Path) -> Iterator[dict[str, Any]]:
    """Pool after pool until every point has a row: a point's row, or an error row once its worker died too often."""
    left, deaths, barren = todo, collections.Counter(), 0
    while left:
        rest, killed = yield from _one_pool(left, paths, workers, records)
        deaths.update(killed.keys())  # one death per point (the values are exit codes)
        barren = 0 if killed or len(rest) < len(left) else barren + 1
        if barren == MAX_WORKER_DEATHS:
            raise BrokenProcessPool(f"the local worker pool broke {barren} times in a row while no point finished "
                                    "(do its workers die as they start?)")
        for point in rest:
            if deaths[point.id] >= MAX_WORKER_DEATHS:
                yield _error_row(point, paths, f"the worker process running this point died {deaths[point.id]} "
                                 f"times (last exit code {killed[point.id]}); not run again")
        left = [point for point in rest if deaths[point.id] < MAX_WORKER_DEATHS]


def _one_pool(points: list[Point], paths: tuple[str, ...], workers: int,
              records: Path) -> Generator[dict[str, Any], None, tuple[list[Point], dict[str, int]]]:
    """Rows from a new pool of fresh ("spawn") processes until every point ran or the pool broke.

    Returns the points left to run, and by point id the exit code of each worker that died running
    that point. "spawn": no thread pool of TVM, numba or BLAS is forked mid-flight.
    """
    pool = futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=(os.getpid(),)
    )
    processes = pool._processes  # pid -> Process, kept after shutdown: exit codes tell who died first
    try:
        rest = yield from _until_broken(pool, points, paths, records, IN_FLIGHT_PER_WORKER * workers)
    finally:
        pool.shutdown(cancel_futures=True)
    return rest, _killed_points(processes, records)


def _until_broken(pool: futures.ProcessPoolExecutor, points: list[Point], paths: tuple[str, ...], records: Path,
                  window: int) -> Generator[dict[str, Any], None, list[Point]]:
    """The rows of ``points`` from ``pool``; returns ``[]``, or once the pool broke, the points without a row."""
    running: dict[str, futures.Future] = {}
    finished: set[str] = set()

    def submit(point: Point) -> futures.Future:
        running[point.id] = future = pool.submit(_run_recorded, point, paths, str(records))
        return future

    try:
        for point, future in _in_window(points, submit, _first_done, window):
            row = future.result()
            del running[point.id]
            finished.add(point.id)
            yield row
        return []
    except BrokenProcessPool:
        pool.shutdown()  # every future settles: a row, or broken
    saved = {point_id: future.result() for point_id, future in running.items() if not _broken(future)}
    yield from saved.values()
    return [point for point in points if point.id not in finished and point.id not in saved]


def _broken(future: futures.Future) -> bool:
    return isinstance(future.exception(), BrokenProcessPool)


def _killed_points(processes: dict[int, Any], records: Path) -> dict[str, int]:
    """By point id, the exit code of each worker that died running that point; clears ``records``.

    The pool ends the other workers of a broken pool with SIGTERM: those are not charged.
    """
    killed = {}
    for record in records.iterdir():
        process, point_id = processes.get(int(record.name)), record.read_text()
        if point_id and process is not None and process.exitcode not in (0, -signal.SIGTERM):
            killed[point_id] = process.exitcode
        record.unlink()
    return killed


def _run_recorded(point: Point, paths: tuple[str, ...], records: str) -> dict[str, Any]:
    """:func:`run_point` in a pool worker, with the point's id in the file ``records/<pid>`` while it runs."""
    record = Path(records, str(os.getpid()))
    record.write_text(point.id)
    try:
        return run_point(point, paths)
    finally:
        record.unlink()


def _error_row(point: Point, paths: tuple[str, ...], error: str) -> dict[str, Any]:
    """The row of a point that was not simulated: its parameters, its configuration values, ``error``."""
    cfg = configured(point.chip, point.base_dir, point.overrides)
    row = {"point_id": point.id} | {axis: getattr(point, axis) for axis in AXES}
    return row | {path: cfg.get(path) for path in paths} | {"error": error}


def _dask_rows(todo: list[Point], paths: tuple[str, ...], client: Any) -> Iterator[dict[str, Any]]:
    """The same point function on Dask distributed; a point Dask gave up on (``KilledWorker``) gets an error row."""
    from distributed import KilledWorker, wait

    window = IN_FLIGHT_PER_WORKER * max(1, sum(client.nthreads().values()))
    finished = _in_window(todo, lambda point: client.submit(run_point, point, paths, pure=False),
                          lambda pending: wait(pending, return_when="FIRST_COMPLETED"), window)
    for point, future in finished:
        try:
            row = future.result()
        except KilledWorker as exc:
            row = _error_row(point, paths, f"Dask gave up on this point: {exc}")
        yield row


def connect(scheduler: Any, argument: str = "scheduler", purpose: str = "a sweep on Dask"):
    """None without a scheduler; else a ``distributed.Client``: the one given, or one connected here.

    ``scheduler`` is an address ``"tcp://host:port"``, a ``distributed.Client`` (returned as it is)
    or a cluster (e.g. ``LocalCluster``). Errors name ``argument`` (the caller's parameter) and,
    without the ``dask`` extra, ``purpose``. Also used by ``tvm_bridge.evaluate``'s ``client``.
    """
    if scheduler is None:
        return None
    try:
        from distributed import Client
    except ImportError as exc:
        raise missing_extra(f"{argument} = {scheduler!r} ({purpose})", "dask", exc) from None

    if isinstance(scheduler, Client):
        return scheduler
    if not isinstance(scheduler, str) and not hasattr(scheduler, "scheduler_address"):
        raise ConfigError(f"{argument} = {scheduler!r}; allowed: an address 'tcp://host:port', a "
                          "dask.distributed.Client or a cluster (e.g. LocalCluster)")
    try:
        return Client(scheduler, timeout="10s")
    except OSError as exc:
        raise ConfigError(f"{argument} = {scheduler!r}: cannot connect ({exc})") from None


def _in_window(todo: list[Point], submit: Callable, first_done: Callable, window: int) -> Iterator[tuple[Point, Any]]:
    """``(point, future)`` of ``submit(point)`` as futures finish, with at most ``window`` points in flight."""
    queue, running = collections.deque(todo), {}
    while queue or running:
        while queue and len(running) < window:
            future = submit(queue[0])
            running[future] = queue.popleft()
        done, _ = first_done(list(running))
        for future in done:
            yield running.pop(future), future


def _first_done(pending: list[futures.Future]) -> tuple[set, set]:
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
    except KeyboardInterrupt as interrupt:
        print(f"cimsim sweep: interrupted{f': {interrupt}' if str(interrupt) else ''}", file=sys.stderr)
        return 130
    print(f"{result.path}: {result.computed} points run ({result.errors} refused), {result.skipped} already there, "
          f"{result.wall_s:.1f} s, {result.points_per_s:.1f} points/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
