"""A configuration's name carries its preset and every override (cimsim/config/naming.py), in the report
and the figures the ``cimsim`` command writes."""

from __future__ import annotations

import cimsim
from cimsim.config.naming import config_label
from cimsim.plot import energy_breakdown_figure


def test_a_preset_as_it_is_is_named_by_its_name_alone():
    for name in cimsim.list_presets():
        assert config_label(cimsim.load_preset(name)) == name


def test_overrides_read_as_precision_adc_model_and_dotted_fields_in_tree_order():
    isaac = cimsim.load_preset("isaac")
    changed = isaac.override({"adc.bits": 6, "mapping.weight_bits": 8, "mapping.input_bits": 8,
                              "energy.adc_model": "walden", "chip.tiles": 1})
    assert config_label(changed) == "isaac (adc.bits=6, w8a8, chip.tiles=1, walden ADC)"
    assert config_label(isaac.override({"mapping.input_bits": 8})) == "isaac (w16a8)"
    assert config_label(cimsim.load_preset("vn-45nm").override({"pe.pes": 512})) == "vn-45nm (pe.pes=512)"


def test_a_renamed_configuration_is_named_against_the_preset_given_and_meta_is_no_difference():
    renamed = cimsim.load_preset("isaac").override({"meta.name": "isaac-w8a8", "mapping.weight_bits": 8,
                                                    "mapping.input_bits": 8})
    assert config_label(renamed, "isaac") == "isaac (w8a8)"
    assert config_label(renamed) == "isaac-w8a8"  # not a preset's name, no preset given: the name alone


def test_the_command_names_the_report_and_titles_the_figures_with_the_overrides(cimsim_command, tmp_path):
    done = cimsim_command("run", "mlp", "--chip", "isaac", "--set", "adc.bits=6", "--set", "energy.adc_model=walden",
                          "--no-figures", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "cimsim report: mlp on isaac (adc.bits=6, walden ADC)" in done.stdout
    report = cimsim.Report.from_json(tmp_path / "report.json")
    assert report.config == "isaac (adc.bits=6, walden ADC)"
    title = energy_breakdown_figure([report]).axes[0].get_title()
    assert "isaac (adc.bits=6, walden ADC)" in title
