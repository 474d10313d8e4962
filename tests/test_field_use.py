"""A set or swept field that no active model reads is said so (issue 13, item 2).

Each claim of ``unread_field_reason`` is checked against the models themselves: a field it calls
ignored leaves the peak figures (energy, time, area) exactly as they were, and a field it calls
read moves them."""

import numpy as np
import pytest

import cimsim
from cimsim.cli import main
from cimsim.costs import unread_field_notes, unread_field_reason
from cimsim.sweep import run_sweep


def peak_numbers(cfg):
    figures = cimsim.peak(cfg)
    return figures.energy_pj_per_mac, figures.cycle_ns, figures.area_mm2


IGNORED = [  # (preset, field, a new value, words the reason must contain)
    ("isaac", "energy.adc_walden_fom_fj_per_step", 3.0, "energy.adc_model = 'table'"),
    ("pcm", "energy.adc_pj_per_conversion", 9.0, "energy.adc_model = 'cimloop'"),
    ("pcm", "area.adc_um2", 9.0, "energy.adc_model = 'cimloop'"),
    ("neurram", "energy.adc_pj_per_conversion", 9.0, "adc.kind = 'integrating'"),
    ("neurram", "adc.sample_rate_gsps", 1.0, "adc.step_ns"),
    ("isaac", "adc.step_ns", 7.0, "adc.kind = 'sar'"),
    ("isaac", "energy.adc_pj_per_step", 7.0, "adc.kind = 'sar'"),
    ("isaac", "chip.global_buffer_gbps", 9.0, "chip.global_buffer_kib = 0"),
    ("neurram", "chip.global_buffer_kib", 9.0, "tile.buffer_kib = 0"),
]


@pytest.mark.parametrize("preset, path, value, why", IGNORED)
def test_a_field_said_to_be_ignored_changes_no_peak_figure_and_the_reason_names_the_setting(preset, path, value, why):
    cfg = cimsim.load_preset(preset)
    reason = unread_field_reason(cfg, path)
    assert reason is not None and reason.startswith(f"{path} is ignored: ") and why in reason
    assert peak_numbers(cfg.override({path: value})) == peak_numbers(cfg)


READ = [  # (preset, field, a new value): each moves energy, time or area
    ("isaac", "adc.bits", 6),
    ("isaac", "dac.bits", 2),
    ("isaac", "energy.adc_pj_per_conversion", 3.0),
    ("isaac", "chip.node_nm", 16.0),
    ("rram-22nm", "energy.adc_reference_bits", 8),
    ("pcm", "adc.sample_rate_gsps", 0.1),
    ("pcm", "chip.node_nm", 22.0),
    ("neurram", "energy.adc_pj_per_step", 0.5),
    ("neurram", "adc.step_ns", 100.0),
    ("isaac", "adc.arrays_per_adc", 2),
]


@pytest.mark.parametrize("preset, path, value", READ)
def test_a_field_said_to_be_read_moves_a_peak_figure(preset, path, value):
    cfg = cimsim.load_preset(preset)
    assert unread_field_reason(cfg, path) is None
    assert peak_numbers(cfg.override({path: value})) != peak_numbers(cfg)


def test_switches_of_other_fields_are_named():
    isaac = cimsim.load_preset("isaac")
    assert "adc.range = 'max'" in unread_field_reason(isaac, "adc.calibration_percentile")
    assert unread_field_reason(cimsim.load_preset("rram-22nm"), "adc.calibration_percentile") is None
    assert "wire_resistance_ohm = 0" in unread_field_reason(isaac, "array.ir_drop")
    vn = cimsim.load_preset("vn-45nm")
    assert "rf_psum_accesses_per_mac = 0" in unread_field_reason(vn, "pe.accumulator_bits")
    assert unread_field_reason(vn, "pe.weight_bits") is None


def test_a_path_that_is_not_a_field_is_a_config_error_naming_it():
    with pytest.raises(cimsim.ConfigError, match="'adc.bitz'"):
        unread_field_reason(cimsim.load_preset("isaac"), "adc.bitz")


def test_notes_say_each_reason_once():
    isaac = cimsim.load_preset("isaac")
    runs = [(isaac, ["adc.step_ns", "adc.bits"]), (isaac.override({"adc.bits": 6}), ["adc.step_ns", "adc.bits"])]
    assert unread_field_notes(runs) == [unread_field_reason(isaac, "adc.step_ns")]


def test_the_cli_prints_one_line_per_ignored_set_field(capsys):
    assert main(["peak", "isaac", "--set", "adc.step_ns=7", "--set", "adc.bits=7"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["note: adc.step_ns is ignored: only an 'integrating' ADC reads it; adc.kind = 'sar'"]


def test_a_sweep_prints_one_line_per_ignored_swept_field(tmp_path, capsys):
    rng = np.random.default_rng(0)
    cimsim.Workload([cimsim.Gemm("fc", m=1, k=16, n=4, weights=rng.standard_normal((16, 4)).astype(np.float32))],
                    name="one").save_npz(tmp_path / "one.npz")
    (tmp_path / "s.toml").write_text('[sweep]\nchip = "isaac"\nworkloads = "one.npz"\n'
                                     '[grid]\n"adc.step_ns" = [1.0, 2.0]\n"adc.bits" = [7, 8]\n')
    run_sweep(tmp_path / "s.toml", tmp_path / "s.csv", workers=1, progress=False)
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert notes == ["note: adc.step_ns is ignored: only an 'integrating' ADC reads it; adc.kind = 'sar'"]
