"""Prices of the von Neumann baseline's actions, from its configuration (counting is separate from pricing).

:mod:`cimsim.arch.von_neumann` counts the actions declared in :mod:`cimsim.costs.actions`; this
prices them (a declared action without a price is a ConfigError). Each action's name carries its unit:

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
from cimsim.costs.energy import EnergyModel, declared_prices


def mac_energy_pj(cfg: VonNeumannConfig) -> float:
    """One MAC at the PE's precision: ``mac_pj`` scaled by (b_w · b_a) / reference² (multiplier partial products)."""
    e, pe = cfg.energy, cfg.pe
    return e.mac_pj * pe.weight_bits * pe.activation_bits / e.mac_reference_bits**2


VON_NEUMANN_PRICES = {
    ("pe", "macs"): mac_energy_pj,
    ("register_file", "bits"): lambda cfg: cfg.energy.register_file_pj_per_bit,
    ("global_buffer", "bits"): lambda cfg: cfg.energy.global_buffer_pj_per_bit,
    ("dram", "bits"): lambda cfg: cfg.energy.dram_pj_per_bit,
    ("digital", "ops"): lambda cfg: cfg.energy.digital_pj_per_op,
    ("static", "ns"): lambda cfg: cfg.energy.static_power_mw,
}
"""The price of each action declared for the baseline (cimsim/costs/actions.py), pJ per unit counted."""


def price_table(cfg: VonNeumannConfig) -> dict[tuple[str, str], float]:
    """Energy per unit of every declared action of the baseline, pJ."""
    return declared_prices("von-neumann", VON_NEUMANN_PRICES, cfg)


class BaselineEnergyModel(EnergyModel):
    """Prices the baseline's actions and records them, priced, in a Ledger (the CIM model's methods)."""

    architecture = "von-neumann"
    price_table = staticmethod(price_table)
