"""The cimsim command and the demonstration behind `make demo`."""

import json
import os

import numpy as np
import pytest

import cimsim
from cimsim.cli import main
from cimsim.cli.demo import ADC_BITS, DRIFT_TIMES_S, run_layer_demo


def test_presets_command_lists_every_preset_with_a_line_of_its_description(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == cimsim.list_presets()
    for line in lines:
        name, architecture, description = line.split(maxsplit=2)
        meta = cimsim.load_preset(name).meta
        assert architecture == meta.architecture
        flat = " ".join(meta.description.split())
        # the first sentence whole, or clipped at a word to at most 100 characters with an ellipsis
        assert flat.startswith(description.removesuffix("…")) and len(description) <= 100
        assert description.endswith("…") or flat[len(description)] == "."
    assert "1T1R RRAM at 22 nm with NeuroSim V1.4's defaults" in lines[cimsim.list_presets().index("rram-22nm")]


def test_show_prints_toml_that_loads_back_to_the_preset(capsys, tmp_path):
    assert main(["show", "isaac"]) == 0
    path = tmp_path / "isaac.toml"
    path.write_text(capsys.readouterr().out)
    assert cimsim.load_config(path) == cimsim.load_preset("isaac")


def test_bad_input_is_one_line_on_stderr_with_exit_code_2(capsys):
    assert main(["show", "no-such-chip"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cimsim: error:") and "no-such-chip" in err
    assert "Traceback" not in err


def test_debug_flag_shows_the_exception():
    with pytest.raises(cimsim.ConfigError):
        main(["--debug", "show", "no-such-chip"])


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_layer_demo(out, seed=0)


def test_demo_writes_its_report_and_figures(demo_report):
    out, report = demo_report
    assert json.loads((out / "report.json").read_text()) == report
    for stem in ("error_vs_adc_bits", "error_vs_drift_time"):
        for suffix in (".png", ".svg"):
            assert (out / f"{stem}{suffix}").stat().st_size > 1000
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_demo_results_follow_the_physics(demo_report):
    _, report = demo_report
    errors = {row["preset"]: row["relative_error"] for row in report["presets"]}
    assert set(errors) == set(cimsim.list_presets("cim"))  # the demo programs crossbars: CIM presets only
    # isaac: 16-bit weights and inputs, lossless 8-bit ADC with flipped columns, no device noise:
    # only 16-bit quantisation remains, ~2^-15 relative per operand.
    assert errors["isaac"] < 1e-3
    # ideal: 8-bit weights and inputs; the relative error of a 512-term sum of products quantised
    # to 8 bits is of order 2^-8 (it is not zero, and not larger than a few percent).
    assert 1e-3 < errors["ideal"] < 0.05
    # ISAAC-50: one ADC conversion per 16b x 16b MAC (8 cells per weight x 16 cycles / 128 rows).
    isaac = next(row for row in report["presets"] if row["preset"] == "isaac")
    assert isaac["adc_conversions_per_mac"] == pytest.approx(1.0)
    # Fewer ADC bits can only lose information on the isaac preset (no noise): error is non-increasing.
    curve = report["error_vs_adc_bits"]["isaac"]
    assert len(curve) == len(ADC_BITS) and np.all(np.diff(curve) <= 1e-12)
    # PCM drift without compensation: conductances shrink as (t/t0)^-nu, so error grows with time.
    drift = report["pcm_error_vs_drift_time"]["relative_error"]
    assert len(drift) == len(DRIFT_TIMES_S) and drift[-1] > 2 * drift[0]


def test_peak_of_a_von_neumann_preset_is_a_one_line_error(capsys):
    assert main(["peak", "vn-45nm"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cimsim: error: peak:") and "VonNeumannConfig" in err and "'vn-45nm'" in err
    assert "Traceback" not in err


def test_peak_command_prints_the_figures_of_a_preset(capsys):
    assert main(["peak", "isaac"]) == 0
    out = capsys.readouterr().out
    figures = cimsim.peak(cimsim.load_preset("isaac"))
    assert f"{figures.tops:10.4g} TOPS" in out and "set by the adc stage" in out
    assert out.count(" %") == len(figures.energy_share)  # one share line per priced component


def test_the_network_demo_compares_both_variants_and_sweeps_the_adc(tmp_path):
    from cimsim.cli.demo_network import ADC_BITS as SWEPT_BITS
    from cimsim.cli.demo_network import VARIANTS, run_network_demo

    found = run_network_demo(tmp_path, seed=0)
    assert set(found["comparisons"]) == set(VARIANTS)
    for table in found["comparisons"].values():
        assert len(table["labels"]) == 2 and "× baseline" in table["table"]
    rows = sorted(found["adc_sweep"], key=lambda row: row["adc.bits"])
    assert [row["adc.bits"] for row in rows] == SWEPT_BITS
    # Walden's ADC energy doubles with each bit: efficiency can only fall; resolution can only help
    # (no noise on this chip), down to the 8-bit lossless point of ISAAC's flipped columns (ADC-17)
    efficiency = [row["tops_per_watt"] for row in rows]
    error = [row["layer_relative_error_rms"] for row in rows]
    assert all(a > b for a, b in zip(efficiency, efficiency[1:]))
    assert all(a >= b - 1e-12 for a, b in zip(error, error[1:]))
    assert error[SWEPT_BITS.index(8)] == pytest.approx(error[-1])
    for path in found["files"]:
        assert os.path.getsize(path) > 100, path
