"""workloads.digits: the offline digits data, its fixed split, and the two trained zoo models."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

pytest.importorskip("sklearn")
tvm = pytest.importorskip("tvm")

import tvm_bridge  # noqa: E402
import workloads  # noqa: E402
from cimsim.errors import ConfigError  # noqa: E402
from workloads import digits  # noqa: E402

# Measured float test accuracies of the committed weights (TVM's compiled models; numpy agrees):
# MLP 352/359 = 98.05 %, CNN 354/359 = 98.61 %. The floors sit one percentage point (3-4 test
# images) lower: a retrain on another BLAS (last-bit differences in float64 sums grow over
# training) moves a model by an image or two, while a broken or stale weights file (a wrong
# flatten order, an untrained layer) loses far more.
FLOAT_FLOOR = {"digits-mlp": 0.97, "digits-cnn": 0.975}


# ------------------------------------------------------------------------------------------
# data


def test_splits_have_fixed_sizes_shapes_and_members():
    sizes = {"train": 1438, "test": 359, "calibration": 120}
    # CRC-32 of each split's indices (int64, little endian): the split is part of the documented API
    checksums = {"train": 2281358280, "test": 3376816237, "calibration": 645282807}
    for split, size in sizes.items():
        x, y = digits.dataset(split)
        assert x.shape == (size, 1, 8, 8) and x.dtype == np.float32
        assert y.shape == (size,) and y.dtype == np.int64
        assert 0.0 <= x.min() and x.max() <= 1.0  # pixels / 16
        assert digits.dataset(split, "flat")[0].shape == (size, 64)
        assert zlib.crc32(digits.split_indices(split).astype("<i8").tobytes()) == checksums[split]
    train, test, cal = (set(digits.split_indices(s)) for s in ("train", "test", "calibration"))
    assert not train & test and len(train | test) == 1797 and cal <= train
    y = digits.dataset("test")[1]
    assert np.bincount(y).tolist() == [36, 36, 35, 37, 36, 36, 36, 36, 35, 36]  # round(20 % of each class)
    assert np.bincount(digits.dataset("calibration")[1]).tolist() == [12] * 10


def test_image_and_flat_layouts_hold_the_same_pixels():
    image, y1 = digits.dataset("test", "image")
    flat, y2 = digits.dataset("test", "flat")
    np.testing.assert_array_equal(image.reshape(-1, 64), flat)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("kwargs", [{"split": "validation"}, {"layout": "nhwc"}, {"split": 1}])
def test_bad_split_or_layout(kwargs):
    with pytest.raises(ConfigError) as err:
        digits.dataset(**kwargs)
    assert str(next(iter(kwargs.values()))) in str(err.value)


# ------------------------------------------------------------------------------------------
# the trained models


def test_weights_load_without_pickle_and_have_the_documented_shapes():
    with np.load(digits.WEIGHTS_PATH, allow_pickle=False) as data:
        shapes = {name: data[name].shape for name in data.files}
        assert all(data[name].dtype == np.float32 for name in data.files)
    assert shapes == {
        "mlp_fc1_w": (64, 64), "mlp_fc1_b": (64,), "mlp_fc2_w": (64, 10), "mlp_fc2_b": (10,),
        "cnn_conv1_w": (16, 1, 3, 3), "cnn_conv1_b": (16,), "cnn_conv2_w": (32, 16, 3, 3), "cnn_conv2_b": (32,),
        "cnn_fc_w": (128, 10), "cnn_fc_b": (10,),
    }


@pytest.mark.parametrize("name", ["digits-mlp", "digits-cnn"])
def test_zoo_model_is_accurate_and_computes_the_trained_network(run_relax, name):
    assert name in workloads.list()
    x, y = digits.dataset("test", digits.MODEL_LAYOUT[name])
    logits = run_relax(workloads.get(name, batch=x.shape[0]), x)
    accuracy = float(np.mean(logits.argmax(axis=1) == y))
    assert accuracy >= FLOAT_FLOOR[name]
    # the Relax graph is the numpy training network (same flatten order, same layouts)
    assert accuracy == digits.numpy_accuracy(digits.weights(), name.removeprefix("digits-"))


@pytest.mark.parametrize("name", ["digits-mlp", "digits-cnn"])
def test_batch_sparsity_and_seed(run_relax, name):
    x, _ = digits.dataset("test", digits.MODEL_LAYOUT[name])
    full = run_relax(workloads.get(name, batch=8), x[:8])
    np.testing.assert_allclose(run_relax(workloads.get(name, batch=3), x[:3]), full[:3], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(run_relax(workloads.get(name, batch=8, seed=5), x[:8]), full)  # trained: seed is unused
    sparse = workloads.get(name, sparsity="2:4")
    pruned = [g for g in tvm_bridge.extract(sparse).gemms if g.k % 4 == 0]
    assert pruned and all(g.sparsity == (2, 4) for g in pruned)
    tvm.ir.assert_structural_equal(workloads.sparsify(workloads.get(name), "2:4"), sparse)


def test_retraining_is_deterministic():
    for kind, epochs in (("mlp", 2), ("cnn", 1)):
        first, second = digits.train(kind, epochs=epochs), digits.train(kind, epochs=epochs)
        assert first.keys() == second.keys()
        for name in first:
            np.testing.assert_array_equal(first[name], second[name])
            assert first[name].shape == digits.weights()[name].shape
    # a couple of epochs already classify most test images (chance is 10 %)
    assert digits.numpy_accuracy(digits.train("mlp", epochs=2), "mlp") > 0.8


def test_command_prints_the_accuracies(capsys):
    digits.main([])
    out = capsys.readouterr().out
    assert "digits-mlp: float test accuracy 0.98" in out and "digits-cnn: float test accuracy 0.98" in out
