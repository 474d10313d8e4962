"""cimsim.config: the validated configuration tree, its TOML form, overrides and presets."""

import csv
import math
import os
import re
import tomllib
from pathlib import Path

import numpy as np
import pydantic
import pytest

import cimsim.config as config_module
from cimsim.config import (
    ARCHITECTURES,
    ADCConfig,
    ChipConfig,
    DeviceConfig,
    list_presets,
    load_config,
    load_preset,
)
from cimsim.errors import ConfigError

PRESET_DIR = Path(config_module.__file__).parent / "presets"
REFERENCE_CSV = Path(__file__).resolve().parents[1] / "docs" / "reference" / "reference_figures.csv"
SECTIONS = list(ChipConfig.model_fields)


def raises_config_error(func, *needles):
    """Call ``func``; it must raise exactly ConfigError (never a pydantic error) mentioning every needle."""
    with pytest.raises(ConfigError) as info:
        func()
    assert not isinstance(info.value, pydantic.ValidationError)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


# --------------------------------------------------------------------------- presets


def test_list_presets_is_the_sorted_toml_files():
    names = list_presets()
    assert names == sorted(p.stem for p in PRESET_DIR.glob("*.toml"))
    assert {"ideal", "isaac", "rram-22nm", "pcm"} <= set(names)


@pytest.mark.parametrize("name", list_presets())
def test_preset_loads_names_itself_and_its_source(name):
    cfg = load_preset(name)
    assert type(cfg) is ARCHITECTURES[cfg.meta.architecture]
    assert cfg.meta.name == name
    assert re.search(r"\b[A-Z]+-\d+\b", cfg.meta.source), cfg.meta.source
    assert len(cfg.meta.description) > 100


@pytest.mark.parametrize("name", list_presets())
def test_preset_round_trips_through_toml_exactly(name):
    cfg = load_preset(name)
    text = cfg.to_toml()
    again = type(cfg).from_toml(text)
    assert again == cfg
    assert again.to_toml() == text
    assert type(cfg).from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("name", list_presets())
def test_preset_file_sets_every_field(name):
    """A preset must not silently follow a change of the defaults."""
    data = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    cls = ARCHITECTURES[data["meta"]["architecture"]]  # each preset names its kind and is checked against its own tree
    assert list(data) == list(cls.model_fields)
    for section in cls.model_fields:
        assert set(data[section]) == set(getattr(cls.model_fields[section].annotation, "model_fields"))


def test_presets_of_each_architecture_load_as_its_class():
    by_kind = {kind: list_presets(kind) for kind in ARCHITECTURES}
    assert sorted(sum(by_kind.values(), [])) == list_presets()
    assert {"ideal", "isaac"} <= set(by_kind["cim"]) and {"vn-45nm", "gpu-a100", "edge-npu"} <= set(by_kind["von-neumann"])
    for kind, names in by_kind.items():
        assert all(type(load_preset(name)) is ARCHITECTURES[kind] for name in names)
    raises_config_error(lambda: list_presets("gpu"), "'gpu'", "'cim'", "'von-neumann'")


def test_load_config_dispatches_on_meta_architecture(tmp_path, write_file):
    vn = load_preset("vn-45nm").override({"pe.pes": 64})
    vn.save(tmp_path / "vn.toml")
    assert load_config(tmp_path / "vn.toml") == vn
    without_kind = ChipConfig().to_toml().replace('architecture = "cim"\n', "")
    assert type(load_config(write_file("chip.toml", without_kind))) is ChipConfig  # no architecture: CIM
    bad = write_file("bad.toml", '[meta]\narchitecture = "gpu"\n')
    raises_config_error(lambda: load_config(bad), "bad.toml", "meta.architecture", "'gpu'", "'von-neumann'")
    # a tree's own from_toml takes only its own kind
    raises_config_error(lambda: ChipConfig.from_toml(vn.to_toml()), "meta.architecture", "'von-neumann'", "'cim'")


@pytest.mark.parametrize("name", list_presets())
def test_preset_cites_existing_reference_rows(name):
    with REFERENCE_CSV.open(newline="", encoding="utf-8") as fh:
        ids = {row["id"] for row in csv.DictReader(fh)}
    source = load_preset(name).meta.source
    cited = re.findall(r"\b([A-Z]+)-(\d+)(?:\.\.(\d+))?", source)
    assert cited
    for prefix, first, last in cited:
        for number in (first, last or first):
            assert f"{prefix}-{number}" in ids, f"{prefix}-{number} cited by {name} is not a reference row"


def test_ideal_preset_adc_never_rounds_or_clips():
    cfg = load_preset("ideal")
    d = cfg.device
    assert (d.program_noise, d.read_noise, d.drift_nu, d.stuck_off, d.stuck_on) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert cfg.adc.noise_lsb == 0.0 and cfg.adc.range == "max" and cfg.array.wire_resistance_ohm == 0.0
    levels = cfg.array.rows * (2**cfg.array.bits_per_cell - 1) * (2**cfg.dac.bits - 1)
    assert cfg.adc.bits >= math.ceil(math.log2(levels + 1))
    assert cfg.adc.bits == 24


def test_isaac_preset_matches_the_paper():
    cfg = load_preset("isaac")
    assert (cfg.array.rows, cfg.array.cols, cfg.array.bits_per_cell) == (128, 128, 2)
    # ISAAC-06: a 100 ns cycle, set by 128 columns sharing one 1.28 GS/s ADC
    assert cfg.adc.columns_per_adc / cfg.adc.sample_rate_gsps == 100.0
    assert (cfg.mapping.weight_bits, cfg.mapping.input_bits, cfg.dac.bits) == (16, 16, 1)
    assert cfg.mapping.weight_encoding == "offset" and cfg.mapping.flip_columns is True
    assert (cfg.adc.bits, cfg.adc.columns_per_adc, cfg.adc.sample_rate_gsps) == (8, 128, 1.28)
    assert (cfg.tile.arrays_per_group, cfg.tile.groups_per_tile, cfg.chip.tiles) == (8, 12, 168)
    # ISAAC-64: 2.4 mW per IMA x 100 ns / 131,072 cells = 1.831 fJ per cell read at the mean level
    mean_g_us = (cfg.device.g_min_us + cfg.device.g_max_us) / 2
    read_fj = cfg.device.v_read**2 * mean_g_us * cfg.array.t_read_ns  # V^2 * uS * ns = fJ
    assert read_fj == pytest.approx(2.4e-3 * 100e-9 / 131072 * 1e15, rel=1e-9)
    assert cfg.energy.adc_pj_per_conversion == 1.5625
    # lossless width is 9 bits (ADC-17: log2 R + v + w - 1 with v = 1); flipped columns save one
    levels = cfg.array.rows * (2**cfg.array.bits_per_cell - 1) * (2**cfg.dac.bits - 1)
    assert cfg.adc.bits == math.ceil(math.log2(levels + 1)) - 1 == 8


def test_rram_and_pcm_presets_take_their_sources_values():
    rram = load_preset("rram-22nm")
    assert rram.device.g_max_us == 10.0 and rram.device.g_min_us == pytest.approx(1 / 1.7, rel=1e-15)
    assert (rram.device.v_read, rram.array.t_read_ns, rram.adc.bits, rram.adc.columns_per_adc) == (0.5, 10.0, 5, 8)
    pcm = load_preset("pcm")
    assert (pcm.device.g_min_us, pcm.device.g_max_us, pcm.array.rows) == (0.0, 25.0, 512)
    for field in ("program_noise", "read_noise", "drift_nu"):
        assert getattr(pcm.device, field) == "pcm_nandakumar2019"
    # 8-bit differential weights: 7 magnitude bits fit one cell per sign
    assert pcm.mapping.weight_bits - 1 == pcm.array.bits_per_cell


def test_unknown_preset_lists_the_available_ones():
    raises_config_error(lambda: load_preset("isaac-ce"), "'isaac-ce'", *list_presets())


# --------------------------------------------------------------------------- the tree


def test_default_config_is_valid_and_round_trips():
    cfg = ChipConfig()
    assert ChipConfig.from_toml(cfg.to_toml()) == cfg
    assert ChipConfig.from_toml("") == cfg
    assert cfg.meta.name == "custom"


def test_every_field_is_documented():
    for section in SECTIONS:
        model = ChipConfig.model_fields[section].annotation
        for name, info in model.model_fields.items():
            assert info.description, f"{section}.{name} has no description"


def test_floats_round_trip_bit_exactly():
    awkward = {
        "device.g_min_us": 0.1 + 0.2,
        "device.g_max_us": 1e22,
        "device.v_read": 1 / 3,
        "device.read_noise": 5e-324,
        "energy.dram_pj_per_bit": 1e-300,
    }
    cfg = ChipConfig().override(awkward)
    text = cfg.to_toml()
    again = ChipConfig.from_toml(text)
    assert again == cfg and again.to_toml() == text
    for path, value in awkward.items():
        assert again.get(path).hex() == float(value).hex()


def test_integer_for_a_float_field_is_stored_as_float():
    cfg = ChipConfig.from_toml("[device]\ng_max_us = 500\nread_noise = 0\n")
    assert type(cfg.device.g_max_us) is float and cfg.device.g_max_us == 500.0
    assert type(cfg.device.read_noise) is float


def test_model_name_or_number_union():
    cfg = ChipConfig().override({"device.read_noise": "pcm_nandakumar2019", "device.program_noise": 0.02})
    assert cfg.device.read_noise == "pcm_nandakumar2019"
    assert cfg.device.program_noise == 0.02
    raises_config_error(
        lambda: ChipConfig().override({"device.drift_nu": "pcm"}), "device.drift_nu", "'pcm'", "'pcm_nandakumar2019'"
    )


def test_configs_are_frozen():
    cfg = ChipConfig()
    raises_config_error(lambda: setattr(cfg.adc, "bits", 6), "adc.bits", "override")
    raises_config_error(lambda: setattr(cfg, "adc", ADCConfig(bits=6)), "'adc'")
    raises_config_error(lambda: delattr(cfg.device, "v_read"), "device.v_read")
    assert cfg.adc.bits == 8
    assert {cfg: "usable as a key"}[ChipConfig()] == "usable as a key"


# --------------------------------------------------------------------------- override and get


def test_override_returns_a_new_object_and_leaves_the_original():
    base = load_preset("isaac")
    before = base.to_toml()
    new = base.override({"adc.bits": 6, "device.read_noise": 0.02})
    assert new is not base
    assert (new.adc.bits, new.device.read_noise) == (6, 0.02)
    assert (base.adc.bits, base.device.read_noise) == (8, 0.0)
    assert base.to_toml() == before
    assert new.override({"adc.bits": 8, "device.read_noise": 0.0}) == base


def test_override_validates_the_changed_sections_and_the_whole_tree_and_shares_the_others():
    base = load_preset("isaac")
    new = base.override({"adc.bits": 6})
    assert new.adc is not base.adc and new.dac is base.dac and new.device is base.device  # frozen: shared
    raises_config_error(lambda: base.override({"adc.bits": 0}), "adc.bits", "0")  # the section's bounds
    # the tree's own rule (the chip's area, from chip.tiles and the area section) still runs on one changed field
    raises_config_error(lambda: base.override({"chip.tiles": 10**6}), "chip area", "at most 2,000")


def test_override_applies_all_updates_before_validating():
    # moving the range upwards past the old g_max is only valid as one update
    cfg = ChipConfig().override({"device.g_min_us": 200.0, "device.g_max_us": 300.0})
    assert (cfg.device.g_min_us, cfg.device.g_max_us) == (200.0, 300.0)


def test_override_takes_numpy_scalars_as_their_python_value():
    cfg = ChipConfig().override({"adc.bits": np.int64(6), "device.v_read": np.float32(0.25)})
    assert cfg.adc.bits == 6 and type(cfg.adc.bits) is int
    assert cfg.device.v_read == 0.25
    raises_config_error(lambda: ChipConfig().override({"array.rows": np.bool_(True)}), "array.rows", "True")


def test_get_reads_fields_and_sections():
    cfg = load_preset("pcm")
    assert cfg.get("array.rows") == 512
    assert cfg.get("device") == cfg.device
    raises_config_error(lambda: cfg.get("adc.bitz"), "'adc.bitz'", "bits", "columns_per_adc")
    raises_config_error(lambda: cfg.get("array.rows.x"), "'array.rows'")


def test_override_rejects_a_section_path_and_a_non_mapping():
    raises_config_error(lambda: ChipConfig().override({"adc": {"bits": 6}}), "'adc'")
    raises_config_error(lambda: ChipConfig().override([("adc.bits", 6)]), "mapping")


# --------------------------------------------------------------------------- errors

BAD_UPDATES = [
    pytest.param({"adcc.bits": 6}, ["'adcc'", "adc", "energy"], id="unknown-section"),
    pytest.param({"adc.bitz": 6}, ["'adc.bitz'", "bits", "sample_rate_gsps"], id="unknown-field"),
    pytest.param({"device.g_min_us": -1.0}, ["device.g_min_us", "-1.0", ">= 0"], id="negative-conductance"),
    pytest.param({"device.g_max_us": -5.0}, ["device.g_max_us", "-5.0"], id="negative-gmax"),
    pytest.param({"device.g_min_us": 100.0}, ["device.g_max_us", "100.0", "g_min_us"], id="gmin-equals-gmax"),
    pytest.param({"device.g_min_us": 150.0}, ["device.g_max_us", "100.0", "150.0"], id="gmin-above-gmax"),
    pytest.param({"adc.bits": 0}, ["adc.bits", "got 0", "from 1 to 24"], id="zero-adc-bits"),
    pytest.param({"dac.bits": 0}, ["dac.bits", "got 0"], id="zero-dac-bits"),
    pytest.param({"array.bits_per_cell": 0}, ["array.bits_per_cell", "got 0"], id="zero-cell-bits"),
    pytest.param({"adc.bits": "6"}, ["adc.bits", "'6'", "an integer"], id="string-for-int"),
    pytest.param({"array.rows": True}, ["array.rows", "True", "an integer"], id="bool-for-int"),
    pytest.param({"adc.bits": 6.0}, ["adc.bits", "6.0", "an integer"], id="float-for-int"),
    pytest.param({"device.v_read": [0.2]}, ["device.v_read", "[0.2]", "number"], id="list-for-float"),
    pytest.param({"device.v_read": True}, ["device.v_read", "True"], id="bool-for-float"),
    pytest.param({"device.v_read": math.inf}, ["device.v_read", "inf", "finite"], id="infinite"),
    pytest.param({"mapping.flip_columns": 1}, ["mapping.flip_columns", "got 1", "true or false"], id="int-for-bool"),
    pytest.param(
        {"device.read_noise": "pcm_nandakumar"},
        ["device.read_noise", "'pcm_nandakumar'", "'pcm_nandakumar2019'"],
        id="unknown-model-name",
    ),
    pytest.param({"device.program_noise": -0.1}, ["device.program_noise", "-0.1"], id="negative-noise"),
    pytest.param({"adc.range": "min"}, ["adc.range", "'min'", "'max'", "'calibrated'"], id="bad-literal"),
    pytest.param({"mapping.weight_encoding": "twos"}, ["mapping.weight_encoding", "'twos'", "'offset'"], id="bad-encoding"),
    pytest.param({"adc.calibration_percentile": 0.0}, ["adc.calibration_percentile", "0.0", "> 0"], id="zero-percentile"),
    pytest.param({"device.stuck_on": 1.5}, ["device.stuck_on", "1.5"], id="stuck-above-one"),
    pytest.param(
        {"device.stuck_off": 0.6, "device.stuck_on": 0.5}, ["device.stuck_on", "0.5", "stuck_off"], id="stuck-sum"
    ),
    pytest.param(
        {"device.drift_nu": "pcm_nandakumar2019", "device.drift_nu_std": 0.01},
        ["device.drift_nu_std", "0.01"],
        id="spread-with-named-drift",
    ),
    pytest.param(
        {"mapping.flip_columns": True, "mapping.input_encoding": "bipolar"},
        ["mapping.flip_columns", "True", "bipolar", "unipolar"],
        id="flip-with-bipolar",
    ),
    pytest.param(
        {"mapping.flip_columns": True, "mapping.differential_sensing": "analog"},
        ["mapping.flip_columns", "True", "analog", "unipolar"],
        id="flip-with-analog-differential",
    ),
]


@pytest.mark.parametrize("updates, needles", BAD_UPDATES)
def test_bad_override_raises_config_error_naming_field_and_value(updates, needles):
    raises_config_error(lambda: ChipConfig().override(updates), *needles)


def test_flip_columns_allowed_with_unipolar_currents():
    cfg = ChipConfig().override(
        {"mapping.flip_columns": True, "mapping.weight_encoding": "offset", "mapping.input_encoding": "offset"}
    )
    assert cfg.mapping.flip_columns is True
    digital = ChipConfig().override({"mapping.flip_columns": True})  # differential, converted per column
    assert digital.mapping.differential_sensing == "digital"


def test_constructors_and_from_dict_raise_config_error_too():
    raises_config_error(lambda: ADCConfig(bits=0), "adc.bits", "got 0")
    raises_config_error(lambda: DeviceConfig(g_min_us=5.0, g_max_us=1.0), "device.g_max_us", "1.0")
    raises_config_error(lambda: ChipConfig(adc={"bits": "6"}), "adc.bits", "'6'")
    raises_config_error(lambda: ChipConfig.from_dict({"adc": {"bits": True}}), "adc.bits", "True")
    raises_config_error(lambda: ChipConfig.from_dict({"adc": 5}), "adc", "got 5", "table")
    raises_config_error(lambda: ChipConfig.from_dict(["adc"]), "['adc']")


def test_several_problems_give_one_line_each():
    text = '[device]\ng_min_us = -1.0\n\n[adc]\nbits = 0\nrange = "min"\n'
    message = raises_config_error(lambda: ChipConfig.from_toml(text), "device.g_min_us", "adc.bits", "adc.range")
    assert len(message.splitlines()) == 3


def test_unknown_toml_key_names_the_field_and_lists_the_section():
    message = raises_config_error(lambda: ChipConfig.from_toml("[adc]\nbitz = 6\n"), "unknown field 'adc.bitz'")
    for name in ADCConfig.model_fields:
        assert name in message
    raises_config_error(lambda: ChipConfig.from_toml("[adcs]\nbits = 6\n"), "unknown section 'adcs'", "adc")


def test_toml_syntax_error_gives_the_position():
    raises_config_error(lambda: ChipConfig.from_toml("[adc]\nbits = = 6\n"), "invalid TOML", "line 2")


# --------------------------------------------------------------------------- files


def test_load_config_reads_what_save_wrote(tmp_path):
    cfg = load_preset("rram-22nm").override({"adc.bits": 6})
    path = tmp_path / "chip.toml"
    cfg.save(path)
    assert load_config(path) == cfg
    assert load_config(str(path)) == cfg


def test_load_config_missing_file_names_it(tmp_path):
    missing = tmp_path / "nope.toml"
    raises_config_error(lambda: load_config(missing), str(missing))


def test_load_config_malformed_toml_names_file_and_line(write_file):
    path = write_file("broken.toml", "[adc]\nbits = 6\nrange = max\n")
    raises_config_error(lambda: load_config(path), str(path), "line 3")


def test_load_config_invalid_value_names_file_and_field(write_file):
    path = write_file("bad.toml", "[adc]\nbitz = 6\n")
    raises_config_error(lambda: load_config(path), str(path), "adc.bitz")


def test_save_replaces_an_existing_file_and_leaves_no_temporary(tmp_path, write_file):
    path = write_file("chip.toml", "old contents\n")
    old_inode = path.stat().st_ino
    cfg = load_preset("isaac")
    cfg.save(path)
    assert path.read_text(encoding="utf-8") == cfg.to_toml()
    assert path.stat().st_ino != old_inode  # renamed into place, not rewritten in place
    assert sorted(os.listdir(tmp_path)) == ["chip.toml"]


def test_save_interrupted_keeps_the_old_file(tmp_path, monkeypatch, write_file):
    path = write_file("chip.toml", "old contents\n")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("cimsim.fileio.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        ChipConfig().save(path)
    assert path.read_text(encoding="utf-8") == "old contents\n"
    assert sorted(os.listdir(tmp_path)) == ["chip.toml"]
