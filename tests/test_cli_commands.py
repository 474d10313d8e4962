"""The cimsim command through its real entry point (a subprocess each), as a user runs it."""

import csv
import json

import pytest

import cimsim


def test_run_prints_the_summary_and_writes_report_layers_and_plots(cimsim_command, tmp_path):
    done = cimsim_command("run", "lenet5", "--chip", "isaac", "--set", "adc.bits=7", "--batch", "2",
                          "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "cimsim report: lenet5 on isaac" in done.stdout and "conv2d_0" in done.stdout
    report = cimsim.Report.from_json(tmp_path / "report.json")
    assert report.batch == 2 and report.timeline
    with open(tmp_path / "report_layers.csv") as f:
        assert len(list(csv.DictReader(f))) == len(report.layers)
    for stem in ("report_layers", "report_timeline", "energy_breakdown"):
        for suffix in (".png", ".svg"):
            assert (tmp_path / f"{stem}{suffix}").stat().st_size > 1000
    assert str(tmp_path / "report.json") in done.stdout  # says where it wrote


def test_compare_puts_chip_and_baseline_side_by_side(cimsim_command, tmp_path):
    done = cimsim_command("compare", "mlp", "--chip", "isaac", "--set", "mapping.weight_bits=8",
                          "--set", "mapping.input_bits=8", "--baseline", "vn-45nm", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "× baseline" in done.stdout and "TOPS/W" in done.stdout
    comparison = json.loads((tmp_path / "comparison.json").read_text())
    chip = cimsim.Report.from_json(tmp_path / "chip.json")
    base = cimsim.Report.from_json(tmp_path / "baseline.json")
    assert comparison["ratios"]["energy_pj"][1] == pytest.approx(chip.energy_pj / base.energy_pj)


def test_compare_strict_refuses_different_precisions_in_one_line(cimsim_command):
    done = cimsim_command("compare", "mlp", "--chip", "isaac", "--baseline", "vn-45nm", "--strict")
    assert done.returncode == 2
    assert done.stderr.startswith("cimsim: error: compare:") and "precision" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_sweep_then_plot_its_table(cimsim_command, tmp_path, write_file):
    write_file("adc.toml", '[sweep]\nchip = "isaac"\nworkloads = ["mlp"]\n[grid]\n"adc.bits" = [6, 7, 8]\n')
    done = cimsim_command("sweep", "adc.toml", "--workers", "1", "--out", "adc.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "adc.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(row["adc.bits"]) for row in rows) == [6, 7, 8]
    done = cimsim_command("plot", "adc.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "adc_tops_per_watt_vs_adc.bits.png").stat().st_size > 1000


def test_every_command_has_help_and_bad_input_exits_2(cimsim_command):
    for command in ("run", "compare", "sweep", "plot", "presets", "workloads", "show", "peak", "demo"):
        done = cimsim_command(command, "--help")
        assert done.returncode == 0 and "usage: cimsim" in done.stdout, command
    done = cimsim_command("run", "lenet6", "--chip", "isaac")
    assert done.returncode == 2 and "lenet6" in done.stderr and "Traceback" not in done.stderr
    done = cimsim_command("run", "mlp", "--chip", "isaac", "--set", "adc.bits=zero")
    assert done.returncode == 2 and "adc.bits" in done.stderr


def test_workloads_lists_the_zoo(cimsim_command):
    done = cimsim_command("workloads")
    assert done.returncode == 0, done.stderr
    import workloads

    assert [line.split()[0] for line in done.stdout.splitlines()] == workloads.list()
