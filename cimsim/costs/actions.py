"""Every hardware action cimsim counts, declared once: its component, name, unit and meaning.

A :class:`~cimsim.costs.ledger.Ledger` keys its entries by ``(component, action)`` with these
strings; an :class:`~cimsim.costs.energy.EnergyModel` prices exactly the actions declared for
its architecture (:data:`DECLARED`): each is priced from the configuration, or declared
``counted_only`` (its energy is counted by another action). Building a model with a declared
action it has no price for, or charging an action not declared, is a
:class:`~cimsim.errors.ConfigError`.

Who counts what: the reads of an array, in :func:`cimsim.costs.array_reads.array_read_actions`
(for :class:`~cimsim.crossbar.AnalogMatrix`, the analytical counts of
:mod:`cimsim.costs.array_counts` and :mod:`cimsim.costs.peak`); programming, data movement and
digital operations in :mod:`cimsim.arch.cim`; the baseline's actions in
:mod:`cimsim.arch.von_neumann`; static power over the peak figures' cycle (the engine's report
charges ``static_power_mw`` × latency itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from cimsim.errors import ConfigError


@dataclass(frozen=True)
class Action:
    """One countable action: ``component`` does ``action``, counted in ``unit``."""

    component: str
    action: str
    unit: str
    description: str
    counted_only: bool = False  # no price of its own

    @property
    def key(self) -> tuple[str, str]:
        return self.component, self.action


CIM_ACTIONS: tuple[Action, ...] = (
    Action("cell", "reads", "cells read", "a cell of a driven row read by one pulse (energy in v2g_v2_us)",
           counted_only=True),
    Action("cell", "v2g_v2_us", "V²·µS", "Σ V²·G over the cells read; read energy is that times the read pulse"),
    Action("cell", "writes", "cells", "a cell programmed, program-and-verify included"),
    Action("dac", "conversions", "row drives", "a row driven with a non-zero code in one array for one input cycle"),
    Action("wordline", "row_cycles", "row·cycles",
           "a stored row of an array read for one input cycle, driven or not (its wordline switched or precharged)"),
    Action("sample_hold", "samples", "samples", "a conversion column sampled once"),
    Action("adc", "conversions", "conversions", "a conversion column converted once per segment of input cycles"),
    Action("adc", "steps", "bit decisions", "one bit decision of an integrating ADC"),
    Action("adc", "active_ns", "ADC·ns", "an integrating ADC biased while its array reads"),
    Action("shift_add", "ops", "ops", "a conversion shifted and added into its output"),
    Action("partial_sum", "adds", "adds", "the partial sums of two row blocks added digitally"),
    Action("input_register", "bits", "bits", "input bits written into the input register of a column array"),
    Action("output_register", "bits", "bits", "output bits written into an output register"),
    Action("buffer", "bits", "bits", "tile buffer bits read or written"),
    Action("bus", "bits", "bits", "bits across a tile's bus, between its buffer and its array groups"),
    Action("noc", "bit_hops", "bit·hops", "bits times the links they cross between tiles"),
    Action("global_buffer", "bits", "bits", "global buffer bits read or written"),
    Action("dram", "bits", "bits", "DRAM bits read or written"),
    Action("digital", "ops", "ops", "elementary operations of element-wise non-GEMM operations on the digital units"),
    Action("digital", "special_ops", "ops",
           "elementary operations of special functions (softmax, normalisation, GELU-like) on the digital units"),
    Action("digital", "macs", "MACs", "multiply-accumulates of activation x activation products on the digital units"),
    Action("static", "ns", "ns", "elapsed time, for the static power"),
)
"""The actions of a crossbar chip (:class:`~cimsim.config.ChipConfig`)."""

VON_NEUMANN_ACTIONS: tuple[Action, ...] = (
    Action("pe", "macs", "MACs", "one multiply-accumulate of the PE array at its precision (zeros included)"),
    Action("register_file", "bits", "bits", "register-file bits read or written"),
    Action("global_buffer", "bits", "bits", "global buffer bits read or written"),
    Action("dram", "bits", "bits", "DRAM bits read or written"),
    Action("digital", "ops", "ops", "elementary operations of non-GEMM operations"),
    Action("static", "ns", "ns", "elapsed time, for the static power"),
)
"""The actions of the von Neumann baseline (:class:`~cimsim.config.von_neumann.VonNeumannConfig`)."""

DECLARED: dict[str, tuple[Action, ...]] = {"cim": CIM_ACTIONS, "von-neumann": VON_NEUMANN_ACTIONS}
"""The declared actions of each architecture (``meta.architecture``)."""


def declared_actions(architecture: str) -> tuple[Action, ...]:
    """The actions declared for ``architecture``."""
    try:
        return DECLARED[architecture]
    except KeyError:
        allowed = ", ".join(map(repr, DECLARED))
        raise ConfigError(f"meta.architecture: got {architecture!r}, allowed: {allowed}") from None


def undeclared_error(component: str, action: str, architecture: str) -> ConfigError:
    """The error for charging ``component.action``, which ``architecture`` does not declare."""
    names = ", ".join(f"{a.component}.{a.action}" for a in declared_actions(architecture))
    return ConfigError(f"action {component}.{action} is not declared for a {architecture!r} machine; "
                       f"declared: {names} (cimsim/costs/actions.py)")
