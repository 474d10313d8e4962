"""Studies: fixed questions answered with the simulator, each a grid of runs, a verdict and figures.

- :mod:`~cimsim.studies.article_claims`: the source article's two claims (data movement over
  90 % of a von Neumann machine's energy; about 1.2 TOPS/W for a GPU against 24 for a CIM chip),
  run over workloads, batch sizes, precisions and every design (``cimsim study article-claims``);
- :mod:`~cimsim.studies.claims_figures`: its figures.
"""

from cimsim.studies.article_claims import CLAIMS, run_claims, runs_table, summary, summary_table, verdicts
from cimsim.studies.claims_figures import data_movement_figure, tops_per_watt_figure, write_figures

__all__ = [
    "CLAIMS", "data_movement_figure", "run_claims", "runs_table", "summary", "summary_table", "tops_per_watt_figure",
    "verdicts", "write_figures",
]
