"""NaN or infinite weights are refused with a ShapeError naming the layer, in every route.

A crossbar cell holds a finite conductance, so a NaN or an infinity has no mapping; left in, it
silently changed the quantisation scale and the array counts of the analytical routes. Each
route is tried with one NaN and one infinity in a model built here (Relax, the zoo's builder,
ONNX through onnx.helper, torch, a saved .npz, a Workload by hand), and each must name the layer
the bad weight is in: the Gemm's name in a Workload (``matmul_2`` is the ONNX model's second
product: ``matmul_0``, ``relu_1``, ``matmul_2``), the product and its Relax variable in the
offload and BYOC routes.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch's thread pool beside TVM's on a small machine

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cimsim  # noqa: E402
from cimsim.errors import ShapeError  # noqa: E402
from cimsim.workload_cache import CACHE_DIR_VARIABLE  # noqa: E402
from cimsim.workload_loader import load_workload  # noqa: E402

BAD = pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
REFUSED = "NaN or infinity"  # what every refusal says, beside the layer


def weights(bad: float, layer: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A 16→32→10 network's (K, N) weights, one bad value in layer 0 or 1."""
    rng = np.random.default_rng(0)
    pair = rng.standard_normal((16, 32)).astype("float32"), rng.standard_normal((32, 10)).astype("float32")
    pair[layer][3, 4] = bad
    return pair


def onnx_model(bad: float):
    """MatMul, Relu, MatMul on a (4, 16) input, through onnx.helper."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    first, second = weights(bad)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")]
    graph = helper.make_graph(
        nodes, "two_layers", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 10])],
        [numpy_helper.from_array(first, "w1"), numpy_helper.from_array(second, "w2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def onnx_file(bad: float, folder) -> str:
    onnx = pytest.importorskip("onnx")
    path = folder / "two_layers.onnx"
    onnx.save(onnx_model(bad), str(path))
    return str(path)


def relax_model(bad: float):
    """The same network written in Relax, the bad value in the first product, bound to ``fc1``."""
    pytest.importorskip("tvm")
    from tvm import relax

    first, second = weights(bad, layer=0)
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((4, 16), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            h = bb.emit(relax.op.matmul(x, relax.const(first)), name_hint="fc1")
            r = bb.emit(relax.op.nn.relu(h), name_hint="relu")
            out = bb.emit_output(relax.op.matmul(r, relax.const(second)))
        bb.emit_func_output(out)
    return bb.get()


# --------------------------------------------------------------------------- Workload routes


@BAD
@pytest.mark.parametrize("fidelity", ["analytical", "functional"])
def test_simulate_of_a_workload_by_hand_is_refused_at_the_layer(bad, fidelity):
    first, second = weights(bad)
    with pytest.raises(ShapeError, match=rf"layer 'fc2'.*{REFUSED} \(1 entries\)"):
        workload = cimsim.Workload([cimsim.Gemm("fc1", 4, 16, 32, weights=first),
                                    cimsim.Gemm("fc2", 4, 32, 10, weights=second, inputs=("fc1",))])
        cimsim.simulate(workload, cimsim.load_preset("ideal"), fidelity=fidelity)


def test_a_gemms_checked_weights_cannot_be_changed_through_it():
    first, _ = weights(0.0)
    gemm = cimsim.Gemm("fc1", 4, 16, 32, weights=first)
    with pytest.raises(ValueError, match="read-only"):
        gemm.weights[0, 0] = np.nan


@BAD
def test_saved_npz_with_a_bad_weight_is_refused_at_the_layer(bad, tmp_path):
    first, second = weights(0.0)
    good = cimsim.Workload([cimsim.Gemm("fc1", 4, 16, 32, weights=first),
                            cimsim.Gemm("fc2", 4, 32, 10, weights=second, inputs=("fc1",))])
    good.save_npz(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as archive:  # the same file with one weight changed on disk
        arrays = {key: archive[key] for key in archive.files}
    arrays["w:fc2"][3, 4] = bad
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ShapeError, match=rf"layer 'fc2'.*{REFUSED}"):
        cimsim.Workload.load_npz(tmp_path / "bad.npz")
    with pytest.raises(ShapeError, match=rf"bad\.npz.*layer 'fc2'.*{REFUSED}"):
        load_workload("bad.npz", base_dir=tmp_path)  # the door of the command line and of sweeps


@BAD
def test_relax_model_is_refused_by_extract_at_the_layer(bad):
    tvm_bridge = pytest.importorskip("tvm_bridge")
    with pytest.raises(ShapeError, match=rf"layer 'matmul_0'.*{REFUSED}"):
        tvm_bridge.extract(relax_model(bad))


@BAD
def test_zoo_model_with_a_bad_weight_is_refused_at_the_layer(bad, monkeypatch, tmp_path):
    pytest.importorskip("tvm")
    from workloads._graph import Graph

    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))  # an empty cache: the model is built, not loaded

    build = Graph.gemm_weight

    def first_weight_bad(self, *args, **kwargs):  # the zoo's builder, its first weight given a bad value
        const = build(self, *args, **kwargs)
        if getattr(self, "_bad_done", False):
            return const
        self._bad_done = True
        values = const.value.numpy()
        values.flat[7] = bad
        return self.const(values)

    monkeypatch.setattr(Graph, "gemm_weight", first_weight_bad)
    with pytest.raises(ShapeError, match=rf"layer 'matmul_0'.*{REFUSED}"):
        load_workload("mlp")  # the zoo's door: the command line, sweeps and the demo load models here


@BAD
def test_onnx_file_is_refused_at_the_layer(bad, tmp_path):
    pytest.importorskip("tvm")
    path = onnx_file(bad, tmp_path)
    with pytest.raises(ShapeError, match=rf"layer 'matmul_2'.*{REFUSED}"):
        load_workload(path)


@BAD
def test_torch_model_is_refused_at_the_layer(bad):
    torch = pytest.importorskip("torch")
    tvm_bridge = pytest.importorskip("tvm_bridge")
    import workloads

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)).eval()
    with torch.no_grad():
        model[2].weight[4, 3] = bad  # torch stores (out, in)
    mod = workloads.from_torch(model, (torch.randn(4, 16),))
    with pytest.raises(ShapeError, match=rf"layer 'matmul_2'.*{REFUSED}"):  # matmul_0, relu_1, matmul_2
        tvm_bridge.extract(mod)


@BAD
def test_sweep_row_names_the_layer(bad, tmp_path, write_file):
    pytest.importorskip("tvm")
    from cimsim.sweep import run_sweep

    onnx_file(bad, tmp_path)
    path = write_file("bad.toml", """
        [sweep]
        chip = "ideal"
        workloads = "two_layers.onnx"
        """)
    (row,) = run_sweep(path, tmp_path / "bad.csv", workers=1, progress=False).rows()
    assert "layer 'matmul_2'" in row["error"] and REFUSED in row["error"]
    assert row["energy_pj"] in (None, "")  # no figures for a point that was refused


@BAD
def test_command_line_run_exits_with_the_layer(bad, tmp_path, cimsim_command):
    pytest.importorskip("tvm")
    onnx_file(bad, tmp_path)
    result = cimsim_command("run", "two_layers.onnx", "--chip", "ideal", "--batch", "4", cwd=tmp_path)
    assert result.returncode != 0
    assert "layer 'matmul_2'" in result.stderr and REFUSED in result.stderr


# --------------------------------------------------------------------------- crossbar routes


@BAD
@pytest.mark.parametrize("route", ["offload", "byoc"])
def test_onnx_model_on_crossbars_is_refused_at_the_layer(bad, route):
    tvm_bridge = pytest.importorskip("tvm_bridge")
    import workloads

    mod = workloads.from_onnx(onnx_model(bad))
    with pytest.raises(ShapeError, match=rf"layer 'matmul_1' \(Relax variable '\w+'\): weights of shape \(32, 10\): "
                                         rf"contains {REFUSED} \(1 entries\)"):
        getattr(tvm_bridge, route)(mod, cimsim.load_preset("ideal"))


@BAD
def test_relax_model_offloaded_names_the_relax_variable(bad):
    tvm_bridge = pytest.importorskip("tvm_bridge")
    with pytest.raises(ShapeError, match=rf"layer 'matmul_0' \(Relax variable 'fc1'\).*{REFUSED}"):
        tvm_bridge.offload(relax_model(bad), cimsim.load_preset("ideal"))


# --------------------------------------------------------------------------- direct calls of the registered functions


def _offloaded():
    """A Relax conv → matmul model offloaded, its model id, and a zero float32 tensor maker."""
    tvm = pytest.importorskip("tvm")
    tvm_bridge = pytest.importorskip("tvm_bridge")
    from tvm import relax

    rng = np.random.default_rng(1)
    kernel = rng.standard_normal((6, 1, 5, 5)).astype("float32")  # O, C, kh, kw
    dense = rng.standard_normal((6 * 24 * 24, 10)).astype("float32")
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((2, 1, 28, 28), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            conv = bb.emit(relax.op.nn.conv2d(x, relax.const(kernel)), name_hint="conv")
            flat = bb.emit(relax.op.reshape(conv, (2, 6 * 24 * 24)))
            out = bb.emit_output(relax.op.matmul(flat, relax.const(dense)))
        bb.emit_func_output(out)
    offloaded = tvm_bridge.offload(bb.get(), cimsim.load_preset("ideal"))
    return int(offloaded.attrs["cimsim_model"]), lambda *shape: tvm.runtime.tensor(np.zeros(shape, "float32"))


@pytest.mark.parametrize("function, args, message", [
    ("cimsim.conv2d", ((2, 3, 28, 28), 0, (2, 6, 24, 24)), r"argument 'x' has shape \(2, 3, 28, 28\), expected \(any, 1, any, any\)"),
    ("cimsim.conv2d", ((2, 1, 28, 28), 0, (2, 6, 20, 24)), r"argument 'out' has shape \(2, 6, 20, 24\), expected \(2, 6, 24, 24\)"),
    ("cimsim.conv2d", ((2, 1, 3, 3), 0, (2, 6, 24, 24)), r"argument 'x' has shape \(2, 1, 3, 3\), expected rows and columns of at least \(5, 5\)"),
    ("cimsim.matmul", ((2, 5), 1, (2, 10)), r"argument 'x' has shape \(2, 5\), expected \(…, 3456\)"),
    ("cimsim.matmul", ((2, 3456), 1, (3, 10)), r"argument 'out' has shape \(3, 10\), expected \(2, 10\)"),
])
def test_registered_functions_called_directly_refuse_wrong_shapes(function, args, message):
    tvm = pytest.importorskip("tvm")
    model_id, zeros = _offloaded()
    x_shape, index, out_shape = args
    with pytest.raises(ShapeError, match=rf"^{function}: {message}"):
        tvm.get_global_func(function)(zeros(*x_shape), model_id, index, zeros(*out_shape))


def test_registered_matmul_refuses_an_unknown_product_and_a_non_tensor():
    tvm = pytest.importorskip("tvm")
    model_id, zeros = _offloaded()
    with pytest.raises(cimsim.ConfigError, match=r"product index = 9; allowed: 0 to 1"):
        tvm.get_global_func("cimsim.matmul")(zeros(2, 3456), model_id, 9, zeros(2, 10))
    with pytest.raises(cimsim.ConfigError, match=r"argument 'model_id' = 'zero'; allowed: an integer"):
        tvm.get_global_func("cimsim.matmul")(zeros(2, 3456), "zero", 1, zeros(2, 10))
    with pytest.raises(ShapeError, match=r"cimsim.matmul: argument 'x' is a str, expected a tensor"):
        tvm.get_global_func("cimsim.matmul")("x", model_id, 1, zeros(2, 10))


def test_registered_dynamic_matmul_refuses_operands_that_do_not_multiply():
    tvm = pytest.importorskip("tvm")
    tvm_bridge = pytest.importorskip("tvm_bridge")
    from tvm import relax

    bb = relax.BlockBuilder()
    a, b = relax.Var("a", relax.TensorType((2, 4, 8), "float32")), relax.Var("b", relax.TensorType((2, 8, 3), "float32"))
    with bb.function("main", [a, b]):
        with bb.dataflow():
            out = bb.emit_output(relax.op.matmul(a, b))
        bb.emit_func_output(out)
    offloaded = tvm_bridge.offload(bb.get(), cimsim.load_preset("ideal"), activations_on_crossbar=True)
    model_id = int(offloaded.attrs["cimsim_model"])
    zeros = lambda *shape: tvm.runtime.tensor(np.zeros(shape, "float32"))  # noqa: E731
    call = tvm.get_global_func("cimsim.matmul_dynamic")
    with pytest.raises(ShapeError, match=r"argument 'b' has shape \(2, 7, 3\), expected \(…, 8, any\)"):
        call(zeros(2, 4, 8), zeros(2, 7, 3), model_id, 0, zeros(2, 4, 3))
    with pytest.raises(ShapeError, match=r"argument 'b' has shape \(3, 8, 3\), expected batch dimensions"):
        call(zeros(2, 4, 8), zeros(3, 8, 3), model_id, 0, zeros(2, 4, 3))
    with pytest.raises(ShapeError, match=r"argument 'out' has shape \(2, 4, 4\), expected \(2, 4, 3\)"):
        call(zeros(2, 4, 8), zeros(2, 8, 3), model_id, 0, zeros(2, 4, 4))


def test_byoc_function_called_directly_refuses_wrong_shapes_and_counts():
    tvm = pytest.importorskip("tvm")
    tvm_bridge = pytest.importorskip("tvm_bridge")
    from tvm import relax

    generated = tvm_bridge.byoc(relax_model(0.0), cimsim.load_preset("ideal"))
    symbols = [str(call.args[0].global_symbol) for call in _calls(generated["main"]) if call.args
               and isinstance(call.args[0], relax.ExternFunc)]
    function = tvm.get_global_func(symbols[0])  # the first product: (4, 16) in, (4, 32) out
    zeros = lambda *shape: tvm.runtime.tensor(np.zeros(shape, "float32"))  # noqa: E731
    with pytest.raises(ShapeError, match=rf"^{symbols[0]}: argument '\w+' has shape \(4, 5\), expected \(4, 16\)"):
        function(zeros(4, 5), zeros(4, 32))
    with pytest.raises(ShapeError, match=r"argument 'out' has shape \(4, 3\), expected \(4, 32\)"):
        function(zeros(4, 16), zeros(4, 3))
    with pytest.raises(ShapeError, match=r"1 arguments given, expected 2"):
        function(zeros(4, 16))


def _calls(function):
    """The calls bound in a Relax function, in order."""
    from tvm import relax

    return [b.value for block in function.body.blocks for b in block.bindings if isinstance(b.value, relax.Call)]
