"""The von Neumann baseline as the event engine sees it: a PE array, one SRAM buffer, one DRAM channel.

The standard first-order accelerator model (docs/scheduler.md). Per inference of a
product of ``count`` M×K by K×N matrices, with b_w-bit weights, b_a-bit activations, b_out-bit
outputs and b_acc-bit partial sums (``pe.*_bits``):

* MACs: M·K·N·count, dense (the baseline multiplies zeros too), at ``energy.mac_pj`` each;
  the stage's ``macs`` are the effective ones (non-zero weights), as TOPS count them;
* register file: per MAC, ``rf_weight_reads_per_mac``·b_w + ``rf_activation_reads_per_mac``·b_a
  + ``rf_psum_accesses_per_mac``·b_acc bits;
* global buffer: count·(M·K·b_a in + M·N·b_out out + K·N·b passing to the PEs) bits, with
  b = b_w for weights and b_a for the second operand of an activation × activation product
  (attention), which has no weights in DRAM;
* DRAM, once per batch (``batch_ledger``): the weights, K·N·count·b_w bits,
  unless every weight of the workload fits in the buffer and ``memory.weights_resident`` is
  ``"auto"``: then they are loaded once and stay, and nothing is counted per batch;
* DRAM, per inference: an activation tensor (a product's input, second operand or output) that
  does not fit in the buffer goes through DRAM. Weights are fetched once per batch, so a layer's
  activations are held for the whole batch: a tensor spills when batch × its bits exceed the
  buffer left after resident weights. A convolution's input is its feature map, not the
  im2col matrix. Each spilled tensor is counted once per operation (an output written, an input
  read), so a tensor between two products goes to DRAM and back;
* a non-GEMM operation: ``elements × DIGITAL_OPS_PER_ELEMENT[kind]`` ops at
  ``energy.digital_pj_per_op``, one op per PE per cycle on the PE array.

Time: the PE array does pes × clock_ghz × utilisation MACs (or ops) per ns; the buffer and DRAM
move 8 × GB/s bits per ns. Each chunk of :func:`cimsim.arch.chunking.workload_chunks` takes its share
of the stage's DRAM, buffer and PE time, in that order, on the resources ``"dram"``,
``"global_buffer"`` and ``"pe_array"`` (one server each). Weights streamed from DRAM are fetched
tile by tile while the previous tile computes (double buffering): a product whose weights stream
is cut into at least :data:`STREAMING_CHUNKS` chunks (its rows × weight tiles, in that order, so
that a consumer's row waits for every tile of the rows it needs), and each chunk carries its
share of the batch's weight fetch. Chunks pipeline through the three resources, so a layer's
latency approaches :func:`roofline_ns`, the largest of its compute, buffer and DRAM times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cimsim.config import config_label
from cimsim.config.von_neumann import VonNeumannConfig
from cimsim.costs.von_neumann_energy import BaselineEnergyModel
from cimsim.arch.plan_cache import workload_structure
from cimsim.workload import DIGITAL_OPS_PER_ELEMENT
from cimsim.errors import ConfigError, check_batch
from cimsim.costs.ledger import Ledger
from cimsim.engine.plan import MachinePlan, StagePlan, Step
from cimsim.workload import Gemm, NonGemm, Workload

__all__ = ["RESOURCES", "Traffic", "VonNeumannConfig", "baseline_plan", "operation_traffic", "roofline_ns"]

RESOURCES = {"pe_array": 1, "global_buffer": 1, "dram": 1}
"""The machine's resources and their servers: one PE array, one buffer port, one DRAM channel."""

BITS_PER_KIB = 8 * 1024
STREAMING_CHUNKS = 64  # a flow shop of n chunks is within (n - 1) / n of its slowest resource's time


@dataclass(frozen=True)
class Traffic:
    """What one operation does: counts per inference, and DRAM bits once per batch."""

    macs: int = 0  # dense MACs, all computed
    digital_ops: int = 0  # elementary ops of a non-GEMM operation
    register_file_bits: float = 0.0
    global_buffer_bits: float = 0.0
    dram_bits: float = 0.0  # activations through DRAM, per inference
    batch_dram_bits: float = 0.0  # weights fetched from DRAM, per batch

    @property
    def pe_ops(self) -> int:
        """Operations on the PE array: MACs, or a non-GEMM operation's ops."""
        return self.macs + self.digital_ops


# --------------------------------------------------------------------------- time


def pe_ns(ops: float, cfg: VonNeumannConfig) -> float:
    """Time of ``ops`` MACs (or ops) on the PE array: ops / (pes × clock_ghz × utilisation), ns."""
    return ops / (cfg.pe.pes * cfg.pe.clock_ghz * cfg.pe.utilisation)


def buffer_ns(bits: float, cfg: VonNeumannConfig) -> float:
    """Time to move ``bits`` through the global buffer: 1 GB/s is 8 bits per ns."""
    return bits / (8.0 * cfg.memory.global_buffer_gb_per_s)


def dram_ns(bits: float, cfg: VonNeumannConfig) -> float:
    """Time to move ``bits`` to or from DRAM: 1 GB/s is 8 bits per ns."""
    return bits / (8.0 * cfg.memory.dram_gb_per_s)


def roofline_ns(traffic: Traffic, cfg: VonNeumannConfig, batch: int = 1) -> float:
    """Analytical latency of an operation over ``batch`` inferences: the slowest of its resources.

    max(batch × PE time, batch × buffer time, batch × activation DRAM time + weight DRAM time).
    """
    return max(
        batch * pe_ns(traffic.pe_ops, cfg),
        batch * buffer_ns(traffic.global_buffer_bits, cfg),
        batch * dram_ns(traffic.dram_bits, cfg) + dram_ns(traffic.batch_dram_bits, cfg),
    )


# --------------------------------------------------------------------------- counts


def weight_bits(gemm: Gemm, cfg: VonNeumannConfig) -> int:
    """Bits of a product's weights (0 for an activation × activation product)."""
    return gemm.k * gemm.n * gemm.count * cfg.pe.weight_bits if gemm.constant else 0


def weights_resident(workload: Workload, cfg: VonNeumannConfig) -> bool:
    """Whether the workload's weights stay in the buffer: all fit and ``weights_resident`` allows it."""
    total = sum(weight_bits(g, cfg) for g in workload.gemms)
    return cfg.memory.weights_resident == "auto" and total <= cfg.memory.global_buffer_kib * BITS_PER_KIB


def activation_tensors(gemm: Gemm, cfg: VonNeumannConfig) -> dict[str, int]:
    """Bits of the activation tensors of one inference of a product: input, second operand, output."""
    b_a = cfg.pe.activation_bits
    if gemm.conv is not None:
        images = max(1, gemm.m // math.prod(gemm.conv.output_size))
        tensors = {"input": images * math.prod(gemm.conv.input_size) * gemm.conv.in_channels * b_a}
    else:
        tensors = {"input": gemm.m * gemm.k * gemm.count * b_a}
    if not gemm.constant:
        tensors["second operand"] = gemm.k * gemm.n * gemm.count * b_a
    tensors["output"] = gemm.m * gemm.n * gemm.count * cfg.pe.output_bits
    return tensors


def gemm_traffic(gemm: Gemm, cfg: VonNeumannConfig, spilled: list[str], resident: bool) -> Traffic:
    """Counts of one product (module docstring); ``spilled`` names its tensors that go through DRAM."""
    p = cfg.pe
    b_second = p.weight_bits if gemm.constant else p.activation_bits
    rf_bits_per_mac = (
        p.rf_weight_reads_per_mac * b_second
        + p.rf_activation_reads_per_mac * p.activation_bits
        + p.rf_psum_accesses_per_mac * p.accumulator_bits
    )
    buffer_bits = gemm.count * (gemm.m * gemm.k * p.activation_bits + gemm.k * gemm.n * b_second + gemm.m * gemm.n * p.output_bits)
    tensors = activation_tensors(gemm, cfg)
    return Traffic(
        macs=gemm.macs,
        register_file_bits=gemm.macs * rf_bits_per_mac,
        global_buffer_bits=float(buffer_bits),
        dram_bits=float(sum(tensors[name] for name in spilled)),
        batch_dram_bits=0.0 if resident else float(weight_bits(gemm, cfg)),
    )


def spilled_tensors(gemm: Gemm, cfg: VonNeumannConfig, batch: int, free_bits: float) -> list[str]:
    """The product's activation tensors that, held for the whole batch, exceed the free buffer."""
    return [name for name, bits in activation_tensors(gemm, cfg).items() if batch * bits > free_bits]


def free_buffer_bits(workload: Workload, cfg: VonNeumannConfig) -> float:
    """Buffer bits left for activations: all of it, less the weights when they stay resident."""
    total = cfg.memory.global_buffer_kib * BITS_PER_KIB
    if weights_resident(workload, cfg):
        total -= sum(weight_bits(g, cfg) for g in workload.gemms)
    return total


def operation_traffic(workload: Workload, cfg: VonNeumannConfig, batch: int = 1) -> dict[str, Traffic]:
    """Counts of every operation of ``workload`` run in batches of ``batch``, in execution order."""
    resident, free_bits = weights_resident(workload, cfg), free_buffer_bits(workload, cfg)
    traffic: dict[str, Traffic] = {}
    for op in workload.ops:
        if isinstance(op, Gemm):
            traffic[op.name] = gemm_traffic(op, cfg, spilled_tensors(op, cfg, batch, free_bits), resident)
        else:
            traffic[op.name] = Traffic(digital_ops=op.elements * DIGITAL_OPS_PER_ELEMENT[op.kind])
    return traffic


# --------------------------------------------------------------------------- the plan


def _steps(traffic: Traffic, chunks: int, batch: int, cfg: VonNeumannConfig) -> tuple[Step, ...]:
    """One chunk's share of the DRAM (the batch's weights included), buffer and PE time, in that order."""
    dram_bits = traffic.dram_bits / chunks + traffic.batch_dram_bits / (batch * chunks)
    times = (
        ("dram", dram_ns(dram_bits, cfg)),
        ("global_buffer", buffer_ns(traffic.global_buffer_bits / chunks, cfg)),
        ("pe_array", pe_ns(traffic.pe_ops / chunks, cfg)),
    )
    return tuple(Step(resource, ns) for resource, ns in times if ns > 0)


def _ledgers(traffic: Traffic, model: BaselineEnergyModel, layer: str) -> tuple[Ledger, Ledger]:
    """Priced actions of one inference, and of one batch."""
    per_inference, per_batch = Ledger(), Ledger()
    counts = (
        ("pe", "macs", traffic.macs),
        ("register_file", "bits", traffic.register_file_bits),
        ("global_buffer", "bits", traffic.global_buffer_bits),
        ("dram", "bits", traffic.dram_bits),
        ("digital", "ops", traffic.digital_ops),
    )
    for component, action, count in counts:
        if count:
            model.charge(per_inference, component, action, count, layer)
    if traffic.batch_dram_bits:
        model.charge(per_batch, "dram", "bits", traffic.batch_dram_bits, layer)
    return per_inference, per_batch


def _stage(
    op: Gemm | NonGemm, traffic: Traffic, chunks: dict[str, tuple[int, str]], tiles: dict[str, int],
    needs: dict[str, np.ndarray], batch: int, cfg: VonNeumannConfig, model: BaselineEnergyModel,
) -> StagePlan:
    """The stage of one operation: its chunks (rows × weight tiles), their steps, its priced actions;
    ``needs``: of its (row, tile) chunks (:func:`~cimsim.arch.chunking.tiled_needs`)."""
    rows, label = chunks[op.name]
    count = rows * tiles[op.name]
    ledger, batch_ledger = _ledgers(traffic, model, op.name)
    return StagePlan(
        name=op.name,
        kind="gemm" if isinstance(op, Gemm) else "digital",
        chunks=count,
        chunk_label=label if tiles[op.name] == 1 else f"{label} x weight tile",
        steps=_steps(traffic, count, batch, cfg),
        ledger=ledger,
        macs=op.effective_macs if isinstance(op, Gemm) else 0,
        needs=dict(needs),
        batch_ledger=batch_ledger,
    )


def weight_tiles(workload: Workload, traffic: dict[str, Traffic], chunks: dict[str, tuple[int, str]]) -> dict[str, int]:
    """Into how many weight tiles each operation's rows are cut: a product whose weights stream from
    DRAM into enough that it has at least :data:`STREAMING_CHUNKS` chunks (rows × tiles), so that
    fetching one tile overlaps computing the last, as a double-buffered accelerator does; 1 for
    the others; a non-GEMM operation as its producer."""
    tiles: dict[str, int] = {}
    for op in workload.ops:
        if isinstance(op, Gemm):
            streamed = traffic[op.name].batch_dram_bits > 0
            tiles[op.name] = math.ceil(STREAMING_CHUNKS / chunks[op.name][0]) if streamed else 1
        else:
            tiles[op.name] = tiles[op.inputs[0]] if op.inputs else 1
    return tiles


def _notes(workload: Workload, cfg: VonNeumannConfig, batch: int) -> list[str]:
    """The placement decisions: where the weights live, which activations go through DRAM."""
    mib = sum(weight_bits(g, cfg) for g in workload.gemms) / (BITS_PER_KIB * 1024)
    kib = cfg.memory.global_buffer_kib
    if weights_resident(workload, cfg):
        notes = [f"weights resident: all {mib:.4g} MiB fit in the {kib:g} KiB global buffer; loaded once, no DRAM traffic per batch"]
    elif mib:
        why = "memory.weights_resident = 'never'" if cfg.memory.weights_resident == "never" else f"they exceed the {kib:g} KiB global buffer"
        notes = [f"weights fetched from DRAM once per batch: {mib:.4g} MiB ({why})"]
    else:
        notes = []
    free_bits = free_buffer_bits(workload, cfg)
    for gemm in workload.gemms:
        for name in spilled_tensors(gemm, cfg, batch, free_bits):
            size_kib = activation_tensors(gemm, cfg)[name] / BITS_PER_KIB
            notes.append(
                f"{gemm.name}: {name} ({size_kib:.4g} KiB x batch {batch}) exceeds the free global buffer "
                f"({free_bits / BITS_PER_KIB:.4g} KiB): through DRAM"
            )
    return notes


def baseline_plan(workload: Workload, cfg: VonNeumannConfig, batch: int) -> MachinePlan:
    """``workload`` on the von Neumann machine ``cfg``, run in batches of ``batch``: one stage per operation."""
    if not isinstance(cfg, VonNeumannConfig):
        raise ConfigError(f"cfg: expected a cimsim VonNeumannConfig, got {type(cfg).__name__}")
    check_batch(batch)
    model = BaselineEnergyModel(cfg)
    traffic = operation_traffic(workload, cfg, int(batch))
    structure = workload_structure(workload)
    chunks = structure.chunks
    tiles = weight_tiles(workload, traffic, chunks)
    needs = structure.needs(tiles)
    return MachinePlan(
        config_name=config_label(cfg),
        architecture="von-neumann",
        resources=dict(RESOURCES),
        stages=[_stage(op, traffic[op.name], chunks, tiles, needs[op.name], int(batch), cfg, model) for op in workload.ops],
        static_power_mw=cfg.energy.static_power_mw,
        area_breakdown_um2={"chip": cfg.area.chip_mm2 * 1e6},
        notes=_notes(workload, cfg, int(batch)),
        precision=f"w{cfg.pe.weight_bits}a{cfg.pe.activation_bits}",
    )
