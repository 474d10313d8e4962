""":func:`tvm_bridge.evaluate` on Dask distributed: one task per (chip, seed), the same numbers.

The unit of work is one seed: a task builds the model's module (``model(batch)``, in the
worker), offloads it with that seed, calibrates and measures every condition, exactly as
:func:`tvm_bridge.evaluate.crossbar_logits` does in one process, and returns its logits (one
float32 array (N, classes) per condition). The main process computes the float reference and
the cost, and assembles the :class:`~tvm_bridge.evaluate.Evaluation` objects as the local run
does: a seed draws every random number of its crossbars, so the numbers do not depend on the
worker, their number or the order in which tasks finish.

What is sent: to each task its :class:`SeedWork` (the ``model`` function, pickled by Dask's
cloudpickle, the chip config, the test and calibration inputs as numpy arrays, the conditions)
and its seed; back, numpy arrays. No TVM object crosses processes, so ``model`` must be a
function ``batch -> IRModule`` (e.g. ``functools.partial(workloads.get, "digits-cnn")``): a
``tvm.IRModule`` is refused with a ConfigError (its bound weights are not serialised here). Every
worker needs cimsim, TVM and the modules ``model`` comes from (``workloads`` for zoo models).

A worker that dies (killed, out of memory) is restarted by its nanny and the scheduler runs its
tasks again elsewhere, up to ``distributed.scheduler.allowed-failures`` deaths per task (default
3); after that ``distributed.KilledWorker`` propagates from :func:`dask_logits`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import tvm

import cimsim
from cimsim.errors import ConfigError
from cimsim.sweep.run import connect
from tvm_bridge.evaluate import crossbar_logits
from tvm_bridge.evaluate_inputs import Run

IN_PROCESS = threading.Lock()
"""Held by a task while it runs: a worker with several threads (or the threads of a
``LocalCluster(processes=False)``) runs its tasks one at a time, as TVM's Relax builder and the
functions :func:`~tvm_bridge.evaluate.crossbar_vm` registers are global to the process."""


@dataclasses.dataclass(frozen=True)
class SeedWork:
    """What a worker needs to measure one chip's seeds: picklable, without TVM objects."""

    model: Callable[[int], tvm.IRModule]
    batch: int
    cfg: cimsim.ChipConfig
    x: np.ndarray
    calibration: np.ndarray
    conditions: tuple[tuple[float | None, bool], ...]

    def logits(self, seed: int) -> list[np.ndarray]:
        """The outputs under each condition of crossbars programmed with ``seed`` (runs in a worker)."""
        with IN_PROCESS:
            mod = self.model(self.batch)
            return crossbar_logits(mod, self.cfg, (seed,), self.x, self.calibration, self.conditions)[0]


def seed_work(run: Run) -> SeedWork:
    """The :class:`SeedWork` of ``run``; a ConfigError naming ``model`` when it cannot be sent to workers."""
    if isinstance(run.model, tvm.IRModule):
        raise ConfigError("model: a tvm.IRModule together with client; allowed with client: a function batch -> "
                          "IRModule that each worker calls, e.g. functools.partial(workloads.get, 'digits-cnn') "
                          "(a module's bound weights are not sent to workers)")
    from distributed.protocol.pickle import dumps

    try:
        dumps(run.model)
    except Exception as exc:  # cloudpickle raises PicklingError, TypeError or AttributeError: any means it cannot go
        raise ConfigError(f"model = {run.model!r} cannot be pickled for Dask workers ({exc}); allowed with client: "
                          "a picklable function batch -> IRModule, e.g. functools.partial(workloads.get, name)") from None
    return SeedWork(run.model, run.batch, run.cfg, run.x, run.calibration, run.conditions)


def dask_logits(runs: list[Run], client: Any) -> list[list[list[np.ndarray]]]:
    """Per run, per seed, the logits of each condition, every (run, seed) one task on ``client``.

    ``client``: a ``distributed.Client`` (left open), a cluster or an address (connected here and
    closed at the end); anything else is a ConfigError naming ``client``.
    """
    connected = connect(client, "client", "tvm_bridge.evaluate on Dask")
    try:
        works = [seed_work(run) for run in runs]
        tasks = [[connected.submit(work.logits, seed, pure=False) for seed in run.seeds] for work, run in zip(works, runs)]
        return connected.gather(tasks)
    finally:
        if connected is not client:
            connected.close()
