"""What the hardware's actions cost: counting, pricing, time and area.

- :mod:`~cimsim.costs.actions`: every counted action, declared once with its unit;
- :mod:`~cimsim.costs.ledger`: the :class:`Ledger` of counted and priced actions;
- :mod:`~cimsim.costs.energy`: the :class:`EnergyModel` that prices the declared actions from the
  configuration;
- :mod:`~cimsim.costs.array_reads`: the one function that counts the actions of an array read,
  for the functional model, the analytical counts and the peak figures;
- :mod:`~cimsim.costs.adc_energy`: the ADC energy models (table, Walden, survey, CiMLoop);
- :mod:`~cimsim.costs.array_counts`: the actions of a matrix product on the arrays, from shapes
  and input statistics;
- :mod:`~cimsim.costs.latency`: the read timing of an array; :mod:`~cimsim.costs.area`: areas;
- :mod:`~cimsim.costs.peak`: the chip's peak figures;
- :mod:`~cimsim.costs.von_neumann_energy`: the baseline machine's prices.

Costs import physics and the configuration, never the engine.
"""
