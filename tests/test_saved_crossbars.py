"""Saved crossbars: ``AnalogMatrix.save(path)`` / ``AnalogMatrix.load(path)`` (cimsim/physics/matrix_file.py).

A loaded matrix holds the saved one's programmed state and reads bit-identically to it: its next
read draws the same noise as the saved matrix's next read (the streams are keyed by the read key
and the number of reads before, both saved). Bad files are refused naming the file and the key;
writes are atomic.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import cimsim
from cimsim.physics import GlobalDriftCompensation

K, N, M = 300, 24, 12  # 300 rows: two row blocks of the 256-row presets


def _data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((K, N)), rng.standard_normal((M, K))


# preset, overrides, calibrate first, drift_to (s), drift compensation
CASES = {
    "ideal": ("ideal", {}, False, None, None),
    "rram-22nm calibrated": ("rram-22nm", {}, True, None, None),
    "pcm after drift_to": ("pcm", {}, True, 86400.0, GlobalDriftCompensation()),
    "solved IR drop, read noise per read": (
        "ideal", {"array.wire_resistance_ohm": 2.0, "array.ir_drop": "solved", "device.read_noise": 0.02,
                  "device.program_noise": 0.02}, False, None, None),
    "ADC static errors": ("isaac", {"adc.offset_lsb": 0.3, "adc.gain_error": 0.01, "adc.inl_lsb": 0.5,
                                    "adc.dnl_lsb": 0.2, "adc.noise_lsb": 0.4}, False, None, None),
}


def _programmed(case: str) -> cimsim.AnalogMatrix:
    preset, overrides, calibrate, t_s, compensation = CASES[case]
    w, x = _data()
    matrix = cimsim.AnalogMatrix(w, cimsim.load_preset(preset).override(overrides), seed=11,
                                 drift_compensation=compensation)
    if calibrate:
        matrix.calibrate(x)
    if t_s is not None:
        matrix.drift_to(t_s)
    matrix.matmul(x)  # one read before saving: the loaded matrix continues the read streams from the second
    return matrix


@pytest.mark.parametrize("case", CASES)
def test_a_loaded_matrix_reads_bit_identically_to_the_saved_one(case, tmp_path):
    matrix = _programmed(case)
    path = tmp_path / "matrix.npz"
    matrix.save(path)
    loaded = cimsim.AnalogMatrix.load(path)
    _, x = _data()
    for _ in range(2):  # the next two reads, each with its own noise draw
        assert np.array_equal(loaded.matmul(x), matrix.matmul(x))
    for name in ("g_target_us", "g_prog_us", "nu", "stuck"):
        assert np.array_equal(getattr(loaded.cells, name), getattr(matrix.cells, name))
    assert np.array_equal(loaded.layout.levels, matrix.layout.levels)
    assert (loaded.shape, loaded.t_s, loaded.drift_gain, loaded.input_scale) == (
        matrix.shape, matrix.t_s, matrix.drift_gain, matrix.input_scale)


@pytest.mark.parametrize("case, drawn", [
    ("solved IR drop, read noise per read", lambda m: m.cells.g_prog_us),
    ("ADC static errors", lambda m: m.adc_errors.thresholds),
], ids=["IR drop", "ADC errors"])
def test_the_equality_is_not_trivial_reads_are_noisy_and_a_fresh_programming_differs(case, drawn):
    """Where the round trip is tested, two reads differ and another seed draws another state:
    equal outputs after loading come from the saved state, not from a noise-free model."""
    matrix = _programmed(case)
    _, x = _data()
    assert not np.array_equal(matrix.matmul(x), matrix.matmul(x))
    w, _ = _data()
    assert not np.array_equal(drawn(cimsim.AnalogMatrix(w, matrix.cfg, seed=12)), drawn(matrix))


def test_a_loaded_pcm_matrix_drifts_on_as_the_saved_one(tmp_path):
    matrix = _programmed("pcm after drift_to")
    matrix.save(tmp_path / "pcm.npz")
    loaded = cimsim.AnalogMatrix.load(tmp_path / "pcm.npz")
    assert loaded.t_s == 86400.0
    _, x = _data()
    later = []
    for m in (matrix, loaded):
        m.drift_to(30 * 86400.0)
        later.append(m.matmul(x))
    assert np.array_equal(later[0], later[1])
    assert loaded.drift_gain == matrix.drift_gain != 1.0  # the compensation's reference was kept


def test_the_ledger_of_a_loaded_matrix_starts_empty_and_counts_reads_as_the_saved_one(tmp_path):
    matrix = _programmed("rram-22nm calibrated")
    matrix.save(tmp_path / "m.npz")
    loaded = cimsim.AnalogMatrix.load(tmp_path / "m.npz")
    assert list(loaded.ledger.entries()) == [] and loaded.latency_ns == 0.0  # loading writes no cell
    matrix.ledger, matrix.latency_ns = cimsim.Ledger(), 0.0
    _, x = _data()
    matrix.matmul(x)
    loaded.matmul(x)
    assert loaded.ledger == matrix.ledger and loaded.ledger.count("cell", "writes") == 0
    assert loaded.latency_ns == matrix.latency_ns > 0


def test_a_matrix_saves_to_and_loads_from_an_open_binary_file():
    matrix = _programmed("ideal")
    buffer = io.BytesIO()
    matrix.save(buffer)
    buffer.seek(0)
    _, x = _data()
    assert np.array_equal(cimsim.AnalogMatrix.load(buffer).matmul(x), matrix.matmul(x))


def test_the_file_holds_numbers_and_text_only(tmp_path):
    _programmed("ideal").save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        members = {key: archive[key] for key in archive.files}
    assert all(value.dtype.kind in "uifbU" for value in members.values())
    assert str(members["format"]) == "cimsim.AnalogMatrix" and int(members["format_version"]) == 1
    assert cimsim.ChipConfig.from_toml(str(members["config_toml"])) == cimsim.load_preset("ideal")


# --------------------------------------------------------------------------- bad files


def _rewritten(tmp_path, change) -> str:
    """A saved file with its members changed by ``change(dict)``, written as plain numpy would."""
    source = tmp_path / "good.npz"
    _programmed("ideal").save(source)
    with np.load(source, allow_pickle=False) as archive:
        members = {key: archive[key] for key in archive.files}
    change(members)
    target = tmp_path / "bad.npz"
    with open(target, "wb") as handle:
        np.savez(handle, **members)
    return str(target)


def test_another_format_version_is_refused_naming_the_file_and_the_key(tmp_path):
    path = _rewritten(tmp_path, lambda m: m.update(format_version=np.array(2)))
    with pytest.raises(cimsim.ConfigError, match=re.escape(path) + ".*'format_version' = 2.*reads version 1"):
        cimsim.AnalogMatrix.load(path)


def test_a_missing_key_is_refused_naming_the_file_and_the_key(tmp_path):
    path = _rewritten(tmp_path, lambda m: m.pop("cells.nu"))
    with pytest.raises(cimsim.ConfigError, match=re.escape(path) + ".*key 'cells.nu' is missing"):
        cimsim.AnalogMatrix.load(path)


def test_an_array_of_the_wrong_shape_is_a_shape_error_naming_the_key(tmp_path):
    path = _rewritten(tmp_path, lambda m: m.update({"cells.g_prog_us": m["cells.g_prog_us"][:-1]}))
    with pytest.raises(cimsim.ShapeError, match=re.escape(path) + ".*'cells.g_prog_us' has shape"):
        cimsim.AnalogMatrix.load(path)


def test_quantised_weights_load_as_programming_holds_them_and_beyond_the_weight_bits_are_refused(tmp_path):
    """ideal: 8-bit weights, so |W_q| <= 127, held in int8; a file holding 128 is refused."""
    assert cimsim.AnalogMatrix.load(_rewritten(tmp_path, lambda m: None)).layout.w_q.dtype == np.int8

    def too_large(members):
        members["layout.w_q"] = members["layout.w_q"].astype(np.int64)
        members["layout.w_q"][0, 0] = 128

    path = _rewritten(tmp_path, too_large)
    with pytest.raises(cimsim.ShapeError, match=re.escape(path) + ".*'layout.w_q' holds 128.*at most 127"):
        cimsim.AnalogMatrix.load(path)


def test_a_file_cut_short_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "m.npz"
    _programmed("ideal").save(path)
    data = path.read_bytes()
    for length in (0, 100, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:length])
        with pytest.raises(cimsim.ConfigError, match=re.escape(str(path)) + ".*not a complete cimsim file"):
            cimsim.AnalogMatrix.load(path)


def test_pickled_members_and_missing_files_are_refused(tmp_path):
    path = _rewritten(tmp_path, lambda m: m.update(t_s=np.array([{"not": "numbers"}], dtype=object)))
    with pytest.raises(cimsim.ConfigError, match=re.escape(path) + ".*'t_s' cannot be read without pickle"):
        cimsim.AnalogMatrix.load(path)
    with pytest.raises(cimsim.ConfigError, match="nosuch.npz: no such file"):
        cimsim.AnalogMatrix.load(tmp_path / "nosuch.npz")


def test_a_drift_compensation_of_another_kind_cannot_be_saved(tmp_path):
    class Mine(GlobalDriftCompensation):
        pass

    w, _ = _data()
    matrix = cimsim.AnalogMatrix(w, cimsim.load_preset("ideal"), seed=0, drift_compensation=Mine())
    with pytest.raises(cimsim.ConfigError, match="drift_compensation: a Mine cannot be saved"):
        matrix.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_a_write_that_fails_leaves_the_old_file_whole_and_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    _programmed("ideal").save(path)
    before = path.read_bytes()

    def fail_halfway(handle, **arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        _programmed("rram-22nm calibrated").save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


# --------------------------------------------------------------------------- tvm_bridge.save / tvm_bridge.load

LENET = {"name": "lenet5", "batch": 2, "seed": 0}
NOISY = {"device.read_noise": 0.02, "device.program_noise": 0.02}  # read noise drawn anew at every read


def _tvm():
    tvm = pytest.importorskip("tvm")
    return tvm, pytest.importorskip("tvm_bridge"), pytest.importorskip("workloads")


def _runner(tvm, mod):
    from tvm import relax

    vm = relax.VirtualMachine(tvm.compile(mod, "llvm"), tvm.cpu())
    return lambda x: vm["main"](tvm.runtime.tensor(x)).numpy()


def _images():
    return np.random.default_rng(3).random((2, 1, 28, 28)).astype("float32")


def test_an_offloaded_module_saved_and_loaded_runs_bit_identically(tmp_path):
    tvm, tvm_bridge, workloads = _tvm()
    offloaded = tvm_bridge.offload(workloads.get(**LENET), cimsim.load_preset("ideal").override(NOISY), seed=5)
    run = _runner(tvm, offloaded)
    run(_images())  # one call before saving: the loaded crossbars continue the read streams
    tvm_bridge.save(offloaded, tmp_path / "lenet.npz", source=LENET)
    from_source = tvm_bridge.load(tmp_path / "lenet.npz")  # the module rebuilt from the saved source
    from_module = tvm_bridge.load(tmp_path / "lenet.npz", workloads.get(**LENET))
    following = run(_images())
    assert np.array_equal(_runner(tvm, from_source)(_images()), following)
    assert np.array_equal(_runner(tvm, from_module)(_images()), following)
    assert not np.array_equal(run(_images()), following)  # reads are noisy: the equality is the saved state's
    names = [p.name for p in tvm_bridge.model_of(from_source).products]
    assert names == ["conv2d_0", "conv2d_1", "matmul_2", "matmul_3", "matmul_4"]
    assert tvm_bridge.ledger(from_module).count("cell", "writes") == 0  # loading programs nothing


def test_activation_products_keep_their_call_count(tmp_path):
    tvm, tvm_bridge, _ = _tvm()
    from tvm import relax

    bb = relax.BlockBuilder()
    q = relax.Var("q", relax.TensorType((2, 4, 8), "float32"))
    k = relax.Var("k", relax.TensorType((2, 8, 5), "float32"))
    with bb.function("main", [q, k]):
        bb.emit_func_output(bb.emit(relax.op.matmul(q, k)))
    rng = np.random.default_rng(8)
    args = [tvm.runtime.tensor(a) for a in (rng.standard_normal((2, 4, 8)).astype("float32"),
                                             rng.standard_normal((2, 8, 5)).astype("float32"))]
    cfg = cimsim.load_preset("ideal").override(NOISY)
    offloaded = tvm_bridge.offload(bb.get(), cfg, seed=2, activations_on_crossbar=True)
    vm = relax.VirtualMachine(tvm.compile(offloaded, "llvm"), tvm.cpu())
    vm["main"](*args)
    tvm_bridge.save(offloaded, tmp_path / "attention.npz")
    loaded = tvm_bridge.load(tmp_path / "attention.npz", bb.get())
    assert tvm_bridge.model_of(loaded).products[0].calls == 1
    again = relax.VirtualMachine(tvm.compile(loaded, "llvm"), tvm.cpu())
    assert np.array_equal(again["main"](*args).numpy(), vm["main"](*args).numpy())  # cells of call 2, both sides


def test_loading_onto_another_module_is_refused_naming_the_file_and_the_product(tmp_path):
    tvm, tvm_bridge, workloads = _tvm()
    offloaded = tvm_bridge.offload(workloads.get(**LENET), cimsim.load_preset("ideal"), seed=5)
    path = tmp_path / "lenet.npz"
    tvm_bridge.save(offloaded, path)
    other_weights = workloads.get("lenet5", batch=2, seed=1)
    with pytest.raises(cimsim.ConfigError, match=re.escape(str(path)) + ".*product conv2d_0 .*do not quantise"):
        tvm_bridge.load(path, other_weights)
    with pytest.raises(cimsim.ConfigError, match=re.escape(str(path)) + ".*product 0 of the module is a matmul"):
        tvm_bridge.load(path, workloads.get("mlp", batch=2))
    with pytest.raises(cimsim.ConfigError, match=re.escape(str(path)) + ": saved without a source"):
        tvm_bridge.load(path)


def test_bad_files_byoc_modules_and_bad_sources_are_refused(tmp_path):
    tvm, tvm_bridge, workloads = _tvm()
    mod = workloads.get(**LENET)
    offloaded = tvm_bridge.offload(mod, cimsim.load_preset("ideal"), seed=5)
    path = tmp_path / "lenet.npz"
    tvm_bridge.save(offloaded, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(cimsim.ConfigError, match=re.escape(str(path)) + ".*not a complete cimsim file"):
        tvm_bridge.load(path, mod)
    _programmed("ideal").save(path)  # a matrix file is not a module file
    with pytest.raises(cimsim.ConfigError, match="key 'format' = 'cimsim.AnalogMatrix'"):
        tvm_bridge.load(path, mod)
    with pytest.raises(cimsim.ConfigError, match="tvm_bridge.byoc cannot be saved"):
        tvm_bridge.save(tvm_bridge.byoc(mod, cimsim.load_preset("ideal"), seed=5), tmp_path / "byoc.npz")
    with pytest.raises(cimsim.ConfigError, match="name = 'mlp', but the module was built as 'lenet5'"):
        tvm_bridge.save(offloaded, tmp_path / "x.npz", source={"name": "mlp"})
    tvm_bridge.release(offloaded)
    with pytest.raises(cimsim.ConfigError, match="not in this process"):
        tvm_bridge.save(offloaded, tmp_path / "released.npz")
