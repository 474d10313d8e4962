"""No network beats the peak of its own chip at its own input activity (issue 13, items 1 and 7).

``report.input_activity`` is the activity a workload drove (cimsim.costs.peak.workload_input_activity):
at it the peak spends no more per MAC on row drives and cell reads than the workload did, and the
peak streams the cheaper of signed and unsigned inputs. Every CIM preset runs the zoo networks
that fit it (analytical, closed-form timing: the same energy as the event engine); a network
larger than a preset's arrays runs with chip.oversubscription = "reprogram". Left out:
xue-rram-22nm and jia-65nm, whose 1-bit inputs cannot carry a network's signed inputs
(ConfigError: signed inputs need at least 2 bits).

Tolerance 2 % (the issue's), on every case. The peak counts data movement as a network does
(cimsim.costs.peak.broadcast_arrays): a row block's inputs are read from the tile buffer once and
broadcast to the column arrays of one tile. What the peak leaves out is left out of the network's
figure too: products of two activations (attention's Q.K^T and A.V) run on the tile's digital units,
not on arrays, at a cost per MAC unrelated to the arrays' (on rram-22nm 0.048 pJ against 0.38), so
their MACs and energy are taken out of the network's TOPS/W (``array_tops_per_watt``); networks
without such products are measured whole.
"""

import functools

import pytest

import cimsim
from cimsim.workload_loader import load_workload

pytest.importorskip("tvm")

NETWORKS = ("lenet5", "mlp", "digits-mlp", "digits-cnn", "resnet18", "vgg8", "bert-base-layer")
PRESETS = ("isaac", "rram-22nm", "pcm", "neurram", "ideal", "hermes", "ibm-analog-ai", "wang-c2c-22nm", "sinangil-7nm")
TOLERANCE = 0.02


def array_tops_per_watt(report) -> float:
    """The network's TOPS/W without its products on digital units (arrays 0, MACs > 0): the MACs a peak counts."""
    digital = [layer for layer in report.layers if layer.arrays == 0 and layer.macs > 0]
    macs = report.macs - sum(layer.macs for layer in digital)
    return 2 * macs / (report.energy_pj - sum(layer.energy_pj for layer in digital))


@functools.cache
def workload(name):
    return load_workload(name)


@functools.cache
def run(preset, network):
    cfg = cimsim.load_preset(preset)
    try:
        return cfg, cimsim.simulate(workload(network), cfg, timing="closed-form", progress=False)
    except cimsim.ConfigError as error:
        if "oversubscription" not in str(error):
            raise
    cfg = cfg.override({"chip.oversubscription": "reprogram"})
    return cfg, cimsim.simulate(workload(network), cfg, timing="closed-form", progress=False)


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("preset", PRESETS)
def test_a_network_never_beats_its_peak_at_its_activity(preset, network):
    cfg, report = run(preset, network)
    assert 0 < report.input_activity <= 1
    ratio = array_tops_per_watt(report) / cimsim.peak(cfg, input_activity=report.input_activity).tops_per_watt
    assert ratio <= 1 + TOLERANCE, (preset, network, ratio)


@pytest.mark.parametrize("preset", ["ideal", "neurram", "pcm"])
def test_functional_counts_carry_an_activity_under_the_bound_too(preset):
    cfg = cimsim.load_preset(preset)  # the crossbar's own drives and V²G, from the codes it drove
    report = cimsim.simulate(workload("mlp"), cfg, fidelity="functional", timing="closed-form", progress=False)
    assert 0 < report.input_activity <= 1
    assert report.tops_per_watt <= cimsim.peak(cfg, input_activity=report.input_activity).tops_per_watt * (1 + TOLERANCE)


def test_a_report_of_a_von_neumann_machine_has_no_input_activity():
    report = cimsim.simulate(workload("mlp"), cimsim.load_preset("vn-45nm"), timing="closed-form", progress=False)
    assert report.input_activity is None


def bound_table(networks=("resnet18", "vgg8")) -> str:
    """Markdown rows: preset, network, its input activity, its TOPS/W, the peak's at that activity and at 1, the ratio.

    The ratio is the test's: the network's TOPS/W on its array MACs (``array_tops_per_watt``) over the peak's."""
    lines = ["| preset | network | input activity | network TOPS/W | peak TOPS/W at it | peak TOPS/W at 1 | ratio |",
             "|---|---|---|---|---|---|---|"]
    for preset in PRESETS:
        for network in networks:
            cfg, report = run(preset, network)
            at_activity = cimsim.peak(cfg, input_activity=report.input_activity).tops_per_watt
            lines.append(f"| `{preset}` | {network} | {report.input_activity:.4f} | {report.tops_per_watt:.4g} | "
                         f"{at_activity:.4g} | {cimsim.peak(cfg).tops_per_watt:.4g} | "
                         f"{array_tops_per_watt(report) / at_activity:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(bound_table())
