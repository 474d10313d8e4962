"""Data frames and Parquet: Report.to_dataframe, cimsim.sweep.load, sweep tables in Parquet, the ``data`` extra.

pandas and pyarrow are optional (``pip install 'cimsim[data]'``): the tests that use them skip
without them; the tests of what happens without them hide them and always run.
"""

import math
import subprocess
import sys

import numpy as np
import pytest

import cimsim
from cimsim.extras import MissingExtraError
from cimsim.sweep import load, read_table, run_sweep
from test_plot import tiny_workload  # the same two-layer workload the figures use

SWEEP = '[sweep]\nchip = ["isaac", "rram-22nm"]\nworkloads = ["fc.json"]\nseeds = [0, 1]\n[grid]\n"adc.bits" = [4, 8]\n'
POINTS = 2 * 2 * 2  # chips x seeds x adc.bits


@pytest.fixture(scope="module")
def report():
    return cimsim.simulate(tiny_workload(), cimsim.load_preset("isaac"), batch=2)


@pytest.fixture
def sweep_file(tmp_path):
    cimsim.Workload([cimsim.Gemm("fc", m=8, k=256, n=64, constant=True)], name="fc").to_json(tmp_path / "fc.json")
    path = tmp_path / "fc.toml"
    path.write_text(SWEEP)
    return path


def without_wall_time(rows):
    return [{column: value for column, value in row.items() if column != "wall_s"} for row in rows]


# --------------------------------------------------------------------------- Report.to_dataframe


def test_layers_frame_has_one_row_per_layer_indexed_by_name(report):
    pytest.importorskip("pandas")
    frame = report.to_dataframe()
    assert list(frame.index) == ["fc1", "relu", "fc2"] and frame.index.name == "layer"
    assert list(frame.columns) == ["kind", "macs", "energy_pj", "latency_ns", "start_ns", "end_ns", "arrays", "chunks",
                                   "chunk_label", "relative_error"]
    for row in report.layers:
        assert frame.loc[row.name, "energy_pj"] == row.energy_pj
        assert frame.loc[row.name, "latency_ns"] == row.end_ns - row.start_ns
        assert frame.loc[row.name, "macs"] == row.macs
    assert list(frame["macs"]) == [4 * 64 * 32 * 2, 0, 4 * 32 * 16 * 2]  # m x k x n x batch; the relu has no MACs
    assert frame["relative_error"].isna().all()  # analytical: no error measured, NaN (a float column)
    assert str(frame["relative_error"].dtype) == "float64"


def test_components_frame_is_long_and_sums_to_the_reports_energy(report):
    pandas = pytest.importorskip("pandas")
    frame = report.to_dataframe("components")
    assert list(frame.columns) == ["layer", "component", "energy_pj"]
    assert len(frame) == sum(len(row.energy_by_component) for row in report.layers) + 1
    static = frame[frame["component"] == "static"]
    assert len(static) == 1 and pandas.isna(static["layer"].iloc[0])
    assert static["energy_pj"].iloc[0] == report.breakdown["static"]
    assert math.fsum(frame["energy_pj"]) == pytest.approx(report.energy_pj, rel=1e-12)
    assert frame.groupby("component")["energy_pj"].sum().to_dict() == pytest.approx(report.breakdown, rel=1e-12)
    wide = frame.pivot_table(index="layer", columns="component", values="energy_pj")
    assert wide.loc["fc1", "adc"] == report.layers[0].energy_by_component["adc"]
    assert "static" not in wide.columns  # a row without a layer is left out of the per-layer table


def test_an_unknown_table_is_refused_naming_the_allowed_ones(report):
    with pytest.raises(cimsim.ConfigError, match="table = 'layer'; allowed: 'layers', 'components'"):
        report.to_dataframe("layer")


# --------------------------------------------------------------------------- without the extra


def test_without_pandas_the_data_routes_name_the_extra(report, sweep_file, monkeypatch):
    run_sweep(sweep_file, sweep_file.with_suffix(".csv"), workers=1, progress=False)
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(MissingExtraError, match=r"Report.to_dataframe: .*pip install 'cimsim\[data\]'"):
        report.to_dataframe()
    with pytest.raises(MissingExtraError, match=r"cimsim.sweep.load .*pip install 'cimsim\[data\]'"):
        load(sweep_file.with_suffix(".csv"))
    assert len(read_table(sweep_file.with_suffix(".csv"))) == POINTS  # the CSV route needs no extra


def test_without_pyarrow_a_parquet_sweep_is_refused_before_any_work(sweep_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = sweep_file.with_suffix(".parquet")
    with pytest.raises(MissingExtraError, match=r"Parquet.*pip install 'cimsim\[data\]'"):
        run_sweep(sweep_file, out, workers=1, progress=False)
    assert not out.exists()


def test_importing_cimsim_imports_neither_pandas_nor_pyarrow():
    code = ("import sys, cimsim, cimsim.sweep, cimsim.plot, cimsim.cli; "
            "print(sorted({'pandas', 'pyarrow'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- Parquet and load


def test_a_parquet_sweep_holds_the_csv_tables_rows_typed_and_resumes(sweep_file):
    parquet = pytest.importorskip("pyarrow.parquet")
    csv_result = run_sweep(sweep_file, sweep_file.with_suffix(".csv"), workers=1, progress=False)
    result = run_sweep(sweep_file, sweep_file.with_suffix(".parquet"), workers=1, progress=False)
    assert result.computed == POINTS and result.path.suffix == ".parquet"
    assert without_wall_time(result.rows()) == without_wall_time(csv_result.rows())
    schema = parquet.read_schema(result.path)
    types = {name: str(schema.field(name).type) for name in ("chip", "batch", "adc.bits", "tops_per_watt",
                                                            "layer_relative_error_rms", "error")}
    assert types == {"chip": "string", "batch": "int64", "adc.bits": "int64", "tops_per_watt": "double",
                     "layer_relative_error_rms": "double", "error": "string"}
    again = run_sweep(sweep_file, result.path, workers=1, resume=True, progress=False)
    assert (again.computed, again.skipped) == (0, POINTS)


def test_load_reads_csv_and_parquet_into_the_same_frame(sweep_file):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from_csv = load(run_sweep(sweep_file, sweep_file.with_suffix(".csv"), workers=1, progress=False).path)
    from_parquet = load(run_sweep(sweep_file, sweep_file.with_suffix(".parquet"), workers=1, progress=False).path)
    assert from_csv.shape == (POINTS, len(read_table(sweep_file.with_suffix(".csv"))[0]))
    assert list(from_csv["chip"]) == ["isaac"] * 4 + ["rram-22nm"] * 4 and list(from_csv["adc.bits"]) == [4, 8] * 4
    assert str(from_csv["batch"].dtype) == "int64" and str(from_csv["tops_per_watt"].dtype) == "float64"
    assert str(from_csv["layer_relative_error_rms"].dtype) == "float64"  # analytical: all missing, NaN
    assert from_csv["error"].isna().all()
    pandas.testing.assert_frame_equal(from_csv.drop(columns="wall_s"), from_parquet.drop(columns="wall_s"))


def test_load_of_a_missing_or_broken_table_is_a_config_error(tmp_path):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    with pytest.raises(cimsim.ConfigError, match="no such file"):
        load(tmp_path / "none.csv")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(cimsim.ConfigError, match="broken.parquet' cannot be read as Parquet"):
        load(broken)
