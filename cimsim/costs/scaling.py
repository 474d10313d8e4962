"""Scaling laws of the prices: a DAC by its resolution, digital blocks by their width and node.

The ``[energy]`` section gives each price at a reference point (ISAAC's 1-bit driver, a 16-bit
shift-and-add at 32 nm, Horowitz's 32-bit add at 45 nm, ...); these functions carry a price from
its reference point to the configured hardware. Units: pJ in and out, bits, nm.

**DAC** (``energy.dac_model``), anchored at ``energy.dac_pj_per_conversion`` for a DAC of
``energy.dac_reference_bits`` (ISAAC's 1-bit driver, 0.39 pJ per drive, ISAAC-12, ISAAC-57):

* ``capacitive``: a binary-weighted capacitive (charge-redistribution) DAC. Its switching
  energy per conversion is proportional to its total capacitance, 2^bits unit capacitors
  (Saberi et al., IEEE TCAS-I 58(8), 2011, the model ISAAC scales its ADC's capacitive DAC with,
  ADC-16): E = E_ref · 2^(bits − ref). A current-steering DAC at a fixed LSB current scales the
  same way (2^bits − 1 unit sources). Anchored on a 1-bit wordline driver it is an upper bound
  when the wordline's own load dominates the driver's energy.
* ``linear``: a driver of ``bits`` binary-weighted segments whose energy is set by its per-bit
  switches and latches, the law ISAAC applies to an ADC's reference buffer, memory and clock
  (ADC-16): E = E_ref · bits / ref.

**Digital blocks** (shift-and-add, partial sums, input and output registers, tile buffer, tile
bus, network, non-GEMM digital operations, global buffer): dynamic energy C·V² per switched bit.
First order, the switched capacitance grows with the width in bits, and C·V² falls with the
feature size as node²: E = E_ref · (node / node_ref)² (gate capacitance ∝ node and V² ∝ node,
between constant-field Dennard scaling, node³, and constant-voltage scaling, node¹). Stillmaker
& Baas (Integration 58, 2017, pp. 74–81) show that such classical laws can err by large factors
below 45 nm and tabulate fitted per-node factors; node² is a first-order stand-in for them.
Per-bit prices (registers, buffers, bus, network) already grow with the bits counted; the
shift-and-add and the digital operations are priced per operation, so they scale by
``mapping.output_bits`` against their reference width.

Not scaled by node: cells (V²·G·t, physics), DACs (their own law), sample-and-holds (ISAAC's
analog value), ADCs (their own models), DRAM (off chip) and static power (given as is).
"""

from __future__ import annotations

from collections.abc import Callable

from cimsim.config import ChipConfig

NODE_ENERGY_EXPONENT = 2.0
"""E ∝ node^2: the first-order node scaling of a digital block's dynamic energy (module docstring)."""

DAC_LAWS: dict[str, Callable[[int, int], float]] = {
    "capacitive": lambda bits, reference_bits: 2.0 ** (bits - reference_bits),
    "linear": lambda bits, reference_bits: bits / reference_bits,
}
"""Energy of a ``bits``-bit DAC relative to one of ``reference_bits``, per ``energy.dac_model``."""


def dac_energy_pj(cfg: ChipConfig) -> float:
    """Energy of one row drive by a ``dac.bits`` DAC in one input cycle (pJ), by ``energy.dac_model``."""
    energy = cfg.energy
    return energy.dac_pj_per_conversion * DAC_LAWS[energy.dac_model](cfg.dac.bits, energy.dac_reference_bits)


def node_factor(node_nm: float, reference_node_nm: float) -> float:
    """Dynamic energy at ``node_nm`` relative to ``reference_node_nm``: (node / reference)²."""
    return (node_nm / reference_node_nm) ** NODE_ENERGY_EXPONENT


def tile_digital_pj(cfg: ChipConfig, pj_at_reference: float) -> float:
    """A per-bit price of ISAAC's tile (registers, buffer, bus, network) at ``chip.node_nm`` (pJ).

    ``pj_at_reference`` is given at ``energy.reference_node_nm`` (ISAAC's 32 nm by default).
    """
    return pj_at_reference * node_factor(cfg.chip.node_nm, cfg.energy.reference_node_nm)


def shift_add_pj(cfg: ChipConfig) -> float:
    """One shift-and-add (or partial-sum add) of ``mapping.output_bits`` bits at ``chip.node_nm`` (pJ).

    ``energy.shift_add_pj`` is given for ``energy.shift_add_reference_bits`` at
    ``energy.reference_node_nm`` (ISAAC: 16 bits, 32 nm, ISAAC-68); an adder's energy ∝ its width.
    """
    width = cfg.mapping.output_bits / cfg.energy.shift_add_reference_bits
    return tile_digital_pj(cfg, cfg.energy.shift_add_pj) * width


def horowitz_digital_pj(cfg: ChipConfig, pj_at_reference: float) -> float:
    """A price given at ``energy.digital_reference_node_nm`` (Horowitz's 45 nm) at ``chip.node_nm`` (pJ)."""
    return pj_at_reference * node_factor(cfg.chip.node_nm, cfg.energy.digital_reference_node_nm)


def digital_op_pj(cfg: ChipConfig) -> float:
    """One elementary non-GEMM operation on ``mapping.output_bits``-bit activations at ``chip.node_nm`` (pJ).

    ``energy.digital_pj_per_op`` is given for ``energy.digital_reference_bits`` at
    ``energy.digital_reference_node_nm`` (Horowitz: a 32-bit add, 0.1 pJ at 45 nm, HOR-02).
    """
    width = cfg.mapping.output_bits / cfg.energy.digital_reference_bits
    return horowitz_digital_pj(cfg, cfg.energy.digital_pj_per_op) * width


def digital_mac_pj(cfg: ChipConfig) -> float:
    """One multiply-accumulate of two ``mapping.input_bits``-bit activations on a tile's digital units (pJ).

    ``energy.digital_pj_per_mac`` is given for ``energy.digital_mac_reference_bits``-bit operands at
    ``energy.digital_reference_node_nm`` (Horowitz: an 8-bit multiply, 0.2 pJ, and an 8-bit add, 0.03 pJ,
    at 45 nm, HOR-03, HOR-01); an array multiplier's energy grows as the product of its operands'
    widths, (input_bits / reference)², as the von Neumann baseline scales ``energy.mac_pj``.
    """
    width = (cfg.mapping.input_bits / cfg.energy.digital_mac_reference_bits) ** 2
    return horowitz_digital_pj(cfg, cfg.energy.digital_pj_per_mac) * width
