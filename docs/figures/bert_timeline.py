"""Draw docs/figures/bert_timeline.png: one BERT-base encoder layer on ISAAC at 8-bit precision, in time.

    python docs/figures/bert_timeline.py      # run by hand; rewrites bert_timeline.png beside this script

The CIM side of the CIM against von Neumann table (docs/scheduler.md): ``bert-base-layer`` on
``isaac`` with 8-bit weights and inputs, batch 1, pipelined, analytical fidelity, event timing,
every interval recorded (``simulate(..., record_timeline=True)``) and drawn by
``cimsim.plot.timeline_chart``: one lane per resource (the arrays of each product, the tiles'
buffers, digital units and links, the spill levels), bars coloured by the layer's place in the
network. It prints the report's bottleneck and the busiest resources.
"""

from __future__ import annotations

from pathlib import Path

import cimsim  # first: it sets the thread-pool variables numpy reads when it loads
import tvm_bridge  # noqa: E402
import workloads  # noqa: E402
from cimsim.plot import timeline_chart  # noqa: E402

OUT = Path(__file__).resolve().parent / "bert_timeline.png"


def main() -> None:
    extracted = tvm_bridge.extract(workloads.get("bert-base-layer"))
    wl = cimsim.Workload(extracted.ops, name="bert-base-layer")
    cfg = cimsim.load_preset("isaac").override(
        {"mapping.weight_bits": 8, "mapping.input_bits": 8, "meta.name": "isaac-w8a8"})
    report = cimsim.simulate(wl, cfg, record_timeline=True, progress=False)
    timeline_chart(report, OUT.with_suffix(""))
    OUT.with_suffix(".svg").unlink(missing_ok=True)  # the PNG is the figure the docs show
    busiest = sorted(report.utilisation.items(), key=lambda item: -item[1])[:6]
    print(f"latency {report.latency_ns / 1e3:.1f} us, bottleneck {report.bottleneck}; busiest: "
          + ", ".join(f"{name} {share:.0%}" for name, share in busiest))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
