"""How a simulation runs: the engine's modes and the fidelities of the counts (defined here only).

Modes (:mod:`cimsim.engine.scheduler`):

* ``"pipelined"``: layers and inferences overlap, each work item starting as soon as what it
  needs of its producers is done;
* ``"layer"``: one layer at a time, in execution order.

Fidelities (:func:`cimsim.simulate`):

* ``"analytical"``: actions are expected values from shapes and a model of the inputs' statistics;
* ``"functional"``: products run on data through the simulated arrays, so the counts are the
  data's own and each layer's relative error is measured.

The first of each is the default.
"""

MODES = ("pipelined", "layer")
"""Run modes of the event engine, the default first."""

FIDELITIES = ("analytical", "functional")
"""Fidelities of an architecture's counts, the default first."""
