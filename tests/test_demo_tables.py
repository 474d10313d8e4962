"""The demo's text: the ADC sweep's table has column headers; an undefined figure of a comparison
prints as "n/a" with its reason, never as nan."""

from __future__ import annotations

import cimsim
from cimsim.cli.demo import adc_sweep_table


def test_the_adc_sweep_table_has_its_column_headers():
    rows = [{"adc.bits": 4, "tops_per_watt": 3.757, "layer_relative_error_rms": 2.61},
            {"adc.bits": 10, "tops_per_watt": 0.4406, "layer_relative_error_rms": 0.00881}]
    header, rule, first, last = adc_sweep_table(rows).splitlines()
    assert header.split("  ") == ["ADC bits", "TOPS/W", "layers' relative error (RMS)"]
    assert set(rule) == {"-", " "}
    assert first.split() == ["4", "3.757", "2.61"] and last.split() == ["10", "0.4406", "0.00881"]


def report(config: str, architecture: str, area_um2: float) -> cimsim.Report:
    return cimsim.Report(workload="tiny", config=config, architecture=architecture, batch=1, mode="pipelined",
                         fidelity="analytical", seed=0, energy_pj=100.0, latency_ns=10.0, breakdown={"pe": 100.0},
                         layers=[], macs=1000, area_breakdown_um2={"arrays": area_um2} if area_um2 else {},
                         utilisation={}, events=0, wall_s=0.0, precision="w8a8")


def test_an_undefined_figure_prints_n_a_with_its_reason():
    text = str(cimsim.compare([report("vn-45nm", "von-neumann", 0.0), report("isaac", "cim", 1e6)]))
    area_row = next(line for line in text.splitlines() if line.startswith("TOPS/mm²"))
    # isaac: 2 x 1000 ops in 10 ns = 0.2 TOPS on 1 mm²; the baseline models no area
    assert area_row.split()[1:] == ["n/a", "0.2", "n/a"]
    assert "nan" not in text
    assert text.splitlines()[-1] == "n/a: TOPS/mm² of vn-45nm (von-neumann): the configuration models no chip area"
