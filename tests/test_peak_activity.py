"""Peak figures at an input activity: cimsim.peak(cfg, input_activity=a) (issue 13, brief item 7, first part).

a is the mean fraction of the DAC's full scale driven per row and cycle. The default, 1, is the
activity published peak tables assume (ISAAC's Table I powers: every driver switching every cycle)."""

import pytest

import cimsim
from cimsim.costs.peak import activity_drives_and_code_sq

ISAAC = cimsim.load_preset("isaac")


@pytest.mark.parametrize("activity, top, expected", [
    (1.0, 1, (1.0, 1.0)),       # full scale: every row driven at the top code
    (0.3, 1, (0.3, 0.3)),       # 1-bit DAC: codes are 0 or 1, so E[c²] = E[c] = 0.3
    (0.5, 3, (0.5, 2.5)),       # 2-bit: a·top = 1.5 -> half at code 1, half at code 2: (1 + 4) / 2
    (1.0, 255, (1.0, 65025.0)),  # 8-bit at full scale: 255²
    (0.0, 7, (0.0, 0.0)),
])
def test_the_least_drives_and_mean_code_square_at_an_activity(activity, top, expected):
    assert activity_drives_and_code_sq(activity, top) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("activity", [0.0, 0.25, 0.5, 1.0])
def test_isaac_saves_its_drivers_and_cells_in_proportion_to_the_activity(activity):
    # ISAAC per MAC at full activity: DAC 0.390625 pJ (ISAAC-57); cells 128 reads x 0.3² V² x 20.345 µS x 1 ns
    # = 128 x 1.8310546875 fJ = 0.234375 pJ (ISAAC-64). Both scale with a; nothing else moves.
    saved_pj_per_mac = (1 - activity) * (0.390625 + 128 * 0.09 * (1 / 3 + 40.35677083333333) / 2 * 1e-3)
    full, partial = cimsim.peak(ISAAC), cimsim.peak(ISAAC, input_activity=activity)
    assert full.tile_energy_pj_per_mac - partial.tile_energy_pj_per_mac == pytest.approx(saved_pj_per_mac, rel=1e-9)
    assert partial.input_activity == activity and partial.tops == full.tops


def test_the_default_is_full_activity_and_isaac_validates_there():
    assert cimsim.peak(ISAAC).input_activity == 1.0
    assert cimsim.peak(ISAAC).tops_per_watt == cimsim.peak(ISAAC, input_activity=1.0).tops_per_watt


@pytest.mark.parametrize("preset", ["isaac", "rram-22nm", "pcm", "neurram", "ideal"])
def test_less_activity_never_costs_more(preset):
    cfg = cimsim.load_preset(preset)
    efficiencies = [cimsim.peak(cfg, input_activity=a).tops_per_watt for a in (1.0, 0.5, 0.1)]
    assert efficiencies == sorted(efficiencies)


@pytest.mark.parametrize("activity", [-0.1, 1.5, float("nan")])
def test_an_activity_outside_0_1_is_a_config_error_naming_it(activity):
    with pytest.raises(cimsim.ConfigError, match="input_activity"):
        cimsim.peak(ISAAC, input_activity=activity)


def movement_per_array(cfg) -> dict:
    from cimsim.costs.peak import array_vector_ledger

    ledger, _, _ = array_vector_ledger(cfg)
    return {c: ledger.count(c, a) for c, a in [("input_register", "bits"), ("buffer", "bits"), ("bus", "bits"),
                                               ("noc", "bit_hops"), ("output_register", "bits")]}


def test_the_peak_broadcasts_a_row_block_s_inputs_to_the_arrays_of_a_tile():
    # ISAAC-CE, one vector: a row block of 128 rows x 16 input bits = 2048 bits spans the 96 arrays of a tile
    # (8 per IMA x 12 IMAs); each array has 16 outputs x 16 bits = 256 output bits. Per array:
    #   input registers: 2048 bits x 12 IMA fills / 96 arrays = 256;  output registers: 256
    #   buffer: (2 x 2048 written and read once + 96 x 256 written) / 96 = (4096 + 24576) / 96 = 298.67
    #   bus and network: (2048 + 24576) / 96 = 277.33
    counts = movement_per_array(ISAAC)
    assert counts == pytest.approx({"input_register": 256.0, "buffer": 28672 / 96, "bus": 26624 / 96,
                                    "noc": 26624 / 96, "output_register": 256.0}, rel=1e-12)


def test_a_tile_of_one_array_moves_its_inputs_alone():
    # one array per tile: nothing to share, every array takes its own 2048 input bits
    counts = movement_per_array(ISAAC.override({"tile.arrays_per_group": 1, "tile.groups_per_tile": 1}))
    assert counts == pytest.approx({"input_register": 2048.0, "buffer": 2 * 2048 + 256.0, "bus": 2048 + 256.0,
                                    "noc": 2048 + 256.0, "output_register": 256.0}, rel=1e-12)
