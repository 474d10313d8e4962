"""How a simulation runs: the engine's modes and the fidelities of the counts (defined here only).

Modes (:mod:`cimsim.engine.scheduler`):

* ``"pipelined"``: layers and inferences overlap, each work item starting as soon as what it
  needs of its producers is done;
* ``"layer"``: one layer at a time, in execution order.

Fidelities (:func:`cimsim.simulate`):

* ``"analytical"``: actions are expected values from shapes and a model of the inputs' statistics;
* ``"functional"``: products run on data through the simulated arrays, so the counts are the
  data's own and each layer's relative error is measured.

Timings (:func:`cimsim.simulate`):

* ``"events"``: the SimPy event engine (:mod:`cimsim.engine.scheduler`): contention on shared
  resources, timelines;
* ``"closed-form"``: the same latency from a closed-form pipeline model
  (:mod:`cimsim.engine.closed_form`), without events: exact where no shared resource is
  contended, a lower bound elsewhere; for sweeps.

The first of each is the default.
"""

MODES = ("pipelined", "layer")
"""Run modes of the event engine, the default first."""

FIDELITIES = ("analytical", "functional")
"""Fidelities of an architecture's counts, the default first."""

TIMINGS = ("events", "closed-form")
"""How the engine times a run, the default first."""
