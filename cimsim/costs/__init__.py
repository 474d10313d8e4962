"""What the hardware's actions cost: counting, pricing, time and area.

- :mod:`~cimsim.costs.actions`: every counted action, declared once with its unit;
- :mod:`~cimsim.costs.ledger`: the :class:`Ledger` of counted and priced actions;
- :mod:`~cimsim.costs.energy`: the :class:`EnergyModel` that prices the declared actions from the
  configuration;
- :mod:`~cimsim.costs.array_reads`: the one function that counts the actions of an array read,
  for the functional model, the analytical counts and the peak figures;
- :mod:`~cimsim.costs.adc_energy`: the registry of ADC energy models (table, Walden, survey, CiMLoop
  built in; :mod:`~cimsim.costs.adc_model` the protocol; :mod:`~cimsim.costs.adc_survey` and
  :mod:`~cimsim.costs.adc_cimloop` the survey frontier and CiMLoop's closed forms);
- :mod:`~cimsim.costs.array_counts`: the actions of a matrix product on the arrays, from shapes
  and input statistics;
- :mod:`~cimsim.costs.latency`: the read timing of an array; :mod:`~cimsim.costs.area`: areas;
- :mod:`~cimsim.costs.peak`: the chip's peak figures;
- :mod:`~cimsim.costs.scaling`: how DAC and digital prices follow bits and node;
- :mod:`~cimsim.costs.field_use`: which configuration fields the active models read, and why not;
- :mod:`~cimsim.costs.von_neumann_energy`: the baseline machine's prices.

Costs import physics and the configuration, never the engine. Public: the names below.
"""

from cimsim.costs.actions import Action, declared_actions
from cimsim.costs.adc_energy import (
    CimloopArea,
    list_adc_energy_models,
    register_adc_energy_model,
    unregister_adc_energy_model,
)
from cimsim.costs.adc_model import AdcEnergyModel, require_adc_input
from cimsim.costs.array_counts import weight_arrays
from cimsim.costs.energy import EnergyModel
from cimsim.costs.field_use import unread_field_notes, unread_field_reason
from cimsim.costs.ledger import Ledger
from cimsim.costs.peak import PeakFigures  # the function is cimsim.peak: a name peak here would hide the module

__all__ = [
    "Action", "AdcEnergyModel", "CimloopArea", "EnergyModel", "Ledger", "PeakFigures", "declared_actions",
    "list_adc_energy_models", "register_adc_energy_model", "require_adc_input",
    "unread_field_notes", "unread_field_reason", "unregister_adc_energy_model", "weight_arrays",
]
