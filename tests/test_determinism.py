"""Determinism audit: the same seed gives the same bits at 1 and 2 numba threads, at every stochastic entry.

Each entry point runs in a fresh process (the thread count is fixed when numba starts) and prints
a digest of everything it produced: programming and reads (``AnalogMatrix`` on ``pcm``, whose
programming, drift and read noise are all random), functional simulation (its energy and each
layer's error), and a TVM model offloaded to the crossbars (its outputs and its ledger).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import cimsim

SCRIPT = r"""
import hashlib, json
import numpy as np
import cimsim, tvm, tvm_bridge, workloads
from tvm import relax

digest = hashlib.sha256()
pcm = cimsim.load_preset("pcm")
rng = np.random.default_rng(3)
m = cimsim.AnalogMatrix(rng.normal(size=(300, 40)), pcm, seed=5)
m.calibrate(rng.random((50, 300)))
m.drift_to(3600.0)
digest.update(m.matmul(rng.random((20, 300))).tobytes())
wl = cimsim.Workload([cimsim.Gemm("fc", m=8, k=200, n=30, weights=rng.normal(size=(200, 30)))], name="fc")
report = cimsim.simulate(wl, pcm, fidelity="functional", seed=7)
digest.update(json.dumps([report.energy_pj, [r.relative_error for r in report.layers]]).encode())
mod = tvm_bridge.offload(workloads.get("mlp", batch=2), pcm, seed=9)
vm = relax.VirtualMachine(tvm.compile(mod, "llvm"), tvm.cpu())
x = np.random.default_rng(4).standard_normal((2, 784)).astype("float32")
digest.update(vm["main"](tvm.runtime.tensor(x)).numpy().tobytes())
digest.update(json.dumps(tvm_bridge.ledger(mod).to_dict(), sort_keys=True).encode())
print(digest.hexdigest())
"""


def digest_at(threads: int) -> str:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_every_stochastic_entry_point_gives_the_same_bits_at_1_and_2_threads():
    one, two = digest_at(1), digest_at(2)
    assert len(one) == 64 and one == two


def test_read_only_and_strided_arrays_are_taken_as_they_are():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(40, 12))
    x = rng.normal(size=(6, 80))[:, ::2]  # non-contiguous view, 40 columns
    frozen_w, frozen_x = w.copy(), np.ascontiguousarray(x)
    frozen_w.setflags(write=False)
    frozen_x.setflags(write=False)
    ideal = cimsim.load_preset("ideal")
    expected = cimsim.AnalogMatrix(w, ideal, seed=0).matmul(np.ascontiguousarray(x))
    np.testing.assert_array_equal(cimsim.AnalogMatrix(frozen_w, ideal, seed=0).matmul(x), expected)
    np.testing.assert_array_equal(cimsim.AnalogMatrix(w, ideal, seed=0).matmul(frozen_x), expected)
    wl = cimsim.Workload([cimsim.Gemm("fc", m=6, k=40, n=12, weights=frozen_w)], name="fc")
    assert cimsim.simulate(wl, ideal, fidelity="functional", inputs={"fc": x}).energy_pj > 0


@pytest.mark.parametrize("bad", [np.zeros((6, 40), dtype=complex), np.array([["a"] * 40] * 6), np.zeros((0, 40))])
def test_simulate_refuses_inputs_it_cannot_use(bad):
    wl = cimsim.Workload([cimsim.Gemm("fc", m=6, k=40, n=12, weights=np.ones((40, 12)))], name="fc")
    with pytest.raises((cimsim.ShapeError, cimsim.ConfigError), match="fc"):
        cimsim.simulate(wl, cimsim.load_preset("ideal"), inputs={"fc": bad})
