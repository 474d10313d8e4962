"""Accuracy and cost of a classifier on simulated crossbars, from one call: :func:`evaluate`.

```python
import functools, cimsim, tvm_bridge, workloads
from workloads import digits

x, y = digits.dataset("test", "image")                       # 359 images, pixels / 16
x_cal, _ = digits.dataset("calibration", "image")            # 120 training images
ev = tvm_bridge.evaluate(functools.partial(workloads.get, "digits-cnn"), (x, y), cimsim.load_preset("pcm"),
                         seeds=range(5), calibration=x_cal, batch=120, drift_s=3600.0, compensate_drift=True)
print(ev.summary()); ev.to_dict()
```

For each seed, :func:`evaluate` offloads the model (``tvm_bridge.offload(mod, cfg, seed)``:
programming noise, faults and drift exponents drawn once, from the seed), compiles it with TVM
(``llvm``), then

1. **calibrates** at programming time (``drift_to(0)``: the programmed conductances) on
   ``calibration``, run as one call of ``batch`` images: every crossbar fixes its input scale
   (the largest |input| it sees maps to the top input code) and, with ``adc.range =
   "calibrated"``, its ADC ranges, on the inputs it receives in that call (the analog outputs of
   the layers before it; :func:`crossbar_vm`). The test set never takes part in calibration.
2. **drifts** (``drift_s`` given): every cell to ``drift_s`` seconds after programming
   (``AnalogMatrix.drift_to``; PCM: G(t) = G(t0)·(t/t0)^(−ν)), with or without the global drift
   compensation of :func:`drift_to`;
3. **measures** the test set in calls of ``batch`` images (the last call padded with zero images,
   whose outputs are dropped), with read and ADC noise drawn per call from the seed.

The float reference is TVM's own compiled model, without offload, on the same calls. The cost is
``cimsim.simulate`` of the model's extracted workload (``tvm_bridge.extract``) on ``cfg``, batch 1,
``analytical`` fidelity: energy in pJ and latency in ns of one inference, and TOPS/W (2 operations
per MAC with a non-zero weight, as simulate counts them). Same seeds, same numbers; read noise is
drawn per call, so the conditions of :func:`evaluate_over_time`, read one after another on the
same crossbars, see different draws.

``model`` is a function ``batch -> tvm.IRModule`` (e.g. ``functools.partial(workloads.get,
"digits-cnn")``), built with ``batch`` for the accuracy and with 1 for the cost; or a
``tvm.IRModule``, whose leading input dimension B is then the batch of every call (``batch`` must
be None or B) and whose cost is that of one call of B images divided by B (energy) or of the whole
call (latency; ``Evaluation.simulated_images`` says B).

``client`` (a ``distributed.Client``, a cluster or an address) runs each seed as one Dask task
with the same numbers (:mod:`tvm_bridge.evaluate_dask`); :func:`evaluate_configs` evaluates
several chips at once, every (chip, seed) one task. The input checks are in
:mod:`tvm_bridge.evaluate_inputs`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tvm
from tvm import relax

import cimsim
from cimsim.physics import GlobalDriftCompensation
from cimsim.errors import ConfigError
from tvm_bridge.evaluate_inputs import Run, input_shape, prepare
from tvm_bridge.extract import extract
from tvm_bridge.offload import OffloadedModel, im2col, model_of, offload, read_product, register, release, reset, write

TARGET = "llvm"


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` measured: accuracies (fractions of the test images), errors and cost.

    Per-seed tuples are in the order of ``seeds``. ``relative_errors`` are
    ‖Y − Y_float‖_F / ‖Y_float‖_F over the logits of the whole test set; ``agreements`` the
    fraction of test images whose top-1 class equals the float model's. ``energy_pj`` and
    ``latency_ns`` are of one inference (module docstring), ``tops_per_watt`` counts 2
    operations per MAC with a non-zero weight.
    """

    model: str
    chip: str
    seeds: tuple[int, ...]
    images: int
    batch: int
    drift_s: float | None
    compensate_drift: bool
    float_accuracy: float
    accuracies: tuple[float, ...]
    relative_errors: tuple[float, ...]
    agreements: tuple[float, ...]
    energy_pj: float
    latency_ns: float
    tops_per_watt: float
    simulated_images: int = 1

    @property
    def accuracy_mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def accuracy_std(self) -> float:
        """Sample standard deviation over seeds (ddof = 1; 0 for one seed)."""
        return float(np.std(self.accuracies, ddof=1)) if len(self.accuracies) > 1 else 0.0

    @property
    def accuracy_min(self) -> float:
        return float(min(self.accuracies))

    @property
    def accuracy_max(self) -> float:
        return float(max(self.accuracies))

    @property
    def relative_error_mean(self) -> float:
        return float(np.mean(self.relative_errors))

    @property
    def agreement_mean(self) -> float:
        return float(np.mean(self.agreements))

    def to_dict(self) -> dict:
        """Every field and the summary statistics, as plain Python values (JSON-ready)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data.update({k: list(v) for k, v in data.items() if isinstance(v, tuple)})
        for name in ("accuracy_mean", "accuracy_std", "accuracy_min", "accuracy_max", "relative_error_mean",
                     "agreement_mean"):
            data[name] = getattr(self, name)
        return data

    def summary(self) -> str:
        drift = "at programming" if self.drift_s is None else f"{self.drift_s:g} s after programming"
        if self.drift_s is not None:
            drift += ", compensated" if self.compensate_drift else ", uncompensated"
        return "\n".join([
            f"{self.model} on {self.chip}, {self.images} test images, {len(self.seeds)} seeds, {drift}",
            f"  float accuracy       {100 * self.float_accuracy:6.2f} %",
            f"  crossbar accuracy    {100 * self.accuracy_mean:6.2f} % ± {100 * self.accuracy_std:.2f} "
            f"(min {100 * self.accuracy_min:.2f}, max {100 * self.accuracy_max:.2f})",
            f"  top-1 agreement      {100 * self.agreement_mean:6.2f} %",
            f"  output rel. error    {self.relative_error_mean:.4f}",
            f"  energy / inference   {self.energy_pj:,.1f} pJ   latency {self.latency_ns:,.1f} ns"
            + (f" (a call of {self.simulated_images} images)" if self.simulated_images > 1 else "")
            + f"   {self.tops_per_watt:.2f} TOPS/W",
        ])


# ------------------------------------------------------------------------------------------
# crossbar-side steps on an offloaded module


def _product_vectors(product, x: np.ndarray) -> list[np.ndarray]:
    """The vectors each matrix of ``product`` reads for input ``x`` (a matmul's rows, a conv's im2col columns)."""
    if product.conv is None:
        (matrix,) = product.matrices
        return [x.reshape(-1, matrix.shape[0])]
    return list(im2col(x, product.conv)[0])


@dataclasses.dataclass
class Crossbars:
    """The crossbars a :func:`crossbar_vm` reads: one offloaded model at a time, and which of its
    products have calibrated."""

    model: OffloadedModel | None = None
    calibrated: set[int] = dataclasses.field(default_factory=set)

    def use(self, mod: tvm.IRModule) -> None:
        """Read the crossbars of offloaded ``mod`` from now on; they calibrate on their first call."""
        self.model = model_of(mod)
        self.calibrated = set()

    def call(self, x_tensor, model_id, index, out) -> None:
        """``cimsim.matmul`` / ``cimsim.conv2d`` on the current model (``model_id`` is not read)."""
        product = self.model.products[int(index)]
        inputs = np.from_dlpack(x_tensor)
        if int(index) not in self.calibrated:
            for matrix, vectors in zip(product.matrices, _product_vectors(product, inputs)):
                matrix.calibrate(vectors)
            self.calibrated.add(int(index))
        write(np.from_dlpack(out), read_product(self.model, product, inputs))


def crossbar_vm(executable, crossbars: Crossbars) -> relax.VirtualMachine:
    """A VM of a compiled offloaded module whose products read ``crossbars``' current model.

    On a model's first call each product's matrices calibrate (``AnalogMatrix.calibrate``: the
    input scale, and the ADC ranges when ``adc.range = "calibrated"``) on the inputs they receive,
    then read them; afterwards they read as offload's own functions do. So the first call
    calibrates the whole model on its inputs, layer after layer, each on the analog outputs of
    the layers before it. The same VM serves every offload of the same module and config (their
    products are numbered alike): each seed's crossbars without compiling again.

    How: a VM binds its external functions when it is made, so ``cimsim.matmul`` and
    ``cimsim.conv2d`` are registered to :meth:`Crossbars.call` while this VM is made, and
    offload's own are registered again right after (a VM made by another thread meanwhile would
    bind these).
    """
    for name in ("cimsim.matmul", "cimsim.conv2d"):
        tvm.register_global_func(name, crossbars.call, override=True)
    try:
        return relax.VirtualMachine(executable, tvm.cpu())
    finally:
        register()


def drift_to(mod: tvm.IRModule, t_s: float, *, compensate: bool = False) -> None:
    """Let every crossbar of offloaded ``mod`` drift to ``t_s`` seconds after programming.

    With ``compensate``, each matrix applies aihwkit's global drift compensation
    (``AnalogMatrix.set_drift_compensation`` with a
    :class:`~cimsim.physics.drift_compensation.GlobalDriftCompensation`: its outputs are scaled by
    the probe's readout at programming time over the readout now); without, it reads the drifted
    conductances as they are. Each call sets the compensation anew.
    """
    for product in model_of(mod).products:
        for matrix in product.matrices:
            matrix.drift_to(t_s)
            matrix.set_drift_compensation(GlobalDriftCompensation() if compensate else None)


# ------------------------------------------------------------------------------------------
# running


def run_batches(vm: relax.VirtualMachine, x: np.ndarray, batch: int) -> np.ndarray:
    """The model's outputs for every row of ``x``, in calls of ``batch`` (the last one zero-padded)."""
    outputs = []
    for start in range(0, x.shape[0], batch):
        chunk = x[start : start + batch]
        padded = np.zeros((batch,) + x.shape[1:], dtype=np.float32)
        padded[: chunk.shape[0]] = chunk
        outputs.append(vm["main"](tvm.runtime.tensor(padded)).numpy()[: chunk.shape[0]])
    return np.concatenate(outputs)


def crossbar_logits(mod, cfg, seeds, x: np.ndarray, calibration: np.ndarray, conditions) -> list[list[np.ndarray]]:
    """Per seed, the outputs of ``mod`` on crossbars programmed once with that seed, under each
    (drift_s, compensate) of ``conditions`` in turn (module docstring, steps 1–3; drift_s None: at
    programming). One compiled module and VM serve all seeds (:func:`crossbar_vm`)."""
    crossbars, vm, outputs = Crossbars(), None, []
    for seed in seeds:
        offloaded = offload(mod, cfg, seed=seed)
        try:
            if vm is None:
                vm = crossbar_vm(tvm.compile(offloaded, TARGET), crossbars)
            crossbars.use(offloaded)
            vm["main"](tvm.runtime.tensor(calibration))
            outputs.append([])
            for drift_s, compensate in conditions:
                drift_to(offloaded, 0.0 if drift_s is None else drift_s, compensate=compensate)
                reset(offloaded)
                outputs[-1].append(run_batches(vm, x, input_shape(mod)[0]))
        finally:
            release(offloaded)
    return outputs


def scores(logits: np.ndarray, reference: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(accuracy, relative error against ``reference``, top-1 agreement with ``reference``)."""
    accuracy = float(np.mean(logits.argmax(axis=1) == y))
    error = float(np.linalg.norm(logits - reference) / np.linalg.norm(reference))
    agreement = float(np.mean(logits.argmax(axis=1) == reference.argmax(axis=1)))
    return accuracy, error, agreement


def cost(mod: tvm.IRModule, cfg: cimsim.ChipConfig, images: int) -> tuple[float, float, float]:
    """(energy pJ per image, latency ns of one call, TOPS/W) of ``mod`` from ``cimsim.simulate``."""
    report = cimsim.simulate(extract(mod), cfg, batch=1, fidelity="analytical")
    return report.energy_pj / images, report.latency_ns, report.tops_per_watt


def float_logits(run: Run) -> np.ndarray:
    """The float reference: TVM's compiled ``run.mod``, without offload, on the test inputs."""
    return run_batches(relax.VirtualMachine(tvm.compile(run.mod, TARGET), tvm.cpu()), run.x, run.batch)


def assemble(run: Run, per_seed: list[list[np.ndarray]], reference: np.ndarray) -> list[Evaluation]:
    """One :class:`Evaluation` per condition of ``run`` from its logits per seed and condition."""
    energy_pj, latency_ns, tops_per_watt = cost(run.single, run.cfg, run.simulated_images)
    common = dict(
        model=extract_name(run.mod), chip=run.cfg.meta.name, seeds=run.seeds, images=run.x.shape[0], batch=run.batch,
        float_accuracy=float(np.mean(reference.argmax(axis=1) == run.y)), energy_pj=energy_pj, latency_ns=latency_ns,
        tops_per_watt=tops_per_watt, simulated_images=run.simulated_images,
    )
    evaluations = []
    for index, (drift_s, compensate) in enumerate(run.conditions):
        columns = zip(*(scores(logits[index], reference, run.y) for logits in per_seed))
        accuracies, errors, agreements = (tuple(column) for column in columns)
        evaluations.append(Evaluation(**common, drift_s=drift_s, compensate_drift=compensate, accuracies=accuracies,
                                      relative_errors=errors, agreements=agreements))
    return evaluations


def _evaluations(model, dataset, cfgs, seeds, calibration, batch, conditions, client) -> list[list[Evaluation]]:
    """Per chip of ``cfgs``, one :class:`Evaluation` per (drift_s, compensate) of ``conditions``, each seed
    programmed once; in this process, or with ``client`` on Dask (:mod:`tvm_bridge.evaluate_dask`)."""
    runs = [prepare(model, dataset, cfg, seeds, calibration, batch, conditions) for cfg in cfgs]
    reference = float_logits(runs[0])  # the same model and inputs for every chip
    if client is None:
        per_run = (crossbar_logits(run.mod, run.cfg, run.seeds, run.x, run.calibration, run.conditions)
                   for run in runs)  # one chip's crossbars at a time
    else:
        from tvm_bridge.evaluate_dask import dask_logits  # distributed, an optional extra, only when asked for

        per_run = dask_logits(runs, client)
    return [assemble(run, per_seed, reference) for run, per_seed in zip(runs, per_run)]


def evaluate(
    model: tvm.IRModule | Callable[[int], tvm.IRModule],
    dataset: tuple[np.ndarray, np.ndarray],
    cfg: cimsim.ChipConfig,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    calibration: np.ndarray,
    batch: int | None = None,
    drift_s: float | None = None,
    compensate_drift: bool = False,
    client: Any = None,
) -> Evaluation:
    """Accuracy over ``seeds`` and cost of one inference of ``model`` on ``cfg`` (module docstring).

    ``dataset`` is ``(x, y)``: inputs (N, *input shape without batch) and integer labels (N,);
    ``calibration`` is exactly ``batch`` inputs of the same shape, run as one call; ``drift_s``
    (seconds after programming; None: at programming) and ``compensate_drift`` as in
    :func:`drift_to`. ``client``: None runs every seed in this process; a ``distributed.Client``,
    a cluster or an address ``"tcp://host:port"`` runs each seed as one Dask task
    (:mod:`tvm_bridge.evaluate_dask`), with the same numbers. Errors: :class:`cimsim.ShapeError`
    for inputs or labels of the wrong shape (the message says the expected shape),
    :class:`cimsim.ConfigError` for bad seeds, batch, drift time, model, config or client.
    """
    conditions = [(drift_s, compensate_drift)]
    return _evaluations(model, dataset, [cfg], seeds, calibration, batch, conditions, client)[0][0]


def evaluate_over_time(
    model: tvm.IRModule | Callable[[int], tvm.IRModule],
    dataset: tuple[np.ndarray, np.ndarray],
    cfg: cimsim.ChipConfig,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    calibration: np.ndarray,
    times_s: Sequence[float],
    batch: int | None = None,
    client: Any = None,
) -> list[Evaluation]:
    """:func:`evaluate` at each of ``times_s`` after programming, without then with drift compensation
    (two evaluations per time, in that order); each seed is programmed and calibrated once for all
    (on Dask: one task per seed, which measures every time)."""
    if isinstance(times_s, (str, bytes)) or not isinstance(times_s, (Sequence, range)) or not times_s:
        raise ConfigError(f"times_s = {times_s!r}; allowed: a non-empty sequence of times >= 0 in seconds")
    conditions = [(t, compensate) for t in times_s for compensate in (False, True)]
    return _evaluations(model, dataset, [cfg], seeds, calibration, batch, conditions, client)[0]


def evaluate_configs(
    model: tvm.IRModule | Callable[[int], tvm.IRModule],
    dataset: tuple[np.ndarray, np.ndarray],
    cfgs: Sequence[cimsim.ChipConfig],
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    calibration: np.ndarray,
    batch: int | None = None,
    client: Any = None,
) -> list[Evaluation]:
    """:func:`evaluate` at programming time on each chip of ``cfgs``, one Evaluation per chip in order.

    In this process the chips run one after another (each one's crossbars released before the
    next); with ``client`` every (chip, seed) is one Dask task, all submitted at once.
    """
    if isinstance(cfgs, cimsim.ChipConfig) or not isinstance(cfgs, Sequence) or not cfgs:
        raise ConfigError(f"cfgs = {cfgs!r}; allowed: a non-empty sequence of cimsim.ChipConfig")
    return [evaluations[0] for evaluations in
            _evaluations(model, dataset, cfgs, seeds, calibration, batch, [(None, False)], client)]


def extract_name(mod: tvm.IRModule) -> str:
    """The model's name as ``workloads.get`` records it, or ``"main"``."""
    attrs = mod.attrs
    return str(attrs["cimsim.workload"]) if attrs is not None and "cimsim.workload" in attrs else "main"
