"""cimsim.sweep.run: sweep files, local pool, in-process and Dask runs, atomic tables, kill and resume."""

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

import cimsim
from cimsim.sweep import run as sweep_module
from cimsim.sweep.run import SweepSpec, load_sweep, read_table, run_sweep
from cimsim.sweep.point import columns, run_point

TINY = """
[sweep]
name = "tiny"
chip = ["isaac", "rram-22nm"]
workloads = ["tiny.npz"]
batch = [1, 4]
seeds = [0, 1]
fidelity = ["analytical", "functional"]

[grid]
"adc.bits" = [5, 8]
device.read_noise = [0, 0.05]

[[points]]
"adc.bits" = 6
"""
TINY_POINTS = 2 * 2 * 2 * 2 * (2 * 2 + 1)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    """A directory holding a hand-built two-layer workload (with weights) and the TINY sweep file."""
    folder = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(0)
    workload = cimsim.Workload(
        [
            cimsim.Gemm("fc1", m=1, k=64, n=32, weights=rng.standard_normal((64, 32)).astype(np.float32)),
            cimsim.NonGemm("relu", "activation", 32, inputs=("fc1",)),
            cimsim.Gemm("fc2", m=1, k=32, n=10, weights=rng.standard_normal((32, 10)).astype(np.float32),
                        inputs=("relu",)),
        ],
        name="tiny",
    )
    workload.save_npz(folder / "tiny.npz")
    workload.to_json(folder / "tiny.json")
    (folder / "tiny.toml").write_text(TINY)
    return folder


def without_wall_time(rows):
    return [{column: value for column, value in row.items() if column != "wall_s"} for row in rows]


# --------------------------------------------------------------------------- sweep files


def test_sweep_file_gives_every_combination_with_ids_that_name_parameters_not_positions(sweep_dir):
    spec = load_sweep(sweep_dir / "tiny.toml")
    assert len(spec.points) == TINY_POINTS and spec.name == "tiny"
    assert spec.paths == ("adc.bits", "device.read_noise")
    assert len({point.id for point in spec.points}) == TINY_POINTS
    assert load_sweep(sweep_dir / "tiny.toml").points == spec.points  # stable across loads
    # a smaller sweep, written differently (a float 0.0 for the integer-looking 0, values reordered,
    # a point given twice), names its points with the same ids
    small = SweepSpec.from_dict(
        {
            "sweep": {"chip": "rram-22nm", "workloads": "tiny.npz", "batch": 4, "seeds": 1, "fidelity": "functional"},
            "grid": {"device": {"read_noise": [0.05, 0.0]}, "adc.bits": [8, 8]},
        },
        base_dir=sweep_dir,
    )
    assert len(small.points) == 2
    assert {point.id for point in small.points} <= {point.id for point in spec.points}


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[sweep]\nchip = "isaac"\nworkloads = tiny.npz\n', r"invalid TOML: .*at line 3, column 13"),
        ('[sweep]\nchip = "isaac"\nworkloads = "tiny.npz"\n[grid]\n"adc.bitz" = [4]\n',
         r"line 5: \[grid\] 'adc.bitz': .*unknown field 'adc.bitz'; allowed fields of \[adc\]: bits"),
        ('[sweep]\nchip = "isaac"\nworkloads = "tiny.npz"\n[grid]\n"adc.bits" = [4, "6"]\n',
         r"line 5: \[grid\] 'adc.bits': '6' on chip 'isaac': adc.bits: got '6', allowed: an integer from 1 to 24"),
        ('[sweep]\nchip = "isaac"\nworkloads = ["tiny.npz", "lenet6"]\n',
         r"line 3: \[sweep\] 'workloads': got 'lenet6', allowed: a zoo model \(.*lenet5.*\), an ONNX file or a saved workload"),
        ('[sweep]\nchip = "isaak"\nworkloads = "tiny.npz"\n', r"line 2: \[sweep\] 'chip': chip 'isaak' is neither a preset"),
        ('[sweep]\nchip = "isaac"\nworkloads = "tiny.npz"\nbatch = [1, 0]\n',
         r"line 4: \[sweep\] 'batch': got 0, allowed: an integer >= 1"),
        ('[sweep]\nchip = "isaac"\nworkloads = "tiny.npz"\nseed = 3\n', r"line 4: \[sweep\] 'seed': unknown key.*seeds"),
        ('[sweep]\nchip = "isaac"\nworkloads = "tiny.json"\nfidelity = "functional"\n',
         r"\[sweep\] 'fidelity': 'functional' needs weights, and 'tiny.json' has none"),
        ('[sweep]\nchip = "isaac"\nworkloads = "tiny.npz"\n[grid]\n'
         '"device.stuck_off" = [0.6]\n"device.stuck_on" = [0.1, 0.6]\n',
         r"the override set \{device.stuck_off = 0.6, device.stuck_on = 0.6\} is not valid on chip 'isaac'.*stuck_on"),
        ('[sweep]\nchip = "vn-45nm"\nworkloads = "tiny.npz"\n[grid]\n"adc.bits" = [4]\n',
         r"\[grid\] 'adc.bits': 4 on chip 'vn-45nm': unknown section 'adc'"),
    ],
    ids=["syntax", "unknown-path", "value-type", "unknown-workload", "unknown-chip", "batch", "unknown-key",
         "json-functional", "cross-field", "path-of-another-tree"],
)
def test_bad_sweep_files_are_config_errors_naming_line_key_value_and_allowed(sweep_dir, write_file, text, expected):
    path = write_file("bad.toml", text, sweep_dir)
    with pytest.raises(cimsim.ConfigError, match=expected):
        load_sweep(path)


def test_zoo_workloads_are_extracted_per_seed_and_sparsity(tmp_path, write_file):
    path = write_file("zoo.toml", """
        [sweep]
        chip = "rram-22nm"
        workloads = "lenet5"
        sparsity = ["", "2:4"]
        """)
    rows = run_sweep(path, tmp_path / "zoo.csv", workers=1).rows()
    assert [row["sparsity"] for row in rows] == ["dense", "2:4"]
    assert not any(row["error"] for row in rows)
    assert rows[1]["macs"] < 0.6 * rows[0]["macs"]  # 2:4 keeps half the weights' MACs


# --------------------------------------------------------------------------- where points run


@pytest.fixture(scope="module")
def in_process_table(sweep_dir):
    result = run_sweep(sweep_dir / "tiny.toml", sweep_dir / "in-process.csv", workers=1, progress=False)
    assert (result.computed, result.skipped, result.errors) == (TINY_POINTS, 0, 0)
    return result.rows()


def test_rows_carry_parameters_configuration_values_and_figures(in_process_table, sweep_dir):
    assert list(in_process_table[0]) == columns(("adc.bits", "device.read_noise"))
    rows = {(r["chip"], r["batch"], r["seed"], r["fidelity"], r["adc.bits"], r["device.read_noise"]): r
            for r in in_process_table}
    one = rows[("rram-22nm", 4, 0, "functional", 6, 0.0)]  # the [[points]] entry: read noise as the preset has it
    assert one["energy_per_inference_pj"] == pytest.approx(one["energy_pj"] / 4)
    assert one["tops_per_watt"] > 0 and 0 < one["data_movement_share"] < 1 and one["layer_relative_error_rms"] > 0
    assert rows[("rram-22nm", 4, 0, "analytical", 6, 0.0)]["layer_relative_error_rms"] is None
    # the seed is the point's: it changes noisy results, and two runs of one point agree
    noisy = [rows[("rram-22nm", 1, seed, "functional", 8, 0.05)]["layer_relative_error_rms"] for seed in (0, 1)]
    assert noisy[0] != noisy[1]


def test_local_pool_gives_the_in_process_table(in_process_table, sweep_dir, tmp_path):
    result = run_sweep(sweep_dir / "tiny.toml", tmp_path / "pool.csv", workers=2, progress=False)
    assert result.computed == TINY_POINTS
    assert without_wall_time(result.rows()) == without_wall_time(in_process_table)  # same ids, seeds, figures, order


def test_dask_local_cluster_gives_the_in_process_table(in_process_table, sweep_dir, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        result = run_sweep(sweep_dir / "tiny.toml", tmp_path / "dask.csv", scheduler=cluster, progress=False)
    assert result.computed == TINY_POINTS
    assert without_wall_time(result.rows()) == without_wall_time(in_process_table)


def test_a_point_the_simulator_refuses_gets_an_error_row_and_the_sweep_goes_on(sweep_dir, tmp_path, write_file):
    path = write_file("small-chip.toml", folder=sweep_dir, text="""
        [sweep]
        chip = "isaac"
        workloads = "tiny.npz"
        [grid]
        "chip.tiles" = [1, 2]
        "tile.groups_per_tile" = [1]
        "tile.arrays_per_group" = [1]
        """)
    result = run_sweep(path, tmp_path / "small.csv", workers=1)
    assert (result.computed, result.errors) == (2, 2)
    for row in result.rows():
        assert "arrays" in row["error"] and row["energy_pj"] is None and row["chip.tiles"] in (1, 2)


def test_a_chip_file_changed_between_two_sweeps_in_one_process_is_read_again(tmp_path, write_file):
    # the configurations a sweep keeps per process (cimsim.sweep.spec.configured) are those of the chip
    # as its file reads when the sweep is loaded: twice the static power is a new energy at the same point
    sweep = write_file("chip-file.toml", """
        [sweep]
        chip = "chip.toml"
        workloads = "lenet5"
        [grid]
        "adc.bits" = [6]
        """)
    energies = []
    for static_power_mw in (100.0, 200.0):
        write_file("chip.toml", f"""
            base = "isaac"
            [energy]
            static_power_mw = {static_power_mw}
            """)
        result = run_sweep(sweep, tmp_path / f"static-{static_power_mw:g}.csv", workers=1, progress=False)
        energies.append(result.rows()[0]["energy_pj"])
    assert energies[1] > energies[0]


# --------------------------------------------------------------------------- the table


def test_an_existing_table_needs_resume_and_resume_runs_only_missing_points(sweep_dir, tmp_path):
    out = tmp_path / "t.csv"
    spec = load_sweep(sweep_dir / "tiny.toml")
    part = SweepSpec(spec.name, spec.paths, spec.points[::3], spec.source)
    first = run_sweep(part, out, workers=1)
    kept = {row["point_id"]: row for row in first.rows()}
    with pytest.raises(cimsim.ConfigError, match="already holds a table; pass resume=True"):
        run_sweep(spec, out, workers=1)
    result = run_sweep(spec, out, workers=1, resume=True)
    assert (result.computed, result.skipped) == (TINY_POINTS - len(kept), len(kept))
    rows = result.rows()
    assert [row["point_id"] for row in rows] == [point.id for point in spec.points]  # the sweep's order, no duplicates
    assert all(row == kept[row["point_id"]] for row in rows if row["point_id"] in kept)  # kept rows untouched


def test_a_bug_in_a_point_stops_the_sweep_and_keeps_the_rows_finished_before_it(sweep_dir, tmp_path, monkeypatch):
    def third_fails(point, paths):
        if len(calls) == 3:
            raise RuntimeError("a bug")
        calls.append(point.id)
        return run_point(point, paths)

    calls = []
    monkeypatch.setattr(sweep_module, "run_point", third_fails)
    with pytest.raises(RuntimeError, match="a bug"):
        run_sweep(sweep_dir / "tiny.toml", tmp_path / "t.csv", workers=1)
    assert [row["point_id"] for row in read_table(tmp_path / "t.csv")] == calls


def test_an_output_directory_that_cannot_be_written_fails_before_any_work(sweep_dir, tmp_path, monkeypatch):
    def no_work(*args):
        raise AssertionError("a point ran")

    monkeypatch.setattr(sweep_module, "run_point", no_work)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(cimsim.ConfigError, match="its directory cannot be written"):
        run_sweep(sweep_dir / "tiny.toml", blocker / "out.csv", workers=1)
    with pytest.raises(cimsim.ConfigError, match="is a directory"):
        run_sweep(sweep_dir / "tiny.toml", tmp_path, workers=1)


KILLED = """
[sweep]
chip = ["isaac", "rram-22nm"]
workloads = "tiny.npz"
batch = [1, 2, 4]
seeds = [0, 1, 2]
[grid]
"adc.bits" = [4, 5, 6, 7, 8]
"array.rows" = [32, 64, 128, 256]
"dac.bits" = [1, 2]
"""


def read_whole_table(path, header):
    """The table's rows, checking that it is complete: the header, then rows of every column."""
    with path.open(newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == header and all(len(row) == len(header) for row in table[1:])
    return table[1:]


def test_a_sweep_killed_mid_run_leaves_a_whole_table_and_resumes_without_duplicates(sweep_dir, tmp_path, write_file):
    spec_path = write_file("killed.toml", KILLED, sweep_dir)
    spec, out = load_sweep(spec_path), tmp_path / "killed.csv"
    header = columns(spec.paths)
    script = ("from cimsim.sweep.run import run_sweep\n"
              f"run_sweep({str(spec_path)!r}, {str(out)!r}, workers=2, progress=False, flush_rows=5)\n")
    process = subprocess.Popen([sys.executable, "-c", script], env=os.environ | {"OMP_NUM_THREADS": "1"})
    try:
        seen, deadline = 0, time.monotonic() + 60
        while seen < 40 and time.monotonic() < deadline and process.poll() is None:
            seen = len(read_whole_table(out, header)) if out.exists() else 0  # every read sees a whole table
            time.sleep(0.02)
        workers = psutil.Process(process.pid).children()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    _, alive = psutil.wait_procs(workers, timeout=10)  # pool workers exit with their parent
    assert not alive
    before = read_whole_table(out, header)
    assert 40 <= len(before) < len(spec.points)
    result = run_sweep(spec_path, out, workers=2, resume=True)
    assert (result.skipped, result.computed) == (len(before), len(spec.points) - len(before))
    after = read_whole_table(out, header)
    print(f"kill and resume: {len(spec.points)} points expected, {len(before)} in the table after the kill, "
          f"{len(after)} after resume, {len(after) - len({row[0] for row in after})} duplicated")
    assert sorted(row[0] for row in after) == sorted(point.id for point in spec.points)  # each point once
    assert all(row in after for row in before)  # finished rows kept as they were
    assert not list(out.parent.glob(".*.tmp"))


def test_command_line_runs_a_sweep_and_reports_bad_files(sweep_dir, tmp_path, capsys):
    assert sweep_module.main([str(sweep_dir / "tiny.toml"), str(tmp_path / "cli.csv"), "--workers", "1"]) == 0
    assert f"{TINY_POINTS} points run" in capsys.readouterr().out
    assert sweep_module.main([str(sweep_dir / "tiny.toml"), str(tmp_path / "cli.csv"), "--workers", "1"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert len(read_table(tmp_path / "cli.csv")) == TINY_POINTS
