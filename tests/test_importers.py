"""workloads.from_torch: PyTorch models through torch.export and TVM's frontend, extracted,
compiled and offloaded (skipped without torch: pip install torch==2.13.0)."""

import os

# torch's default thread pool next to TVM's on a small machine makes every torch op 50x slower
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("tvm")

import cimsim  # noqa: E402
import tvm_bridge  # noqa: E402
import workloads  # noqa: E402
from cimsim.errors import ConfigError  # noqa: E402


class MLP(torch.nn.Module):
    """16 → 32 → ReLU → 10."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(16, 32), torch.nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class CNN(torch.nn.Module):
    """(2, 3, 8, 8): conv 3→4 (3x3, pad 1), ReLU, max pool 2 → conv 4→6 (3x3, stride 2, pad 1,
    2 groups), ReLU, avg pool 2 → linear 6→5."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, x):
        h = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        h = torch.nn.functional.avg_pool2d(torch.relu(self.conv2(h)), 2)
        return self.fc(torch.flatten(h, 1))


def build(cls, input_shape):
    """(model in eval mode, example input, torch's output), all seeded."""
    torch.manual_seed(0)
    model = cls().eval()
    x = torch.randn(*input_shape)
    with torch.no_grad():
        return model, x, model(x).numpy()


@pytest.fixture(scope="module")
def mlp():
    model, x, out = build(MLP, (4, 16))
    return model, x, out, workloads.from_torch(model, (x,))


@pytest.fixture(scope="module")
def cnn():
    model, x, out = build(CNN, (2, 3, 8, 8))
    return model, x, out, workloads.from_torch(model, x)


def weight(param):
    return param.detach().numpy()


def test_mlp_gemms_and_weights(mlp):
    model, _, _, mod = mlp
    assert [p.name for p in mod["main"].params] == ["x"]  # the forward argument; weights are constants
    fc1, fc2 = tvm_bridge.extract(mod).gemms
    assert (fc1.m, fc1.k, fc1.n) == (4, 16, 32) and (fc2.m, fc2.k, fc2.n) == (4, 32, 10)
    np.testing.assert_array_equal(fc1.weights, weight(model.fc1.weight).T)  # torch stores (out, in)
    np.testing.assert_array_equal(fc2.weights, weight(model.fc2.weight).T)


def test_cnn_gemms_geometry_and_weights(cnn):
    model, _, _, mod = cnn
    conv1, conv2, fc = tvm_bridge.extract(mod).gemms
    assert (conv1.m, conv1.k, conv1.n, conv1.count) == (2 * 8 * 8, 3 * 9, 4, 1)
    assert conv1.conv == cimsim.ConvGeometry(3, 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, (8, 8), (8, 8))
    assert (conv2.m, conv2.k, conv2.n, conv2.count) == (2 * 2 * 2, 2 * 9, 3, 2)  # per group
    assert conv2.conv == cimsim.ConvGeometry(4, 6, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 2, (4, 4), (2, 2))
    assert (fc.m, fc.k, fc.n) == (2, 6, 5)
    np.testing.assert_array_equal(conv1.weights, weight(model.conv1.weight).reshape(4, -1).T)
    per_group = weight(model.conv2.weight).reshape(2, 3, -1).transpose(0, 2, 1)  # (groups, K, N)
    np.testing.assert_array_equal(conv2.weights, per_group)
    np.testing.assert_array_equal(fc.weights, weight(model.fc.weight).T)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_tvm_runs_the_import_as_torch_does(run_relax, name, request):
    _, x, torch_out, mod = request.getfixturevalue(name)
    # both float32 with sums of at most 64 terms in another order: a few ulps (1.2e-7) of the
    # largest partial sums, far below 1e-5 of the output scale
    np.testing.assert_allclose(run_relax(mod, x.numpy()), torch_out, rtol=1e-5, atol=1e-5 * np.abs(torch_out).max())


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_ideal_crossbars_match_torch_within_the_quantisation_error(run_relax, name, request):
    _, x, torch_out, mod = request.getfixturevalue(name)
    offloaded = tvm_bridge.offload(mod, cimsim.load_preset("ideal"), seed=0)
    assert len(tvm_bridge.model_of(offloaded).products) == len(tvm_bridge.extract(mod).gemms)  # all on crossbars
    y = run_relax(offloaded, x.numpy())
    # as for the zoo models: 8-bit symmetric weights and inputs, ~2^-8 of each operand's range per
    # product, compounding over 2 (mlp) or 3 (cnn) layers to a few percent at most
    assert np.linalg.norm(y - torch_out) / np.linalg.norm(torch_out) < 0.05
    tvm_bridge.release(offloaded)


def test_exported_programs_and_sparsity(mlp):
    model, x, _, mod = mlp
    program = torch.export.export(model, (x,))
    again = tvm_bridge.extract(workloads.from_torch(program)).gemms
    np.testing.assert_array_equal(again[0].weights, tvm_bridge.extract(mod).gemms[0].weights)
    sparse = tvm_bridge.extract(workloads.from_torch(model, x, sparsity="2:4")).gemms
    assert [g.sparsity for g in sparse] == [(2, 4), (2, 4)]
    dense, kept = weight(model.fc1.weight).T, sparse[0].weights != 0
    np.testing.assert_array_equal(sparse[0].weights[kept], dense[kept])  # pruned, not changed


def test_bad_arguments_are_config_errors(mlp):
    model, x, _, _ = mlp
    with pytest.raises(ConfigError, match="model_or_exported_program=ndarray"):
        workloads.from_torch(np.zeros((4, 16)), (x,))
    with pytest.raises(ConfigError, match="example_inputs=None is not allowed"):
        workloads.from_torch(model)
    with pytest.raises(ConfigError, match="example_inputs is not allowed: torch.export.export of the MLP"):
        workloads.from_torch(model, torch.randn(4, 7))  # 7 features for a 16-input layer
    with pytest.raises(ConfigError, match="example_inputs is not allowed with an ExportedProgram"):
        workloads.from_torch(torch.export.export(model, (x,)), (x,))
    with pytest.raises(ConfigError, match="sparsity"):
        workloads.from_torch(model, x, sparsity="4:2")


def test_operators_tvm_cannot_convert_are_config_errors():
    class Cumulative(torch.nn.Module):
        def forward(self, x):
            return torch.cummax(x, 1)[0]

    with pytest.raises(ConfigError, match=r"cannot convert it .*cummax"):
        workloads.from_torch(Cumulative(), torch.randn(2, 3))
