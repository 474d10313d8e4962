"""The CIM chip as the event engine sees it: layers placed on arrays and tiles, and their stages.

Placement (weight-stationary): every product with constant weights is programmed once onto its
own arrays (per group of a grouped convolution or head of a batched product), counted as
:mod:`cimsim.costs.array_counts` does (bit slices, sign encoding, rows empty in an array skipped,
arrays with no live row not used). Layers take arrays in execution order, tile after tile.

* ``chip.replication = "balance"``: spare arrays hold copies of the slowest layers (a copy
  takes a whole layer's arrays), each copy reading its own chunks;
* a workload needing more arrays than the chip has raises a :class:`ConfigError` that says how
  many it needs, unless ``chip.oversubscription = "reprogram"``: then every layer's cells are
  written once per batch (``device.write_energy_pj`` per cell, ``device.write_ns_per_row`` per
  row of an array, arrays in parallel), a layer larger than the chip runs in passes, and the
  engine runs one layer at a time.

A stage's chunk (see :mod:`cimsim.arch.chunking`) takes up to three steps: its inputs cross the
interconnect into the layer's first tile (bits / ``chip.noc_gbps``; on a ``mesh`` each tile
has its own input link and a transfer costs its hop count in energy, none from the same tile;
a ``bus`` is one link shared by all tiles); they pass the tile buffer, shared by the layers of
that tile (one copy of the stored rows' inputs in, broadcast to the arrays, and the outputs out,
at ``tile.buffer_gbps``; no step when ``tile.buffer_kib`` = 0); then the layer's arrays read its
vectors (:mod:`cimsim.costs.latency`; all of a layer's arrays in parallel; a vector every
``vector_ns``, the read pipeline's fill of a few ns not counted). Non-GEMM operations and activation × activation products
(attention) run on the digital units of their tile at ``chip.digital_gops_per_tile``
(2 operations per MAC).

Counts per inference of a layer: the arrays' actions, integrating ADCs' bias included
(:func:`cimsim.costs.array_reads.array_read_actions`, from input statistics in ``analytical``
fidelity, from data through :class:`~cimsim.crossbar.AnalogMatrix` in ``functional``
fidelity), plus data movement as the ``peak`` figures count it
(:func:`~cimsim.costs.array_reads.tile_movement`): the inputs (``input_bits`` each) cross the tile
buffer (written and read) and bus once, broadcast to the column arrays of their row block, outputs
(``output_bits``) are written to the buffer and cross the bus, and inputs cross ``hops`` links
of the interconnect.

Inputs: without data, each product's inputs are drawn from :mod:`cimsim.physics.input_model` (from
the operation that produced them: half zeros after a ReLU, signed and dense after a product
or GELU, ...); ``functional`` fidelity feeds each layer such a draw (and calibrates on another)
unless given real inputs, so its error is each layer's own, not the network's.

Limits: activations are not fetched from DRAM (tile buffers are taken to hold them).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cimsim.costs.area import array_count, area_breakdown_um2
from cimsim.config import ChipConfig
from cimsim.config import config_label
from cimsim.crossbar import AnalogMatrix
from cimsim.costs.energy import EnergyModel
from cimsim.workload import DIGITAL_OPS_PER_ELEMENT
from cimsim.errors import ConfigError, ShapeError, as_real_matrix
from cimsim.physics.input_model import InputModel, model_inputs
from cimsim.costs.array_counts import Footprint, counts_of_reading, measured_statistics
from cimsim.arch.plan_cache import input_statistics, layer_footprints, workload_structure
from cimsim.costs.array_reads import Reading, array_reading, tile_movement
from cimsim.costs.ledger import Ledger
from cimsim.costs.peak import workload_input_activity
from cimsim.physics.mapping import array_geometry
from cimsim.engine.plan import MachinePlan, StagePlan, Step
from cimsim.workload import Gemm, NonGemm, Workload

@dataclass
class _Layer:
    """A weight product being placed: its groups' footprints, arrays, copies and first tile."""

    gemm: Gemm
    footprints: list[Footprint]
    copies: int = 1
    tile: int = 0
    passes: int = 1
    counts: list[tuple[str, str, float]] = field(default_factory=list)
    relative_error: float | None = None
    signed: bool = True  # the inputs as the arrays see them (from the data, or from the input model)

    @cached_property
    def arrays(self) -> int:
        """Arrays of one copy (its footprints are set when the layer is made)."""
        return sum(fp.arrays for fp in self.footprints)


def _group_weights(gemm: Gemm) -> list[np.ndarray | None]:
    if gemm.weights is None:
        return [None] * gemm.count
    w = np.asarray(gemm.weights)
    return [w] if gemm.count == 1 else list(w)


def _checked_inputs(gemm: Gemm, x) -> np.ndarray:
    x = as_real_matrix(x, f"inputs[{gemm.name!r}]")
    if x.shape != (gemm.m, gemm.k):
        raise ShapeError(f"inputs[{gemm.name!r}]: expected shape ({gemm.m}, {gemm.k}), got {x.shape}")
    return x


def feature_map_bits(gemm: Gemm, input_bits: int) -> float:
    """Bits of one inference's input activations: a convolution's feature map, not its im2col matrix."""
    if gemm.conv is None:
        return gemm.m * gemm.k * gemm.count * input_bits
    conv = gemm.conv
    images = max(1, gemm.m // math.prod(conv.output_size))
    return images * conv.in_channels * math.prod(conv.input_size) * input_bits


CALIBRATION_VECTORS = 256  # a product with fewer vectors per inference is calibrated on this many


class CimArchitecture:
    """Builds the :class:`MachinePlan` of a workload on a CIM chip (module docstring)."""

    def __init__(self, cfg: ChipConfig, fidelity: str, seed: int, inputs: dict[str, np.ndarray] | None, batch: int = 1):
        self.cfg, self.fidelity, self.seed, self.batch = cfg, fidelity, seed, batch
        if inputs is not None and not isinstance(inputs, dict):
            raise ConfigError(f"inputs: expected a dict of layer name -> (M x K) array, got {type(inputs).__name__}")
        self.inputs = inputs or {}
        self._multiplexed = False
        self._readings: dict[bool, Reading] = {}
        self._vectors_ns: dict[bool, float] = {}
        self.energy = EnergyModel(cfg)
        self.arrays_per_tile = cfg.tile.arrays_per_group * cfg.tile.groups_per_tile
        self.notes: list[str] = []

    # ---- placement ----------------------------------------------------------------------------

    def _layers(self, workload: Workload, models: dict[str, InputModel], progress) -> dict[str, _Layer]:
        layers = {}
        for gemm in workload.gemms:
            if gemm.constant:
                if gemm.weights is None and self.fidelity == "functional":
                    raise ConfigError(f"fidelity = 'functional': product {gemm.name!r} has no weights (a workload "
                                      "loaded without them); allowed: 'analytical', or a workload with weights (.npz)")
                layers[gemm.name] = _Layer(gemm, layer_footprints(gemm, self.cfg))
                self._count_arrays(layers[gemm.name], models[gemm.name])
            progress()
        return layers

    def _place(self, layers: dict[str, _Layer], chunk_ns: dict[str, tuple[int, float, float]]) -> bool:
        """Assign tiles (and copies); True when the arrays are time-multiplexed."""
        needed, available = sum(layer.arrays for layer in layers.values()), array_count(self.cfg)
        if needed > available:
            if self.cfg.chip.oversubscription == "error":
                raise ConfigError(
                    f"the workload needs {needed:,} arrays and chip '{self.cfg.meta.name}' has {available:,} "
                    f"({self.cfg.chip.tiles} tiles); allowed: a larger chip (chip.tiles), or "
                    "chip.oversubscription = 'reprogram' to time-multiplex the arrays"
                )
            for layer in layers.values():
                layer.passes = math.ceil(layer.arrays / available)
            self.notes.append(f"time-multiplexed: {needed:,} arrays needed, {available:,} on the chip; "
                              "every layer's cells are rewritten once per batch, one layer at a time")
            return True
        if self.cfg.chip.replication == "balance":
            self._replicate(layers, chunk_ns, available - needed)
        used = 0
        for layer in layers.values():
            layer.tile = used // self.arrays_per_tile
            used += layer.arrays * layer.copies
        return False

    def _replicate(self, layers: dict[str, _Layer], chunk_ns: dict[str, tuple[int, float, float]], spare: int) -> None:
        """Copy the slowest layer (first in execution order on a tie) while a copy shortens it and fits.

        ``chunk_ns[layer]``: (work items of the batch, arrays time per item, time per item on the
        steps a copy does not multiply: the link and the tile buffer). A layer with r copies
        takes max(ceil(items / r)·arrays, items·other); a copy is added only when it cuts the
        rounds, and a layer whose link or buffer already limits it gets none.
        """
        def busy_ns(name: str, copies: int) -> float:
            items, arrays_ns, other_ns = chunk_ns[name]
            return max(math.ceil(items / copies) * arrays_ns, items * other_ns)

        def next_copies(name: str) -> int:  # the fewest copies that save a round
            items, copies = chunk_ns[name][0], layers[name].copies
            return copies + 1 if copies >= items else math.ceil(items / (math.ceil(items / copies) - 1))

        # the slowest first, the first in execution order among equals: a heap of (-busy, order)
        candidates = [(-busy_ns(name, layer.copies), order, name)
                      for order, (name, layer) in enumerate(layers.items()) if layer.arrays > 0]
        heapq.heapify(candidates)
        while candidates:  # a layer's one entry holds the busy time of its copies so far
            negative_busy, order, name = heapq.heappop(candidates)
            copies = next_copies(name)
            cost = layers[name].arrays * (copies - layers[name].copies)
            if copies > chunk_ns[name][0] or cost > spare:
                continue  # dropped: spare only shrinks
            busy = busy_ns(name, copies)
            if busy >= -negative_busy:
                continue  # dropped: its busy time did not change
            layers[name].copies, spare = copies, spare - cost
            heapq.heappush(candidates, (-busy, order, name))
        copied = {n: layer.copies for n, layer in layers.items() if layer.copies > 1}
        if copied:
            self.notes.append(f"replicated to balance the pipeline: {copied}")

    # ---- counting -----------------------------------------------------------------------------

    def _count_arrays(self, layer: _Layer, model: InputModel) -> None:
        """The arrays' actions for one inference of ``layer`` (expected, or counted from data)."""
        gemm = layer.gemm
        x = self.inputs.get(gemm.name)
        x = None if x is None else _checked_inputs(gemm, x)
        if self.fidelity == "analytical":
            stats = input_statistics(gemm.k, self.cfg, model, self.seed) if x is None else measured_statistics(x, self.cfg)
            layer.signed = stats.signed
            for fp in layer.footprints:
                layer.counts += counts_of_reading(fp, stats, gemm.m, self._reading(stats.signed), self.cfg)
            return
        rng = np.random.default_rng([self.seed, *gemm.name.encode()])  # a stream per layer, from the seed
        x_cal = x if x is not None else model_inputs(max(gemm.m, CALIBRATION_VECTORS), gemm.k, model, rng)
        x = x if x is not None else model_inputs(gemm.m, gemm.k, model, rng)
        layer.signed = bool(x.min() < 0)
        errors = []
        for w in _group_weights(gemm):
            if not np.isfinite(w).all():
                raise ShapeError(f"weights of {gemm.name!r} contain NaN or infinity")
            ledger, error = self._run_functional(w, x, x_cal, rng)
            layer.counts += [(c, a, n) for (_, c, a), n, _ in ledger.entries()]
            errors.append(error)
        layer.relative_error = float(np.sqrt(np.mean(np.square(errors))))

    def _run_functional(self, w: np.ndarray, x: np.ndarray, x_cal: np.ndarray, rng) -> tuple[Ledger, float]:
        """One inference through the programmed ``w``: its actions and its relative error against x @ w.

        Inputs are quantised, and calibrated ADCs set, from a separate draw of the same model
        (``x_cal``, at least :data:`CALIBRATION_VECTORS` vectors), as on a chip calibrated before
        it runs; given inputs calibrate themselves."""
        matrix = AnalogMatrix(w, self.cfg, seed=rng)
        matrix.calibrate(x_cal)
        matrix.ledger = Ledger()  # the reads of one inference, without the programming
        y = matrix.matmul(x)
        exact = x @ w
        norm = np.linalg.norm(exact)
        return matrix.ledger, float(np.linalg.norm(y - exact) / norm) if norm > 0 else 0.0

    def _reading(self, signed: bool) -> Reading:
        """How inputs of this signedness are streamed, converted and timed (cached: two at most)."""
        if signed not in self._readings:
            self._readings[signed] = array_reading(self.cfg, signed)
        return self._readings[signed]

    def _vector_ns(self, signed: bool) -> float:
        """Time per vector of inputs of this signedness once the read pipeline is full (cached: two at most)."""
        if signed not in self._vectors_ns:
            self._vectors_ns[signed] = self._reading(signed).timing.vector_ns
        return self._vectors_ns[signed]

    # ---- stages -------------------------------------------------------------------------------

    def _hops(self, source_tile: int, tile: int) -> int:
        if self.cfg.chip.noc_topology == "bus":
            return 1
        side = math.ceil(math.sqrt(self.cfg.chip.tiles))
        return abs(source_tile // side - tile // side) + abs(source_tile % side - tile % side)

    def _link(self, tile: int) -> str:
        return "bus" if self.cfg.chip.noc_topology == "bus" else f"link:{tile}"

    def _movement(self, layer: _Layer, hops: int) -> list[tuple[str, str, float]]:
        """Data movement of one inference: the stored rows' inputs once through the tile buffer and bus,
        broadcast to the column arrays, the outputs back, the whole input over ``hops`` links."""
        gemm, mapping = layer.gemm, self.cfg.mapping
        in_bits = gemm.m * mapping.input_bits * sum(fp.stored_rows for fp in layer.footprints)  # broadcast
        out_bits = gemm.m * gemm.n * mapping.output_bits * gemm.count
        return tile_movement(in_bits, out_bits) + [("noc", "bit_hops", feature_map_bits(gemm, mapping.input_bits) * hops)]

    def _ledger(self, name: str, counts: list[tuple[str, str, float]]) -> Ledger:
        ledger = Ledger()
        for component, action, count in counts:
            if count:
                self.energy.charge(ledger, component, action, count, layer=name)
        return ledger

    def _step_ns(self, layer: _Layer, n_chunks: int) -> tuple[float, float, float]:
        """Per chunk: the input's transfer over one link, the tile buffer's traffic, the arrays' reads (ns)."""
        gemm, cfg = layer.gemm, self.cfg
        vectors = gemm.m / n_chunks
        link_ns = feature_map_bits(gemm, cfg.mapping.input_bits) / n_chunks / cfg.chip.noc_gbps
        buffer_bits = vectors * (sum(fp.stored_rows for fp in layer.footprints) * cfg.mapping.input_bits
                                 + gemm.n * gemm.count * cfg.mapping.output_bits)  # one copy in, broadcast; outputs out
        buffer_ns = buffer_bits / cfg.tile.buffer_gbps if cfg.tile.buffer_kib > 0 else 0.0
        return link_ns, buffer_ns, vectors * self._vector_ns(layer.signed) * layer.passes

    def _weight_stage(self, layer: _Layer, chunks: tuple[int, str], source_tile: int) -> StagePlan:
        gemm, cfg = layer.gemm, self.cfg
        n_chunks, label = chunks
        link_ns, buffer_ns, read_ns = self._step_ns(layer, n_chunks)
        hops = self._hops(source_tile, layer.tile)
        steps = []
        if hops:
            steps.append(Step(self._link(layer.tile), link_ns))
        if cfg.tile.buffer_kib > 0:
            steps.append(Step(f"buffer:{layer.tile}", buffer_ns))
        steps.append(Step(f"arrays:{gemm.name}", read_ns))
        counts = layer.counts + self._movement(layer, hops)
        batch_steps, batch_counts = (), []
        if self._multiplexed:
            cells = sum(fp.stored_rows for fp in layer.footprints) * gemm.n * array_geometry(cfg).cells_per_weight
            rows_per_array = min(cfg.array.rows, max(fp.stored_rows for fp in layer.footprints))
            batch_steps = (Step(f"arrays:{gemm.name}", layer.passes * rows_per_array * cfg.device.write_ns_per_row),)
            batch_counts = [("cell", "writes", cells)]
        return StagePlan(
            name=gemm.name, kind="gemm", chunks=n_chunks, chunk_label=label, steps=tuple(steps),
            ledger=self._ledger(gemm.name, counts), macs=gemm.effective_macs, batch_steps=batch_steps,
            batch_ledger=self._ledger(gemm.name, batch_counts), arrays=layer.arrays * layer.copies,
        )

    def _digital_stage(self, op: Gemm | NonGemm, chunks: tuple[int, str], tile: int) -> StagePlan:
        """A non-GEMM operation, or an activation × activation product, on a tile's digital units."""
        if isinstance(op, Gemm):
            ops, macs = 2 * op.macs, op.macs
            bits = (op.m * op.k + op.k * op.n + op.m * op.n) * op.count * self.cfg.mapping.input_bits
            counts = [("digital", "ops", ops), ("buffer", "bits", bits)]
        else:
            ops, macs = op.elements * DIGITAL_OPS_PER_ELEMENT[op.kind], 0
            counts = [("digital", "ops", ops)]
        n_chunks, label = chunks
        step = Step(f"digital:{tile}", ops / n_chunks / self.cfg.chip.digital_gops_per_tile)
        return StagePlan(
            name=op.name, kind="digital", chunks=n_chunks, chunk_label=label, steps=(step,),
            ledger=self._ledger(op.name, counts), macs=macs,
        )

    def plan(self, workload: Workload, progress) -> tuple[MachinePlan, dict[str, float]]:
        products = {g.name for g in workload.gemms if g.constant}
        unknown = sorted(set(self.inputs) - products)
        if unknown:
            raise ConfigError(f"inputs: {unknown} are not products with weights of {workload.name!r}; "
                              f"allowed: {sorted(products)}")
        structure = workload_structure(workload)
        chunks, needs = structure.chunks, structure.needs()
        layers = self._layers(workload, structure.input_models, progress)
        chunk_ns = {}
        for name, layer in layers.items():
            link_ns, buffer_ns, read_ns = self._step_ns(layer, chunks[name][0])
            chunk_ns[name] = (self.batch * chunks[name][0], read_ns, max(link_ns, buffer_ns))
        self._multiplexed = self._place(layers, chunk_ns)
        tile_of: dict[str, int] = {}
        stages = []
        for op in workload.ops:
            source = tile_of.get(op.inputs[0], 0) if op.inputs else 0
            if op.name in layers:
                stage = self._weight_stage(layers[op.name], chunks[op.name], source)
                tile_of[op.name] = layers[op.name].tile
            else:
                tile_of[op.name] = source
                stage = self._digital_stage(op, chunks[op.name], source)
            stage.needs = dict(needs[op.name])
            stages.append(stage)
        resources = self._resources(stages, layers)
        errors = {n: layer.relative_error for n, layer in layers.items() if layer.relative_error is not None}
        return MachinePlan(
            config_name=config_label(self.cfg), architecture="cim", resources=resources, stages=stages,
            static_power_mw=self.cfg.energy.static_power_mw, area_breakdown_um2=area_breakdown_um2(self.cfg),
            notes=self.notes, precision=f"w{self.cfg.mapping.weight_bits}a{self.cfg.mapping.input_bits}",
            input_activity=workload_input_activity(self.cfg, [_layer_reads(layer) for layer in layers.values()],
                                                   self._readings),
        ), errors

    @staticmethod
    def _resources(stages: list[StagePlan], layers: dict[str, _Layer]) -> dict[str, int]:
        resources: dict[str, int] = {}
        for stage in stages:
            for step in (*stage.steps, *stage.batch_steps):
                name = step.resource.removeprefix("arrays:")
                resources[step.resource] = layers[name].copies if step.resource.startswith("arrays:") else 1
        return resources

    @property
    def multiplexed(self) -> bool:
        return self._multiplexed


def _layer_reads(layer: _Layer) -> tuple[bool, float, float, float]:
    """What :func:`~cimsim.costs.peak.workload_input_activity` needs of one inference of a layer."""
    totals = {("dac", "conversions"): 0.0, ("cell", "v2g_v2_us"): 0.0}
    for component, action, count in layer.counts:
        if (component, action) in totals:
            totals[(component, action)] += count
    return layer.signed, float(layer.gemm.effective_macs), *totals.values()
