"""Prices of the actions cimsim counts: one model per hardware block, from the configuration.

A component is a set of actions, each with an energy (pJ) per unit counted (as in Accelergy /
hwcomponents). The units are in the action names of :mod:`cimsim.costs.ledger`:

==================  ===============  ===========================================================
component           action           energy per unit
==================  ===============  ===========================================================
cell                v2g_v2_us        ``t_read`` per V²·µS: a read draws V²·G for the read pulse
                                     (V² · µS · ns = fJ); counted reads carry no extra energy
cell                writes           ``device.write_energy_pj`` per cell programmed
dac                 conversions      ``energy.dac_pj_per_conversion`` (one row drive, one cycle)
sample_hold         samples          ``energy.sample_hold_pj``
adc                 conversions      the ADC model named by ``energy.adc_model`` (adc_models);
                                     0 for an ``integrating`` ADC, priced by its steps and bias
adc                 steps            ``energy.adc_pj_per_step`` (one bit decision, integrating)
adc                 active_ns        ``energy.adc_bias_uw`` × time (µW · ns = fJ)
shift_add           ops              ``energy.shift_add_pj``
partial_sum         adds             ``energy.shift_add_pj`` (a digital add of the same width)
input_register      bits             ``energy.input_register_pj_per_bit``
output_register     bits             ``energy.output_register_pj_per_bit``
buffer              bits             ``energy.buffer_pj_per_bit`` (read or written)
bus                 bits             ``energy.bus_pj_per_bit_hop`` (buffer ↔ array groups)
noc                 bit_hops         ``energy.noc_pj_per_bit_hop``
global_buffer       bits             ``energy.global_buffer_pj_per_bit`` (read or written)
dram                bits             ``energy.dram_pj_per_bit``
digital             ops              ``energy.digital_pj_per_op`` (non-GEMM operations)
static              ns               ``energy.static_power_mw`` × time (mW · ns = pJ)
==================  ===============  ===========================================================

Programming: ``("cell", "writes")`` costs ``device.write_energy_pj`` per cell written
(program-and-verify included); reads are priced by their V²·G, so ``("cell", "reads")`` is
counted only.

Non-GEMM operations run on the tile's digital units and are counted as elementary operations
per element (:data:`DIGITAL_OPS_PER_ELEMENT`, first order: one compare or add per element for an
activation, pooling window input or residual add; max, exponential, sum and divide for a
softmax; mean, variance, subtract, divide and scale for a normalisation).
"""

from __future__ import annotations

from cimsim.costs.adc_energy import adc_energy_pj
from cimsim.config import ChipConfig
from cimsim.errors import ConfigError
from cimsim.costs.ledger import Ledger
from cimsim.workload import DIGITAL_OPS_PER_ELEMENT

UNPRICED = {("cell", "reads")}


def price_table(cfg: ChipConfig) -> dict[tuple[str, str], float]:
    """Energy per unit of every priced (component, action), pJ."""
    e = cfg.energy
    return {
        ("cell", "v2g_v2_us"): cfg.array.t_read_ns * 1e-3,
        ("cell", "writes"): cfg.device.write_energy_pj,
        ("dac", "conversions"): e.dac_pj_per_conversion,
        ("sample_hold", "samples"): e.sample_hold_pj,
        ("adc", "conversions"): adc_energy_pj(cfg) if cfg.adc.kind == "sar" else 0.0,
        ("adc", "steps"): e.adc_pj_per_step,
        ("adc", "active_ns"): e.adc_bias_uw * 1e-3,
        ("shift_add", "ops"): e.shift_add_pj,
        ("partial_sum", "adds"): e.shift_add_pj,
        ("input_register", "bits"): e.input_register_pj_per_bit,
        ("output_register", "bits"): e.output_register_pj_per_bit,
        ("buffer", "bits"): e.buffer_pj_per_bit,
        ("bus", "bits"): e.bus_pj_per_bit_hop,
        ("noc", "bit_hops"): e.noc_pj_per_bit_hop,
        ("global_buffer", "bits"): e.global_buffer_pj_per_bit,
        ("dram", "bits"): e.dram_pj_per_bit,
        ("digital", "ops"): e.digital_pj_per_op,
        ("static", "ns"): e.static_power_mw,
    }


class EnergyModel:
    """Prices actions for one configuration and records them, priced, in a Ledger."""

    def __init__(self, cfg: ChipConfig):
        self.cfg = cfg
        self.prices = price_table(cfg)

    def unit_energy_pj(self, component: str, action: str) -> float:
        """Energy of one unit of ``action`` on ``component`` (pJ); 0 for counted-only actions."""
        if (component, action) in UNPRICED:
            return 0.0
        try:
            return self.prices[(component, action)]
        except KeyError:
            known = ", ".join(f"{c}.{a}" for c, a in sorted(self.prices))
            raise ConfigError(f"no price for action {component}.{action}; priced actions: {known}") from None

    def charge(self, ledger: Ledger, component: str, action: str, count: float, layer: str = "") -> None:
        """Add ``count`` of an action to ``ledger`` with its energy."""
        ledger.add(component, action, count, count * self.unit_energy_pj(component, action), layer)

    def charge_digital(self, ledger: Ledger, kind: str, elements: int, layer: str = "") -> None:
        """Add a non-GEMM operation over ``elements`` elements, as elementary digital ops."""
        if kind not in DIGITAL_OPS_PER_ELEMENT:
            raise ConfigError(f"digital operation {kind!r} is not modelled; modelled: {', '.join(DIGITAL_OPS_PER_ELEMENT)}")
        self.charge(ledger, "digital", "ops", elements * DIGITAL_OPS_PER_ELEMENT[kind], layer)

    def priced(self, ledger: Ledger) -> Ledger:
        """The counts of ``ledger`` priced under this configuration (a new Ledger)."""
        result = Ledger()
        for (layer, component, action), count, _ in ledger.entries():
            self.charge(result, component, action, count, layer)
        return result
