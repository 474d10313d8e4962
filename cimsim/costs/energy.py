"""Prices of the actions cimsim counts: one model per hardware block, from the configuration.

A component is a set of actions, each with an energy (pJ) per unit counted (as in Accelergy /
hwcomponents). The actions and their units are declared in :mod:`cimsim.costs.actions`:

==================  ===============  ===========================================================
component           action           energy per unit
==================  ===============  ===========================================================
cell                v2g_v2_us        ``t_read`` per V²·µS: a read draws V²·G for the read pulse
                                     (V² · µS · ns = fJ); counted reads carry no extra energy
cell                writes           ``device.write_energy_pj`` per cell programmed
dac                 conversions      ``energy.dac_pj_per_conversion`` at ``energy.dac_reference_bits``,
                                     scaled to ``dac.bits`` by ``energy.dac_model`` (one row
                                     drive, one cycle; :func:`~cimsim.costs.scaling.dac_energy_pj`)
wordline            row_cycles       ``energy.wordline_pj_per_row_cycle`` (a row's wordline switched or
                                     precharged for one input cycle, whatever its code; not scaled)
sample_hold         samples          ``energy.sample_hold_pj``
adc                 conversions      the ADC model named by ``energy.adc_model`` (adc_energy);
                                     0 for an ``integrating`` ADC, priced by its steps and bias
adc                 steps            ``energy.adc_pj_per_step`` (one bit decision, integrating)
adc                 active_ns        ``energy.adc_bias_uw`` × time (µW · ns = fJ)
shift_add           ops              ``energy.shift_add_pj`` × width × node factor (below)
partial_sum         adds             the same (a digital add of the same width)
input_register      bits             ``energy.input_register_pj_per_bit`` × node factor
output_register     bits             ``energy.output_register_pj_per_bit`` × node factor
buffer              bits             ``energy.buffer_pj_per_bit`` × node factor (read or written)
bus                 bits             ``energy.bus_pj_per_bit_hop`` × node factor
noc                 bit_hops         ``energy.noc_pj_per_bit_hop`` × node factor
global_buffer       bits             ``energy.global_buffer_pj_per_bit`` × node factor (45 nm)
dram                bits             ``energy.dram_pj_per_bit``
digital             ops              ``energy.digital_pj_per_op`` × width × node factor (45 nm)
digital             special_ops      ``energy.digital_pj_per_special_op`` × node factor (45 nm; FP16)
digital             macs             ``energy.digital_pj_per_mac`` × width² × node factor (45 nm)
static              ns               ``energy.static_power_mw`` × time (mW · ns = pJ)
==================  ===============  ===========================================================

Node factor: (``chip.node_nm`` / reference node)², the reference node being
``energy.reference_node_nm`` (ISAAC's 32 nm) or, marked 45 nm, ``energy.digital_reference_node_nm``
(Horowitz's); width: ``mapping.output_bits`` over the price's reference width. The laws and
their sources are in :mod:`cimsim.costs.scaling`.

Every action is declared once, with its unit, in :mod:`cimsim.costs.actions`; this module
prices the declared names (:data:`CIM_PRICES`: a rule per priced action). Reads are priced by
their V²·G, so ``("cell", "reads")`` is declared counted-only; an ADC kind that is not priced
per conversion (:attr:`~cimsim.physics.converters.AdcKind.priced_per_conversion`) is priced by
its steps and bias instead. A declared action without a price is a ConfigError when an
:class:`EnergyModel` is built, an undeclared action a ConfigError when it is charged.

Non-GEMM operations run on the tile's digital units and are counted as elementary operations
per element (:data:`DIGITAL_OPS_PER_ELEMENT`, first order: one compare or add per element for an
activation, pooling window input or residual add; max, exponential, sum and divide for a
softmax; mean, variance, subtract, divide and scale for a normalisation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

from cimsim.config import ChipConfig
from cimsim.costs import actions
from cimsim.costs.adc_energy import adc_energy_pj
from cimsim.costs.ledger import Ledger
from cimsim.costs.scaling import (dac_energy_pj, digital_mac_pj, digital_op_pj, horowitz_digital_pj, shift_add_pj,
                                  tile_digital_pj)
from cimsim.errors import ConfigError
from cimsim.physics.converters import adc_kind
from cimsim.workload import DIGITAL_OPS_PER_ELEMENT

PriceRule = Callable[[ChipConfig], float]


def _adc_conversion_pj(cfg: ChipConfig) -> float:
    return adc_energy_pj(cfg) if adc_kind(cfg.adc.kind).priced_per_conversion else 0.0


CIM_PRICES: dict[tuple[str, str], PriceRule] = {
    ("cell", "v2g_v2_us"): lambda cfg: cfg.array.t_read_ns * 1e-3,
    ("cell", "writes"): lambda cfg: cfg.device.write_energy_pj,
    ("dac", "conversions"): dac_energy_pj,
    ("wordline", "row_cycles"): lambda cfg: cfg.energy.wordline_pj_per_row_cycle,
    ("sample_hold", "samples"): lambda cfg: cfg.energy.sample_hold_pj,
    ("adc", "conversions"): _adc_conversion_pj,
    ("adc", "steps"): lambda cfg: cfg.energy.adc_pj_per_step,
    ("adc", "active_ns"): lambda cfg: cfg.energy.adc_bias_uw * 1e-3,
    ("shift_add", "ops"): shift_add_pj,
    ("partial_sum", "adds"): shift_add_pj,
    ("input_register", "bits"): lambda cfg: tile_digital_pj(cfg, cfg.energy.input_register_pj_per_bit),
    ("output_register", "bits"): lambda cfg: tile_digital_pj(cfg, cfg.energy.output_register_pj_per_bit),
    ("buffer", "bits"): lambda cfg: tile_digital_pj(cfg, cfg.energy.buffer_pj_per_bit),
    ("bus", "bits"): lambda cfg: tile_digital_pj(cfg, cfg.energy.bus_pj_per_bit_hop),
    ("noc", "bit_hops"): lambda cfg: tile_digital_pj(cfg, cfg.energy.noc_pj_per_bit_hop),
    ("global_buffer", "bits"): lambda cfg: horowitz_digital_pj(cfg, cfg.energy.global_buffer_pj_per_bit),
    ("dram", "bits"): lambda cfg: cfg.energy.dram_pj_per_bit,
    ("digital", "ops"): digital_op_pj,
    ("digital", "special_ops"): lambda cfg: horowitz_digital_pj(cfg, cfg.energy.digital_pj_per_special_op),
    ("digital", "macs"): digital_mac_pj,
    ("static", "ns"): lambda cfg: cfg.energy.static_power_mw,
}
"""The price of each priced CIM action (module docstring's table), pJ per unit counted."""


def declared_prices(architecture: str, rules: Mapping[tuple[str, str], Callable], cfg) -> dict[tuple[str, str], float]:
    """Energy per unit of every action declared for ``architecture`` (pJ): 0 when counted only, else its rule."""
    prices = {}
    for action in actions.declared_actions(architecture):
        key = (action.component, action.action)  # action.key, without a call per action
        if action.counted_only:
            prices[key] = 0.0
            continue
        rule = rules.get(key)
        if rule is None:
            priced = ", ".join(f"{c}.{a}" for c, a in rules)
            raise ConfigError(
                f"action {action.component}.{action.action} is declared for a {architecture!r} machine but has no "
                f"price; priced: {priced}; allowed: a price rule for it, or declare it counted_only"
            )
        prices[key] = rule(cfg)
    return prices


def price_table(cfg: ChipConfig) -> dict[tuple[str, str], float]:
    """Energy per unit of every declared CIM action, pJ (0 for counted-only actions)."""
    return declared_prices("cim", CIM_PRICES, cfg)


class EnergyModel:
    """Prices the declared actions of one configuration and records them, priced, in a Ledger."""

    architecture: ClassVar[str] = "cim"  # whose declared actions it prices (cimsim.costs.actions.DECLARED)
    price_table = staticmethod(price_table)

    def __init__(self, cfg: ChipConfig):
        self.cfg = cfg
        self.prices = self.price_table(cfg)

    def unit_energy_pj(self, component: str, action: str) -> float:
        """Energy of one unit of ``action`` on ``component`` (pJ); 0 for counted-only actions."""
        try:
            return self.prices[(component, action)]
        except KeyError:
            raise actions.undeclared_error(component, action, self.architecture) from None
    def charge(self, ledger: Ledger, component: str, action: str, count: float, layer: str = "") -> None:
        """Add ``count`` of an action to ``ledger`` with its energy."""
        ledger.add(component, action, count, count * self.unit_energy_pj(component, action), layer)

    def charge_all(self, ledger: Ledger, counts: Iterable[tuple[str, str, float]], layer: str = "") -> None:
        """:meth:`charge` each ``(component, action, count)`` of ``counts`` in turn, all on ``layer``."""
        prices, counts = self.prices, counts if isinstance(counts, (list, tuple)) else list(counts)
        try:  # one comprehension: a plan prices thousands of counts
            priced = [(component, action, count, count * prices[component, action])
                      for component, action, count in counts]
        except KeyError:  # not declared: unit_energy_pj raises the error that says so
            for component, action, _ in counts:
                self.unit_energy_pj(component, action)
            raise
        ledger.add_all(priced, layer)

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
