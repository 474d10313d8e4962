"""Draw docs/figures/ir_drop.png: how far first-order IR drop is from the solved circuit.

    python docs/figures/ir_drop.py      # run by hand; rewrites ir_drop.png beside this script

Every row of a square array is driven at the same voltage; a column's current is then
Σ_r G_eff[r, c]. For each array size and wire resistance per segment the figure shows the
largest and the smallest excess of the first-order column currents over the solved ones
(``cimsim.physics.circuit.effective_conductance_us``, checked against a direct sparse solve in
tests/test_ir_drop.py), for every cell at g_max = 100 µS and for conductances uniform in 0-100 µS.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cimsim.physics.circuit import effective_conductance_us  # noqa: E402

SIZES = (8, 16, 32, 64, 128, 256)
WIRES_OHM = (0.5, 1.0, 2.5, 5.0)
OUT = Path(__file__).resolve().parent / "ir_drop.png"


def first_order_us(g_us: np.ndarray, wire_ohm: float) -> np.ndarray:
    rows, cols = g_us.shape
    segments = np.arange(cols)[None, :] + 1 + rows - np.arange(rows)[:, None]
    return g_us / (1.0 + g_us * 1e-6 * wire_ohm * segments)


def column_excess(g_us: np.ndarray, wire_ohm: float) -> np.ndarray:
    """First order's column currents over the solved ones, minus 1, all rows at the same voltage."""
    return first_order_us(g_us, wire_ohm).sum(axis=0) / effective_conductance_us(g_us, wire_ohm).sum(axis=0) - 1.0


def main() -> None:
    kinds = {"every cell at g_max = 100 µS": lambda n: np.full((n, n), 100.0),
             "G uniform in 0-100 µS": lambda n: np.random.default_rng(n).uniform(0.0, 100.0, (n, n))}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, (title, draw) in zip(axes, kinds.items()):
        for wire, color in zip(WIRES_OHM, plt.cm.viridis(np.linspace(0, 0.85, len(WIRES_OHM)))):
            excess = [column_excess(draw(n), wire) for n in SIZES]
            ax.plot(SIZES, [100 * e.max() for e in excess], "o-", color=color, label=f"{wire:g} Ω, worst column")
            ax.plot(SIZES, [100 * e.min() for e in excess], "o--", color=color, alpha=0.6, label=f"{wire:g} Ω, best column")
        ax.set(xscale="log", yscale="log", title=title, xlabel="array size (rows = columns)")
        ax.set_xticks(SIZES, [str(n) for n in SIZES])
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("first-order column current − solved (% of solved)")
    axes[1].legend(fontsize=7, ncol=2)
    fig.suptitle("IR drop: first-order overestimate of column currents (all rows driven)")
    fig.tight_layout()
    fig.savefig(OUT, dpi=120)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
