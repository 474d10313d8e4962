"""Where a CIM chip keeps its activations: tile buffers with a capacity, a global buffer, DRAM.

**Resident activations.** A stage keeps in the buffer what its chunks in flight need:

* a convolution: the input rows its receptive field spans while its output rows advance, a
  line buffer of ``(kernel_h − 1)·dilation + 1 + stride`` input rows (at most the image's),
  times the input's width and channels (ISAAC's argument for its 64 KB eDRAM);
* any other product: two chunks of its first operand (double buffering: one read while the
  next arrives), and the whole of the second operand of an activation × activation product
  (the keys of Q·Kᵀ, the values of A·V);
* a non-GEMM operation: one chunk of its elements, worked on in place as they stream by.

Outputs are not resident where they are produced: they leave through the output registers
and become the consumer's inputs. A weight product spanning several tiles spreads its
residency evenly over their buffers; any other operation is resident on its own tile.
Bits at ``mapping.input_bits`` for inputs and ``mapping.output_bits`` for outputs.

**Spills.** A tile whose stages' resident bits exceed ``tile.buffer_kib`` keeps the fraction
``capacity / demand`` of them and spills the rest: every stage whose first tile it is then
sends the fraction ``f = 1 − capacity / demand`` of its buffer traffic (reads and writes, as
counted for the tile buffer) to the spill level instead. Pipelined stages are in flight
together, so the stages sharing a tile add up; when the arrays are time-multiplexed
(``chip.oversubscription = "reprogram"``) stages run one at a time and each is checked alone. Tiles in index order fill the global buffer
(``chip.global_buffer_kib``) with their spilled bits; a tile whose spill no longer fits there
spills to DRAM. The spill level is an engine resource (``global_buffer`` at
``chip.global_buffer_gbps``, ``dram`` at ``chip.dram_gbps``, one server each, shared by the
whole chip), its traffic a step of the stage's chunks, priced per bit
(``energy.global_buffer_pj_per_bit``, ``energy.dram_pj_per_bit``).

Limits: a first-order model. Spilled data is fetched again at every use, as the tile buffer's
reads count it (no caching by reuse distance); a stage's residency does not shrink while
another stage on the tile is idle (pipelined stages are taken to be in flight together); the
batch's inferences share each stage's window (chunks run in order); ``tile.buffer_kib = 0``
means no tile buffer at all (inputs go straight to the arrays), not a buffer that spills
everything. The network's own inputs and outputs are not fetched from or written to DRAM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cimsim.config import ChipConfig
from cimsim.engine.plan import Step
from cimsim.workload import Gemm, NonGemm

BITS_PER_KIB = 8 * 1024
CHUNKS_IN_FLIGHT = 2  # double buffering


@dataclass(frozen=True)
class Spill:
    """Where the spilled share of a tile's buffer traffic goes: ``level`` ("" when none) and ``fraction``."""

    level: str = ""
    fraction: float = 0.0


NO_SPILL = Spill()


def resident_bits(op: Gemm | NonGemm, chunks: int, cfg: ChipConfig) -> float:
    """Bits ``op`` keeps in the buffer while it runs (module docstring)."""
    in_bits = cfg.mapping.input_bits
    if isinstance(op, NonGemm):
        return op.elements / chunks * cfg.mapping.output_bits
    if op.conv is not None:
        conv = op.conv
        reach = (conv.kernel[0] - 1) * conv.dilation[0] + 1 + conv.stride[0]
        rows = min(conv.input_size[0], reach)
        return rows * math.prod(conv.input_size[1:]) * conv.in_channels * in_bits
    first = CHUNKS_IN_FLIGHT * op.m * op.k * op.count / chunks * in_bits
    second = 0.0 if op.constant else op.k * op.n * op.count * in_bits
    return first + second


class MemoryHierarchy:
    """Tile buffer capacities and the spill levels behind them (module docstring)."""

    def __init__(self, cfg: ChipConfig):
        self.tile_bits = cfg.tile.buffer_kib * BITS_PER_KIB
        self.global_bits = cfg.chip.global_buffer_kib * BITS_PER_KIB
        self.gbps = {"global_buffer": cfg.chip.global_buffer_gbps, "dram": cfg.chip.dram_gbps}

    def spills(self, demand_bits: dict[int, float]) -> dict[int, Spill]:
        """Per tile with a spill: its level and fraction, from each tile's resident bits."""
        spills, global_left = {}, self.global_bits
        if self.tile_bits <= 0:
            return spills  # no tile buffer: nothing resident, nothing spills
        for tile in sorted(demand_bits):
            excess = demand_bits[tile] - self.tile_bits
            if excess <= 0:
                continue
            level = "global_buffer" if excess <= global_left else "dram"
            global_left -= excess if level == "global_buffer" else 0.0
            spills[tile] = Spill(level, excess / demand_bits[tile])
        return spills

    def step(self, spill: Spill, bits: float) -> Step | None:
        """The spilled share of ``bits`` of buffer traffic as a step on its level; None without a spill."""
        if not spill.level:
            return None
        return Step(spill.level, spill.fraction * bits / self.gbps[spill.level])

    def dram_step(self, bits: float) -> Step:
        """Streaming ``bits`` from DRAM (weights to be reprogrammed)."""
        return Step("dram", bits / self.gbps["dram"])


def split_counts(spill: Spill, counts: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """``counts`` with the spilled fraction of their tile-buffer bits moved to the spill level."""
    if not spill.level:
        return counts
    moved = []
    for component, action, count in counts:
        if (component, action) == ("buffer", "bits"):
            moved += [("buffer", "bits", count * (1 - spill.fraction)), (spill.level, "bits", count * spill.fraction)]
        else:
            moved.append((component, action, count))
    return moved
