"""The CIM chip as the event engine sees it: layers placed on arrays and tiles, and their stages.

Placement (weight-stationary): every product with constant weights is programmed once onto its
own arrays (per group of a grouped convolution or head of a batched product), counted as
:mod:`cimsim.costs.array_counts` does (bit slices, sign encoding, rows empty in an array skipped,
arrays with no live row not used). Layers take arrays in execution order, tile after tile.

* ``chip.replication = "balance"``: spare arrays hold copies of the slowest layers (a copy
  takes a whole layer's arrays), each copy reading its own chunks;
* a workload needing more arrays than the chip has raises a :class:`ConfigError` that says how
  many it needs, unless ``chip.oversubscription = "reprogram"``: then every layer's cells are
  streamed from DRAM and written once per batch (``chip.dram_gbps``, ``energy.dram_pj_per_bit``
  per weight bit; ``device.write_energy_pj`` per cell, ``device.write_ns_per_row`` per row of an
  array, arrays in parallel), a layer larger than the chip runs in passes, and the
  engine runs one layer at a time.

A stage's chunk (see :mod:`cimsim.arch.chunking`) takes up to four steps: its inputs cross the
interconnect into the layer's first tile (:mod:`cimsim.arch.noc`: every link of the XY route
held for bits / ``chip.noc_gbps`` plus a pipeline delay per hop; none from the same tile on a
mesh; a ``bus`` is one link shared by all tiles); they pass the tile buffer, shared by the layers
of that tile (one copy of the stored rows' inputs in, broadcast to the arrays, and the outputs
out, at ``tile.buffer_gbps``; no step when ``tile.buffer_kib`` = 0), the share that overflows the
buffer's capacity going to the global buffer or DRAM instead (:mod:`cimsim.arch.memory`); then
the layer's arrays read its vectors (:mod:`cimsim.costs.latency`; all of a layer's arrays in
parallel; a vector every ``vector_ns``, its ADC stage taken once per array of the layer that
its busiest ADC bank serves when ``adc.arrays_per_adc`` > 1, holding the banks it shares with
other layers; the read pipeline's fill of a few ns not counted). Every transfer between tiles
is one :meth:`CimArchitecture._transfer_step`. Non-GEMM operations and activation × activation
products (attention) run on the digital units of the tiles that hold their inputs, split over
several tiles when one would be the bottleneck, their operands moved and priced
(:mod:`cimsim.arch.digital`). With ``chip.attention_on = "crossbar"`` an attention product is
placed on arrays like a weight product, its second operand (keys, values) crossing into the
layer's tile and written into the cells every inference (``device.write_energy_pj`` per cell;
``device.write_ns_per_row`` per row of an array, the arrays in parallel, spread over the
inference's chunks), its reads counted from the input model as in ``analytical`` fidelity.

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

Limits: the network's own inputs and outputs are not moved to or from DRAM (docs/scheduler.md).
"""

from __future__ import annotations

import functools
import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from cimsim.costs.area import array_count, area_breakdown_um2
from cimsim.arch.memory import NO_SPILL, MemoryHierarchy, Spill, resident_bits, split_counts
from cimsim.arch.noc import Noc
from cimsim.config import ChipConfig
from cimsim.config import config_label
from cimsim.crossbar import AnalogMatrix
from cimsim.costs.energy import EnergyModel
from cimsim.arch.digital import (chunk_shares, digital_counts, digital_kind, digital_ns, digital_ops, gops_per_tile,
                                 operand_bits, output_bits, spread_tiles)
from cimsim.errors import ConfigError, ShapeError, as_real_matrix
from cimsim.physics.input_model import InputModel, model_inputs
from cimsim.costs.array_counts import Footprint, activity_per_vector, counts_of_expected, measured_statistics
from cimsim.arch.plan_cache import expected_activity, input_statistics, layer_footprints, workload_structure
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
    tiles: int = 1  # tiles its arrays (all copies) span, from ``tile`` on
    first_array: int = 0  # chip-wide index of its first array (copies follow one another)
    passes: int = 1
    counts: list[tuple[str, str, float]] = field(default_factory=list)
    relative_error: float | None = None
    signed: bool = True  # the inputs as the arrays see them (from the data, or from the input model)
    arrays: int = field(init=False)  # arrays of one copy
    stored_rows: int = field(init=False)  # rows stored over its groups (each group's K less its empty rows)

    def __post_init__(self) -> None:  # from the footprints, which are set when the layer is made
        self.arrays = sum(fp.arrays for fp in self.footprints)
        self.stored_rows = sum(fp.stored_rows for fp in self.footprints)


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
        self._vectors_ns: dict[tuple[bool, int], float] = {}
        self.energy = EnergyModel(cfg)
        self.noc = Noc(cfg)
        self.memory = MemoryHierarchy(cfg)
        self.arrays_per_tile = cfg.tile.arrays_per_group * cfg.tile.groups_per_tile
        self.notes: list[str] = []
        self._bank_users: dict[str, int] = {}  # ADC bank -> layers whose arrays it serves
        self._tile_of: dict[str, int] = {}  # the tile of each operation's output (a split one's first tile)
        self._produced_bits: dict[str, float] = {}  # bits of each operation's output per inference
        self._placed_step_ns: dict[str, tuple[float, float, float]] = {}  # link, buffer, read ns of each placed layer

    # ---- placement ----------------------------------------------------------------------------

    def _layers(self, workload: Workload, models: dict[str, InputModel], progress) -> dict[str, _Layer]:
        layers = {}
        on_crossbar = self.cfg.chip.attention_on == "crossbar"
        for gemm in workload.gemms:
            if gemm.constant or on_crossbar:
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
                layer.tiles = min(self.cfg.chip.tiles, max(1, -(-layer.arrays // self.arrays_per_tile)))
            self.notes.append(f"time-multiplexed: {needed:,} arrays needed, {available:,} on the chip; "
                              "every layer's cells are rewritten once per batch, one layer at a time")
            return True
        if self.cfg.chip.replication == "balance":
            self._replicate(layers, chunk_ns, available - needed)
        used = 0
        for layer in layers.values():
            layer.tile, layer.first_array = used // self.arrays_per_tile, used
            used += layer.arrays * layer.copies
            layer.tiles = max(1, -(-used // self.arrays_per_tile) - layer.tile)
        return False

    def _replicate(self, layers: dict[str, _Layer], chunk_ns: dict[str, tuple[int, float, float]], spare: int) -> None:
        """Copy the slowest layer (first in execution order on a tie) while a copy shortens it and fits.

        ``chunk_ns[layer]``: (work items of the batch, arrays time per item, time per item on the
        steps a copy does not multiply: the link and the tile buffer). A layer with r copies
        takes max(ceil(items / r)·arrays, items·other); a copy is added only when it cuts the
        rounds, and a layer whose link or buffer already limits it gets none.
        """
        # plain locals (a sweep point runs this loop tens of times per plan): name -> [work items, arrays
        # time per item, other time per item, arrays of a copy, index in _round_saving_copies(items)]
        state = {name: [*chunk_ns[name], layer.arrays, 0]  # a layer comes with one copy: the first entry
                 for name, layer in layers.items() if layer.arrays > 0 and layer.gemm.constant}
        # the slowest first, the first in execution order among equals: a heap of (-busy, order)
        candidates = [(-max(_round_saving_copies(items)[0][1] * arrays_ns, items * other_ns), order, name)
                      for order, (name, (items, arrays_ns, other_ns, _, _)) in enumerate(state.items())]
        heapq.heapify(candidates)
        while candidates:  # a layer's one entry holds the busy time of its copies so far
            negative_busy, order, name = heapq.heappop(candidates)
            entry = state[name]
            items, arrays_ns, other_ns, arrays, index = entry
            steps, other_busy = _round_saving_copies(items), items * other_ns
            while index + 1 < len(steps):  # copies for it while it stays the slowest (what popping it again would do)
                (copies, _), (more, more_rounds) = steps[index], steps[index + 1]
                cost = arrays * (more - copies)
                if cost > spare:
                    break  # dropped: spare only shrinks
                busy = max(more_rounds * arrays_ns, other_busy)
                if busy >= -negative_busy:
                    break  # dropped: its busy time did not change
                index, spare, negative_busy = index + 1, spare - cost, -busy
                key = (negative_busy, order, name)
                if candidates and key > candidates[0]:  # another layer is now the slowest (orders differ)
                    heapq.heappush(candidates, key)
                    break
            entry[4] = index
        for name, entry in state.items():
            layers[name].copies = _round_saving_copies(entry[0])[entry[4]][0]
        copied = {n: layer.copies for n, layer in layers.items() if layer.copies > 1}
        if copied:
            self.notes.append(f"replicated to balance the pipeline: {copied}")

    # ---- counting -----------------------------------------------------------------------------

    def _count_arrays(self, layer: _Layer, model: InputModel) -> None:
        """The arrays' actions for one inference of ``layer`` (expected, or counted from data)."""
        gemm = layer.gemm
        x = self.inputs.get(gemm.name)
        x = None if x is None else _checked_inputs(gemm, x)
        if self.fidelity == "analytical" or not gemm.constant:  # an attention product has no weights to run
            if x is None:  # modelled inputs: statistics and footprints cached, so their activity too
                stats = input_statistics(gemm.k, self.cfg, model, self.seed)
                per_vector = [expected_activity(fp, stats) for fp in layer.footprints]
            else:
                stats = measured_statistics(x, self.cfg)
                per_vector = [activity_per_vector(fp, stats) for fp in layer.footprints]
            layer.signed, reading = stats.signed, self._reading(stats.signed)
            for fp, activity in zip(layer.footprints, per_vector):
                layer.counts += counts_of_expected(fp, activity, gemm.m, reading, self.cfg)
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

    def _vector_ns(self, signed: bool, adc_turns: int = 1) -> float:
        """Time per vector of inputs of this signedness once the read pipeline is full, its ADC bank
        serving ``adc_turns`` of its arrays in turn (cached)."""
        if (signed, adc_turns) not in self._vectors_ns:
            self._vectors_ns[signed, adc_turns] = self._reading(signed).timing.with_adc_turns(adc_turns).vector_ns
        return self._vectors_ns[signed, adc_turns]

    def _adc_turns(self, layer: _Layer) -> int:
        """Arrays of ``layer`` that its busiest ADC bank converts in turn (1 without sharing)."""
        if self._multiplexed:  # one layer at a time, its arrays filling the chip's banks from the first
            return min(self.cfg.adc.arrays_per_adc, layer.arrays)
        if self.cfg.adc.arrays_per_adc == 1:  # an ADC per array: no bank to count
            return 1
        return max(self._adc_banks(layer).values(), default=1)

    def _adc_banks(self, layer: _Layer) -> dict[str, int]:
        """The ADC banks a layer's arrays use (``adcs:<tile>.<bank>``) and how many of its arrays each
        serves; none to contend for without sharing, or when layers run one at a time."""
        share = self.cfg.adc.arrays_per_adc
        if share == 1 or self._multiplexed:
            return {}
        banks: dict[str, int] = {}
        for array in range(layer.first_array, layer.first_array + layer.arrays * layer.copies):
            tile, index = divmod(array, self.arrays_per_tile)
            name = f"adcs:{tile}.{index // share}"
            banks[name] = banks.get(name, 0) + 1
        return banks

    # ---- stages -------------------------------------------------------------------------------

    def _transfer_step(self, source_tile: int, tile: int, bits: float) -> Step | None:
        """Moving ``bits`` from one tile to another over the interconnect (:mod:`cimsim.arch.noc`)."""
        return self.noc.transfer_step(source_tile, tile, bits)

    def _movement(self, layer: _Layer, hops: int) -> list[tuple[str, str, float]]:
        """Data movement of one inference: the stored rows' inputs once through the tile buffer and bus,
        broadcast to the column arrays, the outputs back, the whole input over ``hops`` links."""
        gemm, mapping = layer.gemm, self.cfg.mapping
        in_bits = gemm.m * mapping.input_bits * layer.stored_rows  # broadcast
        out_bits = gemm.m * gemm.n * mapping.output_bits * gemm.count
        return tile_movement(in_bits, out_bits) + [("noc", "bit_hops", feature_map_bits(gemm, mapping.input_bits) * hops)]

    def _ledger(self, name: str, counts: list[tuple[str, str, float]]) -> Ledger:
        ledger = Ledger()
        if not counts:  # a stage without batch work
            return ledger
        self.energy.charge_all(ledger, [(component, action, count) for component, action, count in counts if count], name)
        return ledger

    def _buffer_bits(self, layer: _Layer, n_chunks: int) -> float:
        """Tile buffer traffic of one chunk: one copy of the stored rows' inputs in, broadcast; outputs out."""
        gemm, mapping = layer.gemm, self.cfg.mapping
        return gemm.m / n_chunks * (layer.stored_rows * mapping.input_bits
                                    + gemm.n * gemm.count * mapping.output_bits)

    def _moving_ns(self, layer: _Layer, n_chunks: int) -> tuple[float, float]:
        """Per chunk: the input's serialisation on one link and the tile buffer's traffic (ns; placement
        does not change them)."""
        gemm, cfg = layer.gemm, self.cfg
        link_ns = feature_map_bits(gemm, cfg.mapping.input_bits) / n_chunks / cfg.chip.noc_gbps
        buffer_ns = self._buffer_bits(layer, n_chunks) / cfg.tile.buffer_gbps if cfg.tile.buffer_kib > 0 else 0.0
        return link_ns, buffer_ns

    def _read_ns(self, layer: _Layer, n_chunks: int) -> float:
        """Per chunk: the arrays' reads (ns), as placed so far (ADC banks shared, passes)."""
        return layer.gemm.m / n_chunks * self._vector_ns(layer.signed, self._adc_turns(layer)) * layer.passes

    def _contended_banks(self, layer: _Layer) -> tuple[str, ...]:
        """The banks a layer shares with other layers: held with its arrays while it reads (one copy only:
        a replicated layer's chunks go to any copy, so its banks are taken as its own)."""
        if layer.copies > 1:
            return ()
        return tuple(bank for bank in self._adc_banks(layer) if self._bank_users[bank] > 1)

    def _weight_stage(self, layer: _Layer, chunks: tuple[int, str], source_tile: int, spill: Spill) -> StagePlan:
        gemm, cfg = layer.gemm, self.cfg
        n_chunks, label = chunks
        _, buffer_ns, read_ns = self._placed_step_ns[gemm.name]  # per chunk of n_chunks
        steps = [self._transfer_step(source_tile, layer.tile, feature_map_bits(gemm, cfg.mapping.input_bits) / n_chunks)]
        counts = layer.counts + split_counts(spill, self._movement(layer, self.noc.hops(source_tile, layer.tile)))
        batch_steps, batch_counts = (), []
        if not gemm.constant:  # attention on crossbars: its second operand comes in and is written every inference
            cells, write_ns = self._write(layer)
            operand_source, bits, _ = operand_bits(gemm, cfg.mapping.input_bits)[1]
            source = self._tile_of.get(operand_source, 0)
            bits = min(bits, self._produced_bits.get(operand_source, bits))  # a cache stays on the tile
            steps.append(self._transfer_step(source, layer.tile, bits / n_chunks))
            counts = counts + [("cell", "writes", cells), ("noc", "bit_hops", bits * self.noc.hops(source, layer.tile))]
            read_ns += write_ns / n_chunks
        elif self._multiplexed:
            cells, write_ns = self._write(layer)
            weight_bits = layer.stored_rows * gemm.n * cfg.mapping.weight_bits
            batch_steps = (self.memory.dram_step(weight_bits), Step(f"arrays:{gemm.name}", write_ns))  # streamed in, written
            batch_counts = [("dram", "bits", weight_bits), ("cell", "writes", cells)]
        if cfg.tile.buffer_kib > 0:
            steps.append(Step(f"buffer:{layer.tile}", buffer_ns * (1 - spill.fraction)))
            if spill.level:  # the share that overflows the buffer
                steps.append(self.memory.step(spill, self._buffer_bits(layer, n_chunks)))
        steps = _merged(steps) + [Step(f"arrays:{gemm.name}", read_ns, also=self._contended_banks(layer))]
        return StagePlan(
            name=gemm.name, kind="gemm", chunks=n_chunks, chunk_label=label, steps=tuple(steps),
            ledger=self._ledger(gemm.name, counts), macs=gemm.effective_macs, batch_steps=batch_steps,
            batch_ledger=self._ledger(gemm.name, batch_counts), arrays=layer.arrays * layer.copies,
        )

    def _write(self, layer: _Layer) -> tuple[float, float]:
        """Cells written to program ``layer`` once, and the time (ns): ``device.write_ns_per_row`` per row
        of an array, the arrays in parallel, once per pass."""
        cfg = self.cfg
        cells = layer.stored_rows * layer.gemm.n * array_geometry(cfg).cells_per_weight
        rows_per_array = min(cfg.array.rows, max(fp.stored_rows for fp in layer.footprints))
        return cells, layer.passes * rows_per_array * cfg.device.write_ns_per_row

    def _digital_stage(self, op: Gemm | NonGemm, chunks: tuple[int, str], tiles: list[int], fused: bool,
                       spills: dict[int, Spill]) -> StagePlan:
        """A non-GEMM operation, or an activation × activation product, on the digital units of ``tiles``
        (:mod:`cimsim.arch.digital`): chunk j on tiles[j mod k]. Per chunk on tile t: each operand
        not already on t crosses to t (a streamed operand its chunk's share, a whole one its
        share of all of it over t's chunks; at most what its producer output this inference, the
        rest, a cache such as the past keys and values of a decoder, resident on t), t's buffer
        reads the operands and writes the output (the share that overflows it going to its spill
        level, ``spills[t]``), then t's digital units compute. ``fused``: an activation applied on
        its product's output path (ISAAC's sigmoid unit between the output registers and the
        buffer, ISAAC-32), with no buffer traffic of its own."""
        cfg, bits = self.cfg, self.cfg.mapping.input_bits
        n_chunks, label = chunks
        shares = chunk_shares(n_chunks, len(tiles))
        operands = [(self._tile_of.get(producer, 0), size, whole, min(size, self._produced_bits.get(producer, size)))
                    for producer, size, whole in operand_bits(op, bits)]
        out_bits = 0.0 if fused else output_bits(op, bits)
        compute_ns = digital_ops(op) / n_chunks / gops_per_tile(cfg, digital_kind(op))
        alternates, counts = [], digital_counts(op)
        multicast = cfg.chip.noc_multicast and len(tiles) > 1  # whole operands then go down one tree
        trees = []
        if multicast:
            sent = [(source, new) for source, _, whole, new in operands if whole]
            # sent once, spread over every chunk
            trees = [self.noc.multicast_step(source, tiles, new / n_chunks) for source, new in sent]
            counts += [("noc", "bit_hops", new * len(self.noc.tree(source, tiles))) for source, new in sent]
        buffered = cfg.tile.buffer_kib > 0
        for tile, share in zip(tiles, shares):
            moved: dict[int, float] = {}  # source tile -> bits a chunk brings from it: one transfer each
            read_bits = 0.0  # operands read from the tile's buffer per chunk
            for source, size, whole, new in operands:
                f = 1 / share if whole else 1 / n_chunks
                # an operand already in the tile's own buffer does not move
                if source != tile and not (multicast and whole):
                    moved[source] = moved.get(source, 0.0) + new * f
                read_bits += size * f
            steps = [] if not (trees or moved) else _merged(  # most digital work stays on its inputs' tile
                [*trees, *(self._transfer_step(source, tile, b) for source, b in moved.items())])
            counts.append(("noc", "bit_hops", sum(b * share * self.noc.hops(source, tile) for source, b in moved.items())))
            chunk_buffer_bits = (0.0 if fused else read_bits) + out_bits / n_chunks  # operands read, output written
            spill = spills.get(tile, NO_SPILL)
            counts += split_counts(spill, [("buffer", "bits", chunk_buffer_bits * share)])
            if buffered and chunk_buffer_bits > 0:
                steps.append(Step(f"buffer:{tile}", chunk_buffer_bits * (1 - spill.fraction) / cfg.tile.buffer_gbps))
                if spill.level:
                    steps.append(self.memory.step(spill, chunk_buffer_bits))
            steps.append(Step(f"digital:{tile}", compute_ns))
            alternates.append(tuple(steps))
        return StagePlan(
            name=op.name, kind="digital", chunks=n_chunks, chunk_label=label, steps=alternates[0],
            ledger=self._ledger(op.name, counts), macs=op.macs if isinstance(op, Gemm) else 0,
            alternates=tuple(alternates) if len(alternates) > 1 else (),
        )

    def _period_ns(self, layers: dict[str, _Layer], chunks: dict[str, tuple[int, str]]) -> float:
        """What the pipeline hides per inference: the busiest weight layer's busy time per inference on
        its arrays (its chunks over its copies) or its link and buffer (ns); infinite without one."""
        busiest = 0.0
        for name, layer in layers.items():
            items = chunks[name][0]
            link_ns, buffer_ns, read_ns = self._placed_step_ns[name]
            busiest = max(busiest, math.ceil(items / layer.copies) * read_ns, items * max(link_ns, buffer_ns))
        return busiest if busiest > 0 else math.inf

    def plan(self, workload: Workload, progress) -> tuple[MachinePlan, dict[str, float]]:
        if self.inputs:
            products = {g.name for g in workload.gemms if g.constant}
            unknown = sorted(set(self.inputs) - products)
            if unknown:
                raise ConfigError(f"inputs: {unknown} are not products with weights of {workload.name!r}; "
                                  f"allowed: {sorted(products)}")
        structure = workload_structure(workload)
        chunks, needs = structure.chunks, structure.needs()
        layers = self._layers(workload, structure.input_models, progress)
        moving_ns = {name: self._moving_ns(layer, chunks[name][0]) for name, layer in layers.items()}
        chunk_ns = {name: (self.batch * chunks[name][0], self._read_ns(layer, chunks[name][0]), max(moving_ns[name]))
                    for name, layer in layers.items()}
        self._multiplexed = self._place(layers, chunk_ns)
        self._bank_users = {}
        for layer in layers.values():
            for bank in self._adc_banks(layer):
                self._bank_users[bank] = self._bank_users.get(bank, 0) + 1
        self._placed_step_ns = {name: (*moving_ns[name], self._read_ns(layer, chunks[name][0]))
                                for name, layer in layers.items()}
        places, fused = self._place_digital(workload, layers, chunks)
        spills = self._spills(workload, layers, chunks, places)
        stages = []
        for op in workload.ops:
            source = self._tile_of.get(op.inputs[0], 0) if op.inputs else 0
            if op.name in layers:
                spill = spills.get(op.name, {}).get(layers[op.name].tile, NO_SPILL)
                stage = self._weight_stage(layers[op.name], chunks[op.name], source, spill)
            else:
                stage = self._digital_stage(op, chunks[op.name], places[op.name], op.name in fused,
                                            spills.get(op.name, {}))
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

    def _place_digital(self, workload: Workload, layers: dict[str, _Layer],
                       chunks: dict[str, tuple[int, str]]) -> tuple[dict[str, list[int]], set[str]]:
        """The tiles of every operation (a weight product's first tile; digital work by
        :func:`~cimsim.arch.digital.spread_tiles`), and the activations fused on their product's
        output path. Sets ``_tile_of`` and ``_produced_bits`` for the stages."""
        period_ns = self._period_ns(layers, chunks)
        self._tile_of, self._produced_bits = {}, {}
        load_ns: dict[int, float] = {}  # digital time per inference placed on each tile
        places, fused = {}, set()
        for op in workload.ops:
            source = self._tile_of.get(op.inputs[0], 0) if op.inputs else 0
            if op.name in layers:
                places[op.name] = [layers[op.name].tile]
            else:
                op_ns, n_chunks = digital_ns(self.cfg, op), chunks[op.name][0]
                tiles = spread_tiles(op_ns, period_ns, source, load_ns, n_chunks, self.noc.hops_from(source))
                for tile, share in zip(tiles, chunk_shares(n_chunks, len(tiles))):
                    load_ns[tile] = load_ns.get(tile, 0.0) + op_ns * share / n_chunks
                places[op.name] = tiles
                if (isinstance(op, NonGemm) and op.kind == "activation" and len(op.inputs) == 1
                        and op.inputs[0] in layers and tiles == [source]):
                    fused.add(op.name)
                if len(tiles) > 1:
                    self.notes.append(f"{op.name}: digital work split over tiles {tiles} "
                                      f"({op_ns:.4g} ns per inference on one tile, the pipeline hides {period_ns:.4g} ns)")
            self._tile_of[op.name] = places[op.name][0]
            self._produced_bits[op.name] = output_bits(op, self.cfg.mapping.input_bits)
        return places, fused

    def _spills(self, workload: Workload, layers: dict[str, _Layer], chunks: dict[str, tuple[int, str]],
                places: dict[str, list[int]]) -> dict[str, dict[int, Spill]]:
        """Per operation whose tile buffers overflow: the spill of each of its tiles (:mod:`cimsim.arch.memory`).

        A weight product's residency is spread over the tiles its arrays span; an operation on
        digital units keeps its whole residency on each tile it runs on (every tile of a split
        attention product holds all the keys)."""
        residency = {}  # operation -> {tile: resident bits}
        for op in workload.ops:
            bits = resident_bits(op, chunks[op.name][0], self.cfg)
            if op.name in layers:
                layer = layers[op.name]
                residency[op.name] = {tile: bits / layer.tiles for tile in range(layer.tile, layer.tile + layer.tiles)}
            else:
                residency[op.name] = {tile: bits for tile in places[op.name]}
        if self._multiplexed:  # one stage at a time: each alone against the buffers
            by_op = {name: self.memory.spills(tiles) for name, tiles in residency.items()}
        else:  # pipelined stages in flight together: their residencies add up per tile
            demand: dict[int, float] = {}
            for tiles in residency.values():
                for tile, bits in tiles.items():
                    demand[tile] = demand.get(tile, 0.0) + bits
            by_tile = self.memory.spills(demand)
            by_op = {name: {tile: by_tile[tile] for tile in tiles if tile in by_tile}
                     for name, tiles in residency.items()} if by_tile else {}  # no tile overflows: none spills
        spills = {name: tiles for name, tiles in by_op.items() if tiles}
        if spills:
            worst, tile = max(((name, t) for name, tiles in spills.items() for t in tiles),
                              key=lambda pair: spills[pair[0]][pair[1]].fraction)
            self.notes.append(f"tile buffers overflow ({self.cfg.tile.buffer_kib:g} KiB): {len(spills)} operations spill "
                              f"part of their buffer traffic, up to {spills[worst][tile].fraction:.0%} ({worst!r} on "
                              f"tile {tile}, to {spills[worst][tile].level})")
        return spills

    @staticmethod
    def _resources(stages: list[StagePlan], layers: dict[str, _Layer]) -> dict[str, int]:
        resources: dict[str, int] = {}
        for stage in stages:
            for steps in (*(stage.alternates or (stage.steps,)), stage.batch_steps):  # its all_steps, without the tuple
                for step in steps:
                    for resource in (step.resource, *step.also):
                        if resource not in resources:
                            name = resource.removeprefix("arrays:")
                            resources[resource] = layers[name].copies if resource.startswith("arrays:") else 1
        return resources

    @property
    def multiplexed(self) -> bool:
        return self._multiplexed


@functools.lru_cache(maxsize=1024)
def _round_saving_copies(items: int) -> tuple[tuple[int, int], ...]:
    """(copies, rounds) from one copy of a layer with ``items`` work items up to ``items`` copies, each the
    fewest copies that take fewer rounds (``ceil(items / copies)``) than the one before (items alike
    for every point of a sweep: kept)."""
    copies, steps = 1, [(1, math.ceil(items / 1))]
    while copies < items:
        copies = math.ceil(items / (math.ceil(items / copies) - 1))
        steps.append((copies, math.ceil(items / copies)))
    return tuple(steps)


def _merged(steps: list[Step | None]) -> list[Step]:
    """``steps`` without the Nones, consecutive steps on the same resources joined into one (their
    times added): a chunk's transfers over one route are one transfer of their bits together."""
    merged: list[Step] = []
    for step in steps:
        if step is None:
            continue
        if merged and merged[-1].resources == step.resources:
            merged[-1] = Step(step.resource, merged[-1].ns + step.ns, also=step.also)
        else:
            merged.append(step)
    return merged


def _layer_reads(layer: _Layer) -> tuple[bool, float, float, float]:
    """What :func:`~cimsim.costs.peak.workload_input_activity` needs of one inference of a layer."""
    drives = v2g = 0.0
    for component, action, count in layer.counts:
        if component == "dac" and action == "conversions":
            drives += count
        elif component == "cell" and action == "v2g_v2_us":
            v2g += count
    return layer.signed, float(layer.gemm.effective_macs), drives, v2g
