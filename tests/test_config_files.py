"""Configuration files start from a preset (``base = "..."``) or give every field; values beyond
physical sense are refused with their bound and its reason unless ``meta.allow_unphysical``."""

import tomllib
from pathlib import Path

import pytest

import cimsim
from cimsim.cli import main
from cimsim.sweep import load_sweep, run_sweep

PRESET_DIR = Path(cimsim.__file__).parent / "config" / "presets"


def refused(action, *fragments: str) -> str:
    with pytest.raises(cimsim.ConfigError) as error:
        action()
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# --------------------------------------------------------------------------- base = "preset"


def test_a_file_on_a_base_preset_changes_only_what_it_names(write_file):
    path = write_file("my-rram.toml", """
        base = "rram-22nm"

        [adc]
        bits = 6
        """)
    cfg = cimsim.load_config(path)
    assert cfg == cimsim.load_preset("rram-22nm").override({"adc.bits": 6, "meta.name": "my-rram"})
    assert cfg.meta.name == "my-rram"  # the file's name, so titles and reports do not say "rram-22nm"


def test_a_file_on_a_base_keeps_the_name_it_sets_and_may_start_from_the_baseline(write_file):
    path = write_file("vn.toml", """
        base = "vn-45nm"

        [meta]
        name = "half-vn"

        [pe]
        pes = 128
        """)
    cfg = cimsim.load_config(path)
    assert isinstance(cfg, cimsim.VonNeumannConfig)
    assert cfg == cimsim.load_preset("vn-45nm").override({"pe.pes": 128, "meta.name": "half-vn"})


@pytest.mark.parametrize("text, fragments", [
    ('base = "rram-23nm"\n', ["base: got 'rram-23nm'", "allowed: a preset name", "rram-22nm", "isaac"]),
    ('base = 3\n', ["base: got 3", "allowed: a preset name"]),
    ('base = "isaac"\n[adc]\nbits = 0\n', ["adc.bits: got 0"]),
    ('base = "isaac"\n[adcs]\nbits = 6\n', ["unknown section 'adcs'"]),
    ('base = "isaac"\n[adc]\nbitz = 6\n', ["unknown field 'adc.bitz'"]),
])
def test_a_bad_base_or_a_bad_value_on_a_base_is_refused_naming_the_file(write_file, text, fragments):
    path = write_file("chip.toml", text)
    refused(lambda: cimsim.load_config(path), "chip.toml", *fragments)


def test_a_file_without_base_that_leaves_fields_out_is_refused_listing_them(write_file):
    path = write_file("partial.toml", """
        [adc]
        bits = 6

        [array]
        rows = 64
        """)
    message = refused(lambda: cimsim.load_config(path), "partial.toml", "missing fields:", "adc.range",
                      "array.cols", "[device]", "[energy]", 'base = "<preset>"')
    assert "adc.bits" not in message and "array.rows" not in message  # given, so not missing
    assert "meta." not in message  # [meta] describes the configuration: its fields may be left out


def test_missing_fields_and_bad_values_are_reported_together(write_file):
    path = write_file("partial.toml", "[adc]\nbits = 99\n")
    refused(lambda: cimsim.load_config(path), "missing fields:", "adc.range", "adc.bits: got 99")


def test_every_preset_is_a_complete_file():
    for path in sorted(PRESET_DIR.glob("*.toml")):
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
        assert "base" not in tables, path.name
        cfg = cimsim.load_preset(path.stem)
        for section, fields in cfg.to_dict().items():
            assert set(tables[section]) == set(fields), (path.name, section)


def test_a_saved_configuration_loads_back_without_base(tmp_path):
    cfg = cimsim.load_preset("pcm").override({"adc.bits": 7})
    cfg.save(tmp_path / "pcm7.toml")
    assert cimsim.load_config(tmp_path / "pcm7.toml") == cfg


def test_the_command_line_and_sweeps_take_a_file_on_a_base(write_file, tmp_path, capsys):
    write_file("small.toml", 'base = "isaac"\n\n[chip]\ntiles = 4\n')
    assert main(["peak", str(tmp_path / "small.toml")]) == 0
    assert "TOPS" in capsys.readouterr().out
    cimsim.Workload([cimsim.Gemm("fc", m=2, k=64, n=16)], name="fc").to_json(tmp_path / "fc.json")
    sweep = write_file("s.toml", '[sweep]\nchip = ["small.toml", "isaac"]\nworkloads = "fc.json"\n')
    assert len(load_sweep(sweep).points) == 2
    rows = run_sweep(sweep, tmp_path / "s.csv", workers=1, progress=False).rows()
    assert [row["error"] for row in rows] == [None, None]
    assert rows[0]["area_um2"] < rows[1]["area_um2"]  # 4 tiles against isaac's 168


# --------------------------------------------------------------------------- physical bounds


ISAAC = cimsim.load_preset("isaac")


@pytest.mark.parametrize("path, value, bound, reason", [
    ("array.rows", 10**9, "at most 4,096", "64 to 1024 cells a side"),
    ("array.cols", 4097, "at most 4,096", "IR drop"),
    ("adc.bits", 17, "at most 16", "12-14 effective bits"),
    ("chip.clock_ghz", 11.0, "at most 10", "6 GHz"),
])
def test_a_value_beyond_physical_sense_is_refused_with_its_bound_and_reason(path, value, bound, reason):
    refused(lambda: ISAAC.override({path: value}), f"{path}: got {value!r}", bound, reason,
            "meta.allow_unphysical = true")
    allowed = ISAAC.override({path: value, "meta.allow_unphysical": True})
    assert allowed.get(path) == value


def test_values_at_the_bounds_are_accepted():
    cfg = ISAAC.override({"array.rows": 4096, "array.cols": 4096, "tile.groups_per_tile": 1, "adc.bits": 16,
                          "chip.clock_ghz": 10.0})
    assert (cfg.array.rows, cfg.adc.bits) == (4096, 16)


def test_a_chip_larger_than_2000_mm2_is_refused():
    # ISAAC: 85.4 mm² = 168 tiles of about 0.372 mm² + 22.88 mm² of links (ISAAC-40); 10 million tiles make
    # 10e6 × 0.372 + 22.88 ≈ 3.7e6 mm², the chip the issue saw accepted
    message = refused(lambda: ISAAC.override({"chip.tiles": 10_000_000}), "chip area", "at most 2,000", "reticle",
                      "meta.allow_unphysical = true")
    area_mm2 = float(message.split("got ")[1].split(",")[0])
    assert area_mm2 == pytest.approx(10e6 * (85.42 - 22.88) / 168, rel=0.01)  # the preset's areas to 4 digits
    assert ISAAC.override({"chip.tiles": 2000}).chip.tiles == 2000  # ~770 mm²: a large die, accepted
    assert ISAAC.override({"chip.tiles": 10_000_000, "meta.allow_unphysical": True}).chip.tiles == 10_000_000


def test_a_file_beyond_physical_sense_is_refused_naming_the_file(write_file):
    path = write_file("huge.toml", 'base = "isaac"\n\n[array]\nrows = 1000000000\n')
    refused(lambda: cimsim.load_config(path), "huge.toml", "array.rows: got 1000000000", "at most 4,096")


def test_the_ideal_preset_is_allowed_its_24_bit_adc_and_says_so():
    ideal = cimsim.load_preset("ideal")
    assert ideal.meta.allow_unphysical and ideal.adc.bits == 24
    refused(lambda: ideal.override({"meta.allow_unphysical": False}), "adc.bits: got 24", "at most 16")
