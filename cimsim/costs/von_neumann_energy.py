"""Prices of the von Neumann baseline's actions, from its configuration (counting is separate from pricing).

:mod:`cimsim.arch.von_neumann` counts the actions; this prices them. Each action's name carries its unit:

==============  ======  ==================================================================
component       action  energy per unit
==============  ======  ==================================================================
pe              macs    ``energy.mac_pj`` × (b_w · b_a) / ``mac_reference_bits``² (one MAC)
register_file   bits    ``energy.register_file_pj_per_bit`` (read or written)
global_buffer   bits    ``energy.global_buffer_pj_per_bit`` (read or written)
dram            bits    ``energy.dram_pj_per_bit`` (read or written)
digital         ops     ``energy.digital_pj_per_op`` (elementary ops of non-GEMM operations)
static          ns      ``energy.static_power_mw`` × time (mW · ns = pJ)
==============  ======  ==================================================================
"""

from __future__ import annotations

from cimsim.config.von_neumann import VonNeumannConfig
from cimsim.costs.energy import EnergyModel


def mac_energy_pj(cfg: VonNeumannConfig) -> float:
    """One MAC at the PE's precision: ``mac_pj`` scaled by (b_w · b_a) / reference² (multiplier partial products)."""
    e, pe = cfg.energy, cfg.pe
    return e.mac_pj * pe.weight_bits * pe.activation_bits / e.mac_reference_bits**2


def price_table(cfg: VonNeumannConfig) -> dict[tuple[str, str], float]:
    """Energy per unit of every priced (component, action) of the baseline, pJ."""
    e = cfg.energy
    return {
        ("pe", "macs"): mac_energy_pj(cfg),
        ("register_file", "bits"): e.register_file_pj_per_bit,
        ("global_buffer", "bits"): e.global_buffer_pj_per_bit,
        ("dram", "bits"): e.dram_pj_per_bit,
        ("digital", "ops"): e.digital_pj_per_op,
        ("static", "ns"): e.static_power_mw,
    }


class BaselineEnergyModel(EnergyModel):
    """Prices the baseline's actions and records them, priced, in a Ledger (the CIM model's methods)."""

    def __init__(self, cfg: VonNeumannConfig):
        self.cfg = cfg
        self.prices = price_table(cfg)
