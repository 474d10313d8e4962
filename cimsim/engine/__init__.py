"""The event engine and its results.

- :mod:`~cimsim.engine.plan`: the plan an architecture hands the engine (stages, steps,
  resources) and what the engine returns;
- :mod:`~cimsim.engine.scheduler`: the SimPy scheduler (layer by layer or pipelined);
- :mod:`~cimsim.engine.report`: :class:`Report`, what one simulation found;
- :mod:`~cimsim.engine.comparison`: :func:`compare` and :class:`Comparison`, reports side by side.

The engine imports no architecture: it runs whatever plan it is given.
"""

from cimsim.engine.plan import EngineResult, Interval, MachinePlan, StagePlan, Step
from cimsim.engine.comparison import Comparison, compare
from cimsim.engine.report import LayerRow, Report

__all__ = ["Comparison", "EngineResult", "Interval", "LayerRow", "MachinePlan", "Report", "StagePlan", "Step", "compare"]
