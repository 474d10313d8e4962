"""Handwritten digits, offline, and two models trained on them: ``digits-mlp`` and ``digits-cnn``.

**Data.** scikit-learn's bundled digits (``sklearn.datasets.load_digits()``, shipped inside the
package, nothing downloaded): 1,797 grey images of 8×8 pixels with integer values 0…16, ten
classes. Preprocessing: ``x / 16``, so every pixel is in [0, 1] (float32; non-negative, so a
crossbar streams them as unsigned inputs). No standardisation.

**Split** (fixed; no scikit-learn randomness involved): stratified, seed 0, 20 % test. For each
class c, its image indices (in the dataset's order) are permuted by
``numpy.random.default_rng([0, c])`` and the first ``round(0.2 · n_c)`` of them go to the test
split: 359 test images (35 to 37 per class) and 1,438 training images, each split in increasing
index order. The ``calibration`` split is 120 training images, 12 per class (the first 12 of each
class's permutation by ``default_rng([1, c])``), in increasing index order: inputs for
calibrating converters, never part of the test split.

**Models** (float32, trained in numpy with this module; weights in ``workloads/data/digits.npz``):

* ``digits-mlp``: 64-64-10, ReLU; input (batch, 64), the image flattened row by row.
* ``digits-cnn``: conv 16@3×3 pad 1 → ReLU → max pool 2 (16×4×4) → conv 32@3×3 pad 1 → ReLU →
  max pool 2 (32×2×2) → flatten (128, in channel, row, column order) → dense 10;
  input (batch, 1, 8, 8).

**Training** (``python -m workloads.digits --train`` rewrites the weights file; deterministic
for a given numpy and BLAS): He-normal initial weights and zero biases from
``numpy.random.default_rng(0)`` (the MLP) or ``default_rng(1)`` (the CNN), mini-batches of 32
from a permutation of the training split drawn each epoch from the same generator, softmax
cross-entropy, Adam (learning rate 3e-3, β = 0.9, 0.999, ε = 1e-8) with a weight decay of 1e-4
added to the gradient, float64 arithmetic, stored as float32. The weights are loaded with
``numpy.load(..., allow_pickle=False)``: neither torch nor scikit-learn is needed to build the
models; scikit-learn (the ``digits`` extra: ``pip install 'cimsim[digits]'``) is needed only for
:func:`dataset`.
"""

from __future__ import annotations

import argparse
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cimsim.errors import ConfigError
from cimsim.extras import missing_extra

WEIGHTS_PATH = Path(__file__).parent / "data" / "digits.npz"
PIXEL_MAX = 16.0  # load_digits' largest pixel value: x / PIXEL_MAX is in [0, 1]
TEST_FRACTION = 0.2
CALIBRATION_PER_CLASS = 12
SPLITS = ("train", "test", "calibration")
LAYOUTS = {"flat": (64,), "image": (1, 8, 8)}
#: the input layout of each model: ``dataset(split, layout=MODEL_LAYOUT[name])``
MODEL_LAYOUT = {"digits-mlp": "flat", "digits-cnn": "image"}
EPOCHS = {"mlp": 60, "cnn": 40}
INIT_SEED = {"mlp": 0, "cnn": 1}


# ------------------------------------------------------------------------------------------
# data


@functools.cache
def _images() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images as (N, 64) float32 in [0, 1], and their labels (int64)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise missing_extra("workloads.digits.dataset (scikit-learn's bundled digits)", "digits", exc) from None
    digits = load_digits()
    return (digits.data / PIXEL_MAX).astype(np.float32), digits.target.astype(np.int64)


@functools.cache
def split_indices(split: str) -> np.ndarray:
    """The dataset indices of ``split`` ("train", "test" or "calibration"), increasing (module docstring)."""
    if split not in SPLITS:
        raise ConfigError(f"split = {split!r}; allowed: {', '.join(SPLITS)}")
    labels = _images()[1]
    test, calibration = [], []
    for c in range(10):
        members = np.flatnonzero(labels == c)
        shuffled = np.random.default_rng([0, c]).permutation(members)
        n_test = int(round(TEST_FRACTION * members.size))
        test.append(shuffled[:n_test])
        train_c = np.sort(shuffled[n_test:])
        calibration.append(np.random.default_rng([1, c]).permutation(train_c)[:CALIBRATION_PER_CLASS])
    test_idx = np.sort(np.concatenate(test))
    chosen = {
        "test": test_idx,
        "train": np.setdiff1d(np.arange(labels.size), test_idx),
        "calibration": np.sort(np.concatenate(calibration)),
    }[split]
    chosen.setflags(write=False)
    return chosen


def dataset(split: str = "test", layout: str = "image") -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of ``split``: x float32 in [0, 1] (pixels / 16), (N, 1, 8, 8) for ``layout="image"``
    or (N, 64) for ``"flat"``; y int64 labels 0…9. See the module docstring for the split."""
    if layout not in LAYOUTS:
        raise ConfigError(f"layout = {layout!r}; allowed: {', '.join(LAYOUTS)}")
    x, y = _images()
    idx = split_indices(split)
    return x[idx].reshape((idx.size,) + LAYOUTS[layout]), y[idx].copy()


# ------------------------------------------------------------------------------------------
# the trained models in Relax (registered in workloads.models)


@functools.cache
def weights() -> dict[str, np.ndarray]:
    """The trained weights, by name ("mlp_fc1_w", "cnn_conv1_b", …), float32, read-only."""
    if not WEIGHTS_PATH.is_file():
        raise ConfigError(f"{WEIGHTS_PATH} is missing: run python -m workloads.digits --train")
    with np.load(WEIGHTS_PATH, allow_pickle=False) as data:
        params = {name: data[name].astype(np.float32) for name in data.files}
    for array in params.values():
        array.setflags(write=False)
    return params


def _pruned(g, w: np.ndarray, *, k_axes, n_axis) -> np.ndarray:
    """The trained weight, pruned to the graph's sparsity (no retraining) when it has one."""
    from workloads.sparsity import prune_gemm

    return w if g.sparsity is None else prune_gemm(w, g.sparsity, k_axes=k_axes, n_axis=n_axis)


def _dense(g, x, prefix: str):
    from tvm import relax

    p = weights()
    w = _pruned(g, p[prefix + "_w"], k_axes=[0], n_axis=1)
    y = g.emit(relax.op.matmul(x, g.const(w)), prefix)
    return g.emit(relax.op.add(y, g.const(p[prefix + "_b"])), prefix + "_bias")


def _conv_relu_pool(g, x, prefix: str):
    from tvm import relax

    p = weights()
    w = _pruned(g, p[prefix + "_w"], k_axes=[1, 2, 3], n_axis=0)
    y = g.emit(relax.op.nn.conv2d(x, g.const(w), padding=(1, 1)), prefix)
    y = g.emit(relax.op.add(y, g.const(p[prefix + "_b"].reshape(1, -1, 1, 1))), prefix + "_bias")
    y = g.relu(y, prefix + "_relu")
    return g.emit(relax.op.nn.max_pool2d(y, pool_size=(2, 2), strides=(2, 2)), prefix + "_pool")


def build_mlp(g, x, batch: int):
    """``digits-mlp``: (batch, 64) → fc 64 → ReLU → fc 10 (logits)."""
    return _dense(g, g.relu(_dense(g, x, "mlp_fc1"), "mlp_fc1_relu"), "mlp_fc2")


def build_cnn(g, x, batch: int):
    """``digits-cnn``: (batch, 1, 8, 8) → two conv-ReLU-pool stages → flatten 128 → fc 10 (logits)."""
    from tvm import relax

    h = _conv_relu_pool(g, _conv_relu_pool(g, x, "cnn_conv1"), "cnn_conv2")
    h = g.emit(relax.op.reshape(h, (batch, 128)), "flatten")
    return _dense(g, h, "cnn_fc")


# ------------------------------------------------------------------------------------------
# training, in numpy (float64)


class _Dense:
    def __init__(self, name: str, k: int, n: int, rng: np.random.Generator):
        self.params = {f"{name}_w": rng.standard_normal((k, n)) * np.sqrt(2.0 / k), f"{name}_b": np.zeros(n)}
        self.w, self.b = self.params.values()

    def forward(self, x):
        self.x = x
        return x @ self.w + self.b

    def backward(self, dy):
        self.grads = [self.x.T @ dy, dy.sum(axis=0)]
        return dy @ self.w.T


class _Conv3x3:
    """Stride 1, padding 1, NCHW/OIHW, through an im2col view (rows ordered channel, row, column)."""

    def __init__(self, name: str, cin: int, cout: int, rng: np.random.Generator):
        w = rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (9 * cin))
        self.params = {f"{name}_w": w, f"{name}_b": np.zeros(cout)}
        self.w, self.b = self.params.values()

    def forward(self, x):
        n, c, h, w = x.shape
        padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # n c h w 3 3
        self.cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * 9)
        self.in_shape = x.shape
        out = self.cols @ self.w.reshape(self.w.shape[0], -1).T + self.b
        return out.reshape(n, h, w, -1).transpose(0, 3, 1, 2)

    def backward(self, dy):
        n, c, h, w = self.in_shape
        dy2 = dy.transpose(0, 2, 3, 1).reshape(n * h * w, -1)
        self.grads = [(dy2.T @ self.cols).reshape(self.w.shape), dy2.sum(axis=0)]
        dcols = (dy2 @ self.w.reshape(self.w.shape[0], -1)).reshape(n, h, w, c, 3, 3)
        dx = np.zeros((n, c, h + 2, w + 2))
        for i in range(3):
            for j in range(3):
                dx[:, :, i : i + h, j : j + w] += dcols[..., i, j].transpose(0, 3, 1, 2)
        return dx[:, :, 1:-1, 1:-1]


class _Relu:
    params: dict = {}

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask


class _MaxPool2:
    params: dict = {}

    def forward(self, x):
        n, c, h, w = x.shape
        windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
        self.winner = windows.argmax(axis=-1)[..., None]  # the first maximum of each window takes the gradient
        return np.take_along_axis(windows, self.winner, axis=-1)[..., 0]

    def backward(self, dy):
        n, c, h2, w2 = dy.shape
        grad = np.zeros((n, c, h2, w2, 4))
        np.put_along_axis(grad, self.winner, dy[..., None], axis=-1)
        return grad.reshape(n, c, h2, w2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * h2, 2 * w2)


class _Flatten:
    params: dict = {}

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self.shape)


def _network(kind: str, rng: np.random.Generator) -> list:
    if kind == "mlp":
        return [_Dense("mlp_fc1", 64, 64, rng), _Relu(), _Dense("mlp_fc2", 64, 10, rng)]
    return [
        _Conv3x3("cnn_conv1", 1, 16, rng), _Relu(), _MaxPool2(),
        _Conv3x3("cnn_conv2", 16, 32, rng), _Relu(), _MaxPool2(),
        _Flatten(), _Dense("cnn_fc", 128, 10, rng),
    ]


def forward(layers: list, x: np.ndarray) -> np.ndarray:
    """Logits of the numpy network on x (float64)."""
    for layer in layers:
        x = layer.forward(x)
    return x


@dataclass
class _Adam:
    lr: float = 3e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 1e-4
    steps: int = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], moments: list[list[np.ndarray]]) -> None:
        self.steps += 1
        for p, grad, (m, v) in zip(params, grads, moments):
            grad = grad + self.weight_decay * p
            m *= self.beta1
            m += (1 - self.beta1) * grad
            v *= self.beta2
            v += (1 - self.beta2) * grad**2
            m_hat = m / (1 - self.beta1**self.steps)
            v_hat = v / (1 - self.beta2**self.steps)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def train(kind: str, epochs: int | None = None, batch: int = 32) -> dict[str, np.ndarray]:
    """Train ``kind`` ("mlp" or "cnn") on the training split (module docstring); its weights, float32."""
    if kind not in EPOCHS:
        raise ConfigError(f"kind = {kind!r}; allowed: {', '.join(EPOCHS)}")
    rng = np.random.default_rng(INIT_SEED[kind])
    layers = _network(kind, rng)
    x, y = dataset("train", MODEL_LAYOUT[f"digits-{kind}"])
    x = x.astype(np.float64)
    params = [p for layer in layers for p in layer.params.values()]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    adam = _Adam()
    for _ in range(EPOCHS[kind] if epochs is None else epochs):
        order = rng.permutation(y.size)
        for start in range(0, y.size, batch):
            idx = order[start : start + batch]
            logits = forward(layers, x[idx])
            probs = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            probs[np.arange(idx.size), y[idx]] -= 1.0
            grad = probs / idx.size  # d(mean cross-entropy) / d(logits)
            for layer in reversed(layers):
                grad = layer.backward(grad)
            adam.step(params, [g for layer in layers for g in getattr(layer, "grads", [])], moments)
    return {name: p.astype(np.float32) for layer in layers for name, p in layer.params.items()}


def numpy_accuracy(params: dict[str, np.ndarray], kind: str, split: str = "test") -> float:
    """Top-1 accuracy of trained ``params`` on ``split``, computed in numpy (float64)."""
    layers = _network(kind, np.random.default_rng(0))
    for layer in layers:
        for name in layer.params:
            layer.params[name][...] = params[name]
    x, y = dataset(split, MODEL_LAYOUT[f"digits-{kind}"])
    return float(np.mean(forward(layers, x.astype(np.float64)).argmax(axis=1) == y))


def save_weights(params: dict[str, np.ndarray], path: Path) -> None:
    """Write ``params`` as an .npz atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".npz.partial")
    with open(partial, "wb") as f:
        np.savez_compressed(f, **params)
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workloads.digits", description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help=f"retrain both models and rewrite {WEIGHTS_PATH.name}")
    args = parser.parse_args(argv)
    params = {**train("mlp"), **train("cnn")} if args.train else dict(weights())
    if args.train:
        save_weights(params, WEIGHTS_PATH)
    for kind in EPOCHS:
        print(f"digits-{kind}: float test accuracy {numpy_accuracy(params, kind):.4f}")


if __name__ == "__main__":
    main()
