"""Work items and what they wait for: receptive fields, pooling, attention operands, large M, tiles."""

import numpy as np
import pytest

import tvm_bridge
import workloads
from cimsim import Gemm, Workload
from cimsim.arch.chunking import MAX_CHUNKS, gemm_chunks, operation_needs, tiled_needs, workload_chunks


@pytest.fixture(scope="module")
def lenet():
    return tvm_bridge.extract(workloads.get("lenet5"))


def test_a_convolution_waits_for_the_rows_its_receptive_field_reaches(lenet):
    chunks = workload_chunks(lenet)
    conv2 = lenet.ops[3]  # 5x5, no padding, on the 14x14 output of a 2x2 pooling of conv1's 28 rows
    assert conv2.name == "conv2d_3" and chunks["conv2d_3"] == (10, "output row")
    (producer, needs), = operation_needs(conv2, chunks).items()
    assert producer == "avg_pool2d_2" and chunks[producer][0] == 28  # the pooling streams conv1's rows
    # output row r reads pooled rows r .. r + 4, i.e. conv1 rows up to 2 (r + 4) + 1: 2r + 10 of 28
    np.testing.assert_array_equal(needs, [2 * r + 10 for r in range(10)])


def test_attention_waits_for_all_of_the_keys_and_values():
    wl = tvm_bridge.extract(workloads.get("bert-base-layer", seq_len=16))
    chunks = workload_chunks(wl)
    qk, av = (op for op in wl.gemms if not op.constant)
    q_producer, k_producer = qk.inputs
    needs = operation_needs(qk, chunks)
    np.testing.assert_array_equal(needs[q_producer], np.arange(1, 17))  # token j of Q
    np.testing.assert_array_equal(needs[k_producer], np.full(16, 16))  # every key
    probabilities, values = av.inputs
    assert wl.ops[[op.name for op in wl.ops].index(probabilities)].kind == "softmax"
    needs = operation_needs(av, chunks)
    np.testing.assert_array_equal(needs[probabilities], np.arange(1, 17))
    np.testing.assert_array_equal(needs[values], np.full(16, 16))  # every value


@pytest.mark.parametrize("m, expected", [(1, (1, "vector")), (200, (200, "token")), (257, (MAX_CHUNKS, "batch slice")),
                                         (4096, (MAX_CHUNKS, "batch slice"))])
def test_large_products_split_into_at_most_max_chunks(m, expected):
    assert gemm_chunks(Gemm("g", m=m, k=4, n=4)) == expected


def test_a_chunk_waits_in_proportion_otherwise():
    wl = Workload([Gemm("a", m=4, k=8, n=8, constant=True), Gemm("b", m=2, k=8, n=8, constant=True, inputs=("a",))])
    np.testing.assert_array_equal(operation_needs(wl.ops[1], workload_chunks(wl))["a"], [2, 4])


def test_tiles_wait_for_every_tile_of_the_rows_they_need():
    # consumer rows need producer rows [1, 3]; 2 consumer tiles, 5 producer tiles
    np.testing.assert_array_equal(tiled_needs(np.array([1, 3]), 2, 5), [5, 5, 15, 15])
