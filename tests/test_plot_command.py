"""``cimsim plot`` on a sweep's table: series, facets and filters, or a one-line refusal naming the columns left."""

import csv

import pytest

import cimsim
from cimsim.cli.parser import main
from cimsim.sweep import read_table, run_sweep

SWEEP = """
[sweep]
chip = ["isaac", "rram-22nm"]
workloads = ["fc.json"]
batch = [1, 16]
seeds = [0, 1]
[grid]
"array.rows" = [64, 128, 256]
"adc.bits" = [6, 8]
"""
POINTS = 2 * 2 * 2 * 3 * 2  # chips x batches x seeds x array.rows x adc.bits


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """Two chips x three array sizes (x two batches, two ADC resolutions, two seeds) of a saved product, analytical."""
    folder = tmp_path_factory.mktemp("plot")
    cimsim.Workload([cimsim.Gemm("fc", m=8, k=512, n=64, constant=True)], name="fc").to_json(folder / "fc.json")
    (folder / "grid.toml").write_text(SWEEP)
    return run_sweep(folder / "grid.toml", folder / "grid.csv", workers=1, progress=False).path


def plot(capsys, *args):
    """``cimsim plot ARGS`` in this process: exit code, stdout, stderr."""
    code = main(["plot", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_figure_mixing_parameters_is_refused_in_one_line_naming_them(table, capsys):
    assert len(read_table(table)) == POINTS
    code, _, err = plot(capsys, table, "--x", "array.rows", "--series", "chip")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("cimsim: error: cannot draw tops_per_watt against array.rows: the rows differ in "
                          "batch (1, 16); adc.bits (6, 8), and a figure averages only over seeds")
    code, _, err = plot(capsys, table, "--x", "array.rows", "--series", "array.rows")
    assert code == 2 and "column 'array.rows' is given twice" in err


def test_series_facets_and_filters_draw_and_name_the_files(table, capsys):
    out = table.parent / "figures"
    code, stdout, err = plot(capsys, table, "--x", "array.rows", "--series", "chip", "--series", "batch",
                             "--where", "adc.bits=8", "--out", out)
    assert code == 0, err
    series = out / "grid_tops_per_watt_vs_array.rows.png"
    assert str(series) in stdout and series.stat().st_size > 5000
    code, stdout, err = plot(capsys, table, "--x", "array.rows", "--series", "batch", "--facet", "chip",
                             "--where", "adc.bits=8", "--log-y", "--out", out)
    assert code == 0, err
    assert (out / "grid_tops_per_watt_vs_array.rows_by_chip.png").stat().st_size > 5000
    code, stdout, err = plot(capsys, table, "--x", "array.rows", "--series", "chip", "--facet", "batch,adc.bits",
                             "--out", out)
    assert code == 0, err
    assert (out / "grid_tops_per_watt_vs_array.rows_by_batch_by_adc.bits.png").exists()


def test_the_default_x_is_the_first_swept_path_not_used_otherwise(table, capsys):
    out = table.parent / "default-x"
    code, stdout, err = plot(capsys, table, "--series", "chip,batch,array.rows", "--out", out)
    assert code == 0, err
    assert (out / "grid_tops_per_watt_vs_adc.bits.png").exists()  # array.rows, the first path, is a series
    code, stdout, err = plot(capsys, table, "--series", "chip,batch", "--where", "adc.bits=6", "--out", out)
    assert code == 0, err
    assert (out / "grid_tops_per_watt_vs_array.rows.png").exists()


def test_bad_filters_and_missing_files_are_one_line_errors(table, capsys, tmp_path):
    code, _, err = plot(capsys, table, "--x", "adc.bits", "--series", "chip,batch", "--where", "array.rows=100")
    assert code == 2 and "where array.rows = 100: no row has that value; array.rows holds 64, 128, 256" in err
    code, _, err = plot(capsys, table, "--series", "chip", "--where", "batch=1", "--where", "batch=16")
    assert code == 2 and "a column is given twice" in err
    code, _, err = plot(capsys, table, "--where", "batch")
    assert code == 2 and "--where 'batch': expected key=value" in err
    code, _, err = plot(capsys, tmp_path / "nosuch.csv")
    assert code == 2 and err.strip() == f"cimsim: error: results '{tmp_path / 'nosuch.csv'}': no such file"


def test_a_parquet_table_plots_as_its_csv_does(table, capsys):
    pytest.importorskip("pyarrow")
    parquet = run_sweep(table.parent / "grid.toml", table.parent / "grid.parquet", workers=1, progress=False).path
    with open(table, newline="") as handle:
        assert len(list(csv.DictReader(handle))) == len(read_table(parquet)) == POINTS
    code, _, err = plot(capsys, parquet, "--x", "array.rows", "--series", "chip,batch,adc.bits", "--out",
                        table.parent / "pq")
    assert code == 0, err
    assert (table.parent / "pq" / "grid_tops_per_watt_vs_array.rows.png").stat().st_size > 5000
