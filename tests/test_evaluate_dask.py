"""tvm_bridge.evaluate and the studies on Dask: one task per (setting, seed), the local run's numbers.

Each test runs on one 2-worker LocalCluster (single-thread worker processes) kept for the module;
the kill test comes last, as the nanny restarts the killed worker.
"""

from __future__ import annotations

import functools
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("tvm")
distributed = pytest.importorskip("distributed")

import cimsim  # noqa: E402
import tvm_bridge  # noqa: E402
import workloads  # noqa: E402
from cimsim.cli.parser import main as cimsim_main  # noqa: E402
from cimsim.sweep.table import read_table  # noqa: E402
from tvm_bridge import studies  # noqa: E402
from workloads import digits  # noqa: E402

MLP = functools.partial(workloads.get, "digits-mlp")
SEEDS = (0, 1, 2)
SIGMAS = (0.0, 0.02, 0.05, 0.1)  # program-noise study: 4 settings x 2 seeds = 8 tasks


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as connected:
        yield connected


def data():
    layout = digits.MODEL_LAYOUT["digits-mlp"]
    return digits.dataset("test", layout), digits.dataset("calibration", layout)[0]


def mlp_on_pcm(client=None) -> tvm_bridge.Evaluation:
    test, calibration = data()
    return tvm_bridge.evaluate(MLP, test, cimsim.load_preset("pcm"), SEEDS, calibration=calibration, client=client)


def as_rows(rows: list[dict]) -> tuple:
    """Rows as nested tuples of (key, value), in order: equal only if every key, value and row order is."""
    return tuple(tuple(r.items()) for r in rows)


@functools.cache
def local_noise_rows() -> tuple:
    """The program-noise study of the MLP run in this process (4 settings x 2 seeds)."""
    return as_rows(studies.program_noise("digits-mlp", sigmas=SIGMAS, seeds=(0, 1)))


def test_evaluate_on_two_workers_gives_the_local_numbers(client):
    local, dask = mlp_on_pcm(), mlp_on_pcm(client)
    # pcm's noise gives each seed its own numbers: the comparison sees which seed went where
    assert len(set(local.relative_errors)) == len(SEEDS)
    assert np.array_equal(dask.accuracies, local.accuracies)
    assert np.array_equal(dask.relative_errors, local.relative_errors)
    assert np.array_equal(dask.agreements, local.agreements)
    assert dask.to_dict() == local.to_dict()


def test_a_study_on_dask_gives_the_local_rows(client):
    rows = studies.program_noise("digits-mlp", sigmas=SIGMAS, seeds=(0, 1), client=client)
    assert as_rows(rows) == local_noise_rows()
    assert [r["device.program_noise"] for r in rows] == list(SIGMAS)
    # evaluate_over_time: one task per seed measures every condition
    local = studies.drift("digits-mlp", times_s=(60.0, 86400.0), seeds=(0, 1))
    assert as_rows(studies.drift("digits-mlp", times_s=(60.0, 86400.0), seeds=(0, 1), client=client)) == as_rows(local)
    assert [(r["drift_s"], r["compensated"]) for r in local] == [(60.0, False), (60.0, True), (86400.0, False),
                                                                 (86400.0, True)]


def test_a_bad_client_or_a_module_with_a_client_is_a_config_error(client):
    test, calibration = data()
    with pytest.raises(cimsim.ConfigError, match=r"client = 42; allowed: an address 'tcp://host:port', a "
                                                 r"dask.distributed.Client or a cluster"):
        tvm_bridge.evaluate(MLP, test, cimsim.load_preset("pcm"), (0,), calibration=calibration, client=42)
    with pytest.raises(cimsim.ConfigError, match=r"^model: a tvm.IRModule together with client; allowed with "
                                                 r"client: a function batch -> IRModule"):
        tvm_bridge.evaluate(MLP(120), test, cimsim.load_preset("pcm"), (0,), calibration=calibration, client=client)


def test_functional_sweep_points_on_dask_give_the_in_process_table(client, tmp_path, capsys):
    (tmp_path / "functional.toml").write_text('[sweep]\nchip = "rram-22nm"\nworkloads = "digits-mlp"\n'
                                              'fidelity = "functional"\nseeds = [0, 1]\n[grid]\n"adc.bits" = [4, 8]\n')
    sweep = str(tmp_path / "functional.toml")
    assert cimsim_main(["sweep", sweep, "--out", str(tmp_path / "local.csv"), "--workers", "1"]) == 0
    assert cimsim_main(["sweep", sweep, "--out", str(tmp_path / "dask.csv"), "--scheduler",
                        client.scheduler.address]) == 0
    local, dask = (read_table(tmp_path / name) for name in ("local.csv", "dask.csv"))
    assert len(local) == 4 and not [r for r in dask if r["error"]]
    assert all(r["layer_relative_error_rms"] > 0 for r in local)  # functional: the crossbars' outputs were measured
    assert [{**r, "wall_s": 0} for r in dask] == [{**r, "wall_s": 0} for r in local]


def test_a_killed_worker_s_tasks_run_again_with_the_same_numbers(client):
    runner = ThreadPoolExecutor(1)
    study = runner.submit(studies.program_noise, "digits-mlp", sigmas=SIGMAS, seeds=(0, 1), client=client)
    runner.shutdown(wait=False)
    in_hand = kill_busiest_worker(client, study)
    rows = study.result(timeout=120)
    assert in_hand >= 1, "the killed worker held no task"
    assert as_rows(rows) == local_noise_rows()
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


def kill_busiest_worker(client, running) -> int:
    """SIGKILL the worker process with the most tasks in hand, once one has any; how many it held."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not running.done():
        processing = client.processing()
        address = max(processing, key=lambda worker: len(processing[worker]), default=None)
        if address is not None and processing[address]:
            os.kill(client.run(os.getpid)[address], signal.SIGKILL)
            return len(processing[address])
        time.sleep(0.01)
    raise AssertionError(f"no worker held a task to kill (study done: {running.done()})")
