"""Draw docs/figures/ir_drop_accuracy.png and print its table: digits-cnn against wire resistance.

    python docs/figures/ir_drop_accuracy.py     # about a minute; rewrites the PNG beside this script

``tvm_bridge.studies.wire_resistance`` evaluates the trained digits CNN (359 test images) on
``rram-22nm`` with the array wires solved exactly (``array.ir_drop = "solved"``) at 0, 0.5, 1 and
2.5 Ω per segment, once with the preset's offset-encoded weights (a dummy reference column) and
once with differential weights (``mapping.weight_encoding = "differential"``). The chip has no
noise, so one seed gives every number.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tvm_bridge import studies  # noqa: E402

OHMS = (0.0, 0.5, 1.0, 2.5)
ENCODINGS = {"offset (preset: dummy column)": "offset", "differential": "differential"}
OUT = Path(__file__).resolve().parent / "ir_drop_accuracy.png"


def main() -> None:
    fig, (acc_axes, err_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for label, encoding in ENCODINGS.items():
        base = studies.chip("rram-22nm", {"mapping.weight_encoding": encoding})
        rows = studies.wire_resistance("digits-cnn", base=base, ohms=OHMS)
        print(f"\nweights {label}")
        print(studies.format_rows(rows, ("array.wire_resistance_ohm",)))
        acc_axes.plot(OHMS, [100 * r["accuracy"] for r in rows], "o-", label=f"weights {label}")
        err_axes.plot(OHMS, [r["relative_error"] for r in rows], "o-", label=f"weights {label}")
    acc_axes.axhline(100 * rows[0]["float_accuracy"], color="grey", ls=":", label="float model")
    acc_axes.set(xlabel="wire resistance per segment (Ω)", ylabel="test accuracy (%)", ylim=(0, 100),
                 title="Accuracy (359 test images)")
    err_axes.set(xlabel="wire resistance per segment (Ω)", ylabel="‖logits − float‖ / ‖float‖",
                 title="Relative error of the logits")
    for axes in (acc_axes, err_axes):
        axes.set_xticks(OHMS, [f"{r:g}" for r in OHMS])
        axes.grid(True, alpha=0.3)
    acc_axes.legend(fontsize=8, loc="lower left")
    fig.suptitle("digits-cnn on rram-22nm (128 × 128 arrays, 10 µS g_max), IR drop solved")
    fig.tight_layout()
    fig.savefig(OUT, dpi=120)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
