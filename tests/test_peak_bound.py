"""No network beats the peak of its own chip at its own input activity (issue 13, items 1 and 7).

``report.input_activity`` is the activity a workload drove (cimsim.costs.peak.workload_input_activity):
at it the peak spends no more per MAC on row drives and cell reads than the workload did, and the
peak streams the cheaper of signed and unsigned inputs. Every CIM preset runs the zoo networks
that fit it (analytical, closed-form timing: the same energy as the event engine); a network
larger than a preset's arrays runs with chip.oversubscription = "reprogram". Left out:
xue-rram-22nm and jia-65nm, whose 1-bit inputs cannot carry a network's signed inputs
(ConfigError: signed inputs need at least 2 bits).

Tolerance 2 % (the issue's). Where the whole chip cannot meet it, the test asserts the measured
looser bound with its reason: rram-22nm and ideal price ISAAC's tile data movement, and a
network broadcasts a row block's inputs to all its column arrays (one buffer read, one bus
transfer, one register per array group) while the peak, as ISAAC's Table I, gives every array
inputs of its own; the arrays' energy (everything but data movement) meets the 2 % bound there too.
"""

import functools

import pytest

import cimsim
from cimsim.engine.report import DATA_MOVEMENT
from cimsim.workload_loader import load_workload

pytest.importorskip("tvm")

NETWORKS = ("lenet5", "mlp", "digits-mlp", "digits-cnn", "resnet18", "vgg8", "bert-base-layer")
PRESETS = ("isaac", "rram-22nm", "pcm", "neurram", "ideal", "hermes", "ibm-analog-ai", "wang-c2c-22nm", "sinangil-7nm")
TOLERANCE = 0.02
# Measured network / peak TOPS/W where movement sharing lifts a network above the peak (module docstring):
# rram-22nm: resnet18 1.320, vgg8 1.315, bert-base-layer 1.303, mlp 1.269, digits-mlp 1.003; ideal: vgg8 1.083,
# resnet18 1.026. Bound: the largest, 1.32, plus the 2 %.
MOVEMENT_BOUND = {"rram-22nm": 1.32 * (1 + TOLERANCE), "ideal": 1.083 * (1 + TOLERANCE)}


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
    ratio = report.tops_per_watt / cimsim.peak(cfg, input_activity=report.input_activity).tops_per_watt
    assert ratio <= MOVEMENT_BOUND.get(preset, 1 + TOLERANCE), (preset, network, ratio)


@pytest.mark.parametrize("network", ["mlp", "resnet18", "vgg8", "bert-base-layer"])
@pytest.mark.parametrize("preset", sorted(MOVEMENT_BOUND))
def test_the_arrays_never_beat_the_peak_where_movement_does(preset, network):
    cfg, report = run(preset, network)
    figures = cimsim.peak(cfg, input_activity=report.input_activity)
    peak_pj = figures.tile_energy_pj_per_mac * sum(  # static power: none on these presets, none on the layers
        share for component, share in figures.energy_share.items() if component not in DATA_MOVEMENT)
    on_arrays = [layer for layer in report.layers if layer.arrays > 0]  # attention's products run on digital units
    network_pj = sum(pj for layer in on_arrays for component, pj in layer.energy_by_component.items()
                     if component not in DATA_MOVEMENT) / sum(layer.macs for layer in on_arrays)
    assert network_pj >= peak_pj * (1 - TOLERANCE), (preset, network, network_pj, peak_pj)


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
    """Markdown rows: preset, network, its input activity, its TOPS/W, the peak's at that activity and at 1."""
    lines = ["| preset | network | input activity | network TOPS/W | peak TOPS/W at it | peak TOPS/W at 1 | ratio |",
             "|---|---|---|---|---|---|---|"]
    for preset in PRESETS:
        for network in networks:
            cfg, report = run(preset, network)
            at_activity = cimsim.peak(cfg, input_activity=report.input_activity).tops_per_watt
            lines.append(f"| `{preset}` | {network} | {report.input_activity:.4f} | {report.tops_per_watt:.4g} | "
                         f"{at_activity:.4g} | {cimsim.peak(cfg).tops_per_watt:.4g} | "
                         f"{report.tops_per_watt / at_activity:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(bound_table())
