"""The two TVM routes on zoo models: offload (call_dps_packed) and BYOC agree; accuracy under ideal; extraction."""

import time

import numpy as np
import pytest
import tvm
from tvm import relax

import cimsim
import tvm_bridge
import workloads
from tvm_bridge.byoc import patterns

INPUTS = {"mlp": (2, 784), "lenet5": (2, 1, 28, 28)}


@pytest.fixture(scope="module", params=sorted(INPUTS))
def model(run_relax, random_f32, request):
    name = request.param
    x = random_f32(0, INPUTS[name])
    mod = workloads.get(name, batch=2)
    return name, mod, x, run_relax(mod, x)


def test_both_routes_give_the_same_numbers_for_the_same_seed(run_relax, model):
    _, mod, x, _ = model
    cfg = cimsim.load_preset("ideal").override({"device.program_noise": 0.03})
    offloaded, generated = tvm_bridge.offload(mod, cfg, seed=3), tvm_bridge.byoc(mod, cfg, seed=3)
    # same programmed cells (seeded by seed and weights); float32 bias adds in another order
    np.testing.assert_allclose(run_relax(offloaded, x), run_relax(generated, x), rtol=1e-5, atol=1e-5)
    assert tvm_bridge.ledger(offloaded).energy_pj == pytest.approx(tvm_bridge.ledger(generated).energy_pj, rel=1e-9)
    assert "cimsim" in generated.script() and "R.matmul" not in generated.script()


def test_ideal_crossbars_match_tvm_within_the_quantisation_error(run_relax, model):
    name, mod, x, float_out = model
    y = run_relax(tvm_bridge.offload(mod, cimsim.load_preset("ideal"), seed=0), x)
    # 8-bit symmetric weights and inputs: ~2^-8 of each operand's range per product, compounding over
    # 3 (mlp) or 5 (lenet5) layers to a few percent at most
    assert np.linalg.norm(y - float_out) / np.linalg.norm(float_out) < 0.05


def test_running_the_codegen_outside_byoc_is_a_config_error():
    tvm_bridge.byoc(workloads.get("mlp"), cimsim.load_preset("ideal"))  # registers relax.ext.cimsim
    partitioned = relax.transform.FuseOpsByPattern(patterns(), bind_constants=True, annotate_codegen=True)(
        workloads.get("mlp")
    )
    with pytest.raises(cimsim.ConfigError, match="tvm_bridge.byoc"):
        relax.transform.RunCodegen()(partitioned)


def linear_module(functions: int = 1) -> tvm.IRModule:
    """relax.op.linear-style layers (matmul of permute_dims(W)), in one or two functions."""
    rng = np.random.default_rng(5)
    bb = relax.BlockBuilder()
    for f in range(functions):
        w = relax.const(rng.standard_normal((8, 16)).astype("float32"))  # (out, in)
        x = relax.Var("x", relax.TensorType((2, 16), "float32"))
        with bb.function("main" if f == 0 else f"other{f}", [x]):
            with bb.dataflow():
                out = bb.emit_output(relax.op.nn.relu(relax.op.matmul(x, relax.op.permute_dims(w))))
            bb.emit_func_output(out)
    return bb.get()


@pytest.mark.parametrize("functions", [1, 2])
def test_linear_layers_and_several_functions_take_both_routes(run_relax, random_f32, functions):
    mod = linear_module(functions)
    x = random_f32(6, (2, 16))
    cfg = cimsim.load_preset("ideal").override({"device.program_noise": 0.03})
    offloaded, generated = tvm_bridge.offload(mod, cfg, seed=1), tvm_bridge.byoc(mod, cfg, seed=1)
    assert len(tvm_bridge.model_of(generated).products) == functions  # every linear layer is on crossbars
    np.testing.assert_allclose(run_relax(offloaded, x), run_relax(generated, x), rtol=1e-5, atol=1e-5)


def test_resnet18_and_bert_macs_from_extraction():
    start = time.perf_counter()
    resnet = tvm_bridge.extract(workloads.get("resnet18"))
    elapsed = time.perf_counter() - start
    assert resnet.macs == pytest.approx(1.81e9, rel=0.01)  # He et al. 2016: 1.8 G multiply-adds at 224 x 224
    assert len(resnet.gemms) == 21 and elapsed < 30
    bert = tvm_bridge.extract(workloads.get("bert-base-layer", seq_len=128))
    s, d, f, h = 128, 768, 3072, 12
    assert bert.macs == 4 * s * d * d + 2 * s * d * f + 2 * h * s * s * (d // h)  # QKV+O, FFN, QK^T and AV
