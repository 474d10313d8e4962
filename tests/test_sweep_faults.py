"""cimsim.sweep.run under faults: local and Dask workers killed mid-point, the sweep's own process killed at random.

Every test reports the point counts of the table it checks: expected, found, duplicated.
"""

import csv
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psutil
import pytest

import cimsim
from cimsim.sweep.run import MAX_WORKER_DEATHS, load_sweep, read_table, run_sweep
from cimsim.sweep.point import columns

SLOW = """
[sweep]
chip = "rram-22nm"
workloads = "gemm.npz"
fidelity = "functional"
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
"""
"""12 functional points of about 0.35 s each: long enough to kill a worker mid-point."""

MANY = """
[sweep]
chip = ["isaac", "rram-22nm"]
workloads = "small.npz"
batch = [1, 2, 4, 8]
seeds = [0, 1, 2, 3, 4, 5, 6, 7]
timing = "events"
[grid]
"adc.bits" = [4, 5, 6, 7, 8, 9, 10, 11]
"array.rows" = [32, 64, 128, 256]
"dac.bits" = [1, 2]
"""
"""4096 points of a few ms each (event timing; closed form, under 1 ms a point, would finish
the sweep between kills), for a sweep killed many times."""


@pytest.fixture(scope="module")
def fault_dir(tmp_path_factory):
    """Hand-built workloads (no TVM in the workers) and the sweep files SLOW and MANY."""
    folder = tmp_path_factory.mktemp("faults")
    rng = np.random.default_rng(0)
    for name, k, n in (("gemm", 256, 128), ("small", 64, 32)):
        weights = rng.standard_normal((k, n)).astype(np.float32)
        cimsim.Workload([cimsim.Gemm("fc", m=1, k=k, n=n, weights=weights)], name=name).save_npz(folder / f"{name}.npz")
    (folder / "slow.toml").write_text(SLOW)
    (folder / "many.toml").write_text(MANY)
    return folder


def whole_rows(path, spec):
    """The table's rows as text, checking that it is whole: the sweep's header, then rows of every column."""
    with path.open(newline="") as handle:
        table = list(csv.reader(handle))
    header = columns(spec.paths)
    assert table and table[0] == header, f"{path}: header {table[:1]}, expected {header}"
    cut = [row for row in table[1:] if len(row) != len(header)]
    assert not cut, f"{path}: {len(cut)} rows without {len(header)} cells, e.g. {cut[0]}"
    return table[1:]


def counts(rows, spec):
    """Point counts of a table: (expected, found, duplicated); ``found`` counts the sweep's points present."""
    ids = [row[0] for row in rows]
    expected = {point.id for point in spec.points}
    assert set(ids) <= expected, f"rows of points not in the sweep: {set(ids) - expected}"
    return len(expected), len(set(ids)), len(ids) - len(set(ids))


def describe(counted):
    """Point counts in words, for assertion messages."""
    return "expected {} points, found {}, duplicated {}".format(*counted)


def assert_each_point_once(path, spec):
    """The table holds every point of ``spec`` exactly once; its rows as dicts."""
    counted = counts(whole_rows(path, spec), spec)
    assert counted[1:] == (counted[0], 0), describe(counted)
    print(f"{path.name}: {describe(counted)}")  # pytest -s shows the counts of every fault test
    return read_table(path), counted


# --------------------------------------------------------------------------- local pool


def sweep_in_background(spec, out, **options):
    """A future of ``run_sweep(spec, out, **options)`` running in a thread of this process."""
    runner = ThreadPoolExecutor(1)
    future = runner.submit(run_sweep, spec, out, progress=False, flush_rows=1, **options)
    runner.shutdown(wait=False)
    return future


def kill_worker(out, sweep, spared, point_id=None):
    """SIGKILL a pool worker of the sweep writing ``out`` while it runs a point (``point_id`` if given).

    Workers are read from the records ``.OUT.*.running/<pid>`` (:mod:`cimsim.sweep.run`), and must be
    children of this process; those in ``spared`` (the processes of earlier pools) are left alone,
    and the one killed joins them.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not sweep.done():
        for record in out.parent.glob(f".{out.name}.*.running/*"):
            pid, running = int(record.name), read_record(record)
            children = {child.pid for child in psutil.Process().children()}
            if running and running == (point_id or running) and pid in children - spared:
                os.kill(pid, signal.SIGKILL)
                spared |= {pid} | {child.pid for child in psutil.Process().children()}
                return running
        time.sleep(0.005)
    raise AssertionError(f"no worker ran {point_id or 'a point'} to kill (sweep done: {sweep.done()})")


def read_record(record):
    """The point id in a worker's record; "" once it is gone."""
    try:
        return record.read_text()
    except FileNotFoundError:  # the point finished meanwhile
        return ""


def test_a_local_worker_killed_mid_point_is_replaced_and_the_sweep_completes(fault_dir, tmp_path):
    spec, out = load_sweep(fault_dir / "slow.toml"), tmp_path / "pool.csv"
    sweep, spared, kept = sweep_in_background(spec, out, workers=2), set(), []
    for _ in range(2):  # two deaths, two new pools
        kill_worker(out, sweep, spared)
        kept += whole_rows(out, spec)  # rows finished before the kill: they stay as they are
    result = sweep.result(timeout=120)
    rows, counted = assert_each_point_once(out, spec)
    assert (result.computed, result.errors) == (len(spec.points), 0), describe(counted)
    assert not [row for row in rows if row["error"]], describe(counted)
    after = whole_rows(out, spec)
    assert all(row in after for row in kept), describe(counted)
    assert not list(tmp_path.glob(".pool.csv.*")), f"records or temporaries left beside the table; {describe(counted)}"


def test_a_point_whose_worker_dies_three_times_gets_an_error_row(fault_dir, tmp_path):
    spec, out = load_sweep(fault_dir / "slow.toml"), tmp_path / "deaths.csv"
    target = spec.points[1].id
    sweep, spared = sweep_in_background(spec, out, workers=2), set()
    killed = [kill_worker(out, sweep, spared, target) for _ in range(MAX_WORKER_DEATHS)]
    result = sweep.result(timeout=120)
    rows, counted = assert_each_point_once(out, spec)
    assert killed == [target] * MAX_WORKER_DEATHS and result.errors == 1, describe(counted)
    errors = {row["point_id"]: row["error"] for row in rows if row["error"]}
    assert list(errors) == [target], f"{describe(counted)}; error rows: {errors}"
    assert f"died {MAX_WORKER_DEATHS} times (last exit code -9); not run again" in errors[target], describe(counted)
    assert next(row for row in rows if row["point_id"] == target)["energy_pj"] is None, describe(counted)


# --------------------------------------------------------------------------- Dask


def kill_dask_worker(client, out, spec):
    """SIGKILL the process of the Dask worker with the most points in hand, once the sweep has rows."""
    deadline = time.monotonic() + 60
    while not (out.exists() and whole_rows(out, spec)) and time.monotonic() < deadline:
        time.sleep(0.01)
    processing = client.processing()
    address = max(processing, key=lambda worker: len(processing[worker]))
    os.kill(client.run(os.getpid)[address], signal.SIGKILL)
    return len(processing[address])


@pytest.fixture
def dask_cluster(request):
    """A LocalCluster of 2 single-thread worker processes; ``request.param``: the scheduler's keyword arguments."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                       scheduler_kwargs=getattr(request, "param", {}))
    with cluster, distributed.Client(cluster) as client:
        yield client


def test_a_dask_worker_killed_mid_sweep_is_restarted_and_the_sweep_completes(dask_cluster, fault_dir, tmp_path):
    spec, out = load_sweep(fault_dir / "slow.toml"), tmp_path / "dask.csv"
    sweep = sweep_in_background(spec, out, scheduler=dask_cluster)
    in_hand = kill_dask_worker(dask_cluster, out, spec)
    result = sweep.result(timeout=120)
    rows, counted = assert_each_point_once(out, spec)
    assert in_hand >= 1, f"the killed worker held no point; {describe(counted)}"
    assert (result.computed, result.errors) == (len(spec.points), 0), describe(counted)
    assert not [row for row in rows if row["error"]], describe(counted)
    dask_cluster.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


@pytest.mark.parametrize("dask_cluster", [{"allowed_failures": 0}], indirect=True)
def test_a_point_dask_gives_up_on_gets_an_error_row_and_the_sweep_completes(dask_cluster, fault_dir, tmp_path):
    spec, out = load_sweep(fault_dir / "slow.toml"), tmp_path / "dask-gave-up.csv"
    sweep = sweep_in_background(spec, out, scheduler=dask_cluster)
    in_hand = kill_dask_worker(dask_cluster, out, spec)
    result = sweep.result(timeout=120)
    rows, counted = assert_each_point_once(out, spec)
    errors = [row["error"] for row in rows if row["error"]]
    assert 1 <= len(errors) == result.errors <= in_hand, f"{describe(counted)}; {in_hand} in hand; errors {errors}"
    assert all(error.startswith("Dask gave up on this point: ") for error in errors), f"{describe(counted)}; {errors}"
    assert result.computed == len(spec.points), describe(counted)


# --------------------------------------------------------------------------- the sweep's own process


KILLS = 20


def kill_sweep(script, delay, at_write, folder):
    """Run ``script`` (a sweep that prints "go" when about to start), SIGKILL it ``delay`` seconds after "go"
    (then, if ``at_write``, as soon as a table write's temporary file appears); whether a write was cut short."""
    stale = temporaries(folder)  # left by an earlier kill; the sweep deletes them
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                               env=os.environ | {"OMP_NUM_THREADS": "1"})
    try:
        assert process.stdout.readline() == "go\n"
        time.sleep(delay)
        deadline = time.monotonic() + 10
        while at_write and not temporaries(folder) - stale and process.poll() is None and time.monotonic() < deadline:
            pass
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, f"killed {delay:.3f} s after go: the sweep had ended"
    return bool(temporaries(folder) - stale)


def temporaries(folder):
    """The temporary files of table writes in ``folder``."""
    return set(folder.glob(".*.csv.*.tmp"))


def test_a_sweep_killed_at_random_moments_leaves_whole_tables_and_resumes_without_duplicates(fault_dir, tmp_path):
    """Half the kills at random moments, half as a write of the table begins: every table left is whole."""
    spec_path, out = fault_dir / "many.toml", tmp_path / "many.csv"
    spec, rng, found, cut = load_sweep(spec_path), random.Random(8), [], 0
    script = ("from cimsim.sweep.run import load_sweep, run_sweep\nfrom cimsim.sweep.point import run_point\n"
              f"spec = load_sweep({str(spec_path)!r})\n"
              "run_point(spec.points[0], spec.paths)\nprint('go', flush=True)\n"  # warm (imports, compilation), then go
              f"run_sweep(spec, {str(out)!r}, workers=1, resume=True, progress=False, flush_rows=1)\n")
    for kill in range(KILLS):
        cut += kill_sweep(script, rng.uniform(0.0, 0.25), kill % 2 == 1, tmp_path)
        counted = counts(whole_rows(out, spec), spec) if out.exists() else (len(spec.points), 0, 0)
        assert counted[2] == 0 and counted[1] >= max(found, default=0), f"kill {kill + 1}: {describe(counted)}"
        found.append(counted[1])
    before = whole_rows(out, spec)
    (tmp_path / ".many.csv.killed.running").mkdir()  # as a local pool killed with its sweep leaves it
    (tmp_path / ".many.csv.killed.running" / "record").write_text(spec.points[0].id)
    result = run_sweep(spec_path, out, workers=1, resume=True, progress=False)
    _, counted = assert_each_point_once(out, spec)
    story = f"{describe(counted)}; rows after each kill {found}; {cut} of {KILLS} kills cut a write short"
    assert cut >= 1 and 0 < len(before) < len(spec.points), story
    assert (result.skipped, result.computed) == (len(before), len(spec.points) - len(before)), story
    assert all(row in whole_rows(out, spec) for row in before), story
    assert not list(tmp_path.glob(".many.csv.*")), story
