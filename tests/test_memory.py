"""Bounded memory: programming is estimated and refused above the limit; reads stay flat as vectors grow."""

import tracemalloc

import numpy as np
import pytest

import cimsim
from cimsim import crossbar
from cimsim.host_memory import BYTES_PER_CELL, BYTES_PER_CHUNK_CELL, LIMIT_VARIABLE, memory_limit_bytes
from cimsim.physics import device, read_operands
from cimsim.physics.mapping import quantize_weights
from cimsim.physics.calibration import SliceSamples, subsample, sums_exact_in_float32


def traced_peak(function):
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("preset", ["ideal", "pcm", "isaac"])
def test_programming_stays_within_the_bytes_the_guard_assumes(preset):
    """A small matrix is one chunk: its peak is the chunk's float64 temporaries, which the guard adds."""
    w = np.random.default_rng(0).standard_normal((512, 128))
    matrix, peak = traced_peak(lambda: cimsim.AnalogMatrix(w, cimsim.load_preset(preset), seed=0))
    cells = matrix.stored_rows * matrix.physical_columns
    chunk_cells = min(cells, 2**18 + 512 * matrix.physical_columns)  # at most 2^18 cells or one block of 512 rows
    assert peak <= BYTES_PER_CELL * cells + BYTES_PER_CHUNK_CELL * chunk_cells


@pytest.mark.parametrize("preset, noise, operand_bytes", [("ideal", 0.0, 1), ("isaac", 0.0, 1), ("isaac", 0.05, 4)])
def test_a_large_matrix_holds_its_operand_and_an_eighth_of_a_byte_per_cell(preset, noise, operand_bytes):
    """4096 x 512 weights, 8 cells each: 16.8 million cells, one chunk about 1.6 % of them.

    Held after programming, per cell: its operand (digital differential: every physical column
    is a conversion column; int8 while noise-free, float32 with programming noise)
    and 1/8 of its weight's int8 (0.125 byte); its level is not held. 0.25 more allowed for the
    per-row and per-column arrays. At peak, also the temporaries of one chunk of 2^18 cells (at
    most BYTES_PER_CHUNK_CELL each)."""
    w = np.random.default_rng(0).standard_normal((4096, 512))
    tracemalloc.start()
    try:
        matrix = cimsim.AnalogMatrix(w, cimsim.load_preset(preset).override({"device.program_noise": noise}), seed=0)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    cells = matrix.stored_rows * matrix.physical_columns
    assert cells == 4096 * 512 * 8 and matrix._operand.itemsize == operand_bytes
    assert held <= (operand_bytes + 0.125 + 0.25) * cells
    assert peak <= (operand_bytes + 0.125 + 0.25) * cells + BYTES_PER_CHUNK_CELL * 2**18


def test_cells_drawn_again_in_chunks_are_those_one_whole_draw_gives(monkeypatch):
    """Faults, programming error and drift exponents on pcm with stuck cells, in chunks of one row
    block (512 rows): the same numbers as device.program drawing the whole matrix at once."""
    monkeypatch.setattr(read_operands, "CELLS_PER_CHUNK", 1)
    cfg = cimsim.load_preset("pcm").override({"device.stuck_off": 0.05, "device.stuck_on": 0.05})
    w = np.random.default_rng(3).standard_normal((1200, 40))
    matrix = cimsim.AnalogMatrix(w, cfg, seed=7)
    d = cfg.device
    levels = matrix.layout.levels  # pcm flips no column
    target = d.g_min_us + (d.g_max_us - d.g_min_us) * levels / (2**cfg.array.bits_per_cell - 1)
    whole = device.program(target, d, np.random.default_rng(7))
    drawn = matrix.cells
    for field in ("g_target_us", "g_prog_us", "nu", "stuck"):
        assert np.array_equal(getattr(drawn, field), getattr(whole, field)), field
    assert (whole.stuck != 0).any() and (whole.nu > 0).any()


def test_calibration_keeps_the_charges_a_whole_subsample_would_choose():
    """Offered in uneven pieces, the kept charges are those numpy's choice picks from all of them."""
    rng = np.random.default_rng(4)
    charges = np.abs(rng.standard_normal(10_000))
    samples = SliceSamples(charges.size, 700)
    for piece in np.split(charges, [3, 50, 51, 4000, 9999]):
        samples.offer(piece[:, None], np.array([0]))
    chosen = charges[np.random.default_rng(0).choice(charges.size, 700, replace=False)]
    assert samples.full_scale(99.0) == np.percentile(chosen, 99.0)
    assert samples.kept.size == 700


@pytest.mark.parametrize("total, limit", [
    (10_001, 201),  # numpy's tail shuffle: more than 10,000 charges, more than 1/50 of them kept (10001 // 50 = 200)
    (123_457, 40_000),  # the tail shuffle, many of its swaps landing on the same positions
    (20_000, 19_999),  # keep all but one
    (10_001, 200),  # numpy's Floyd algorithm (200 = 10001 // 50): numpy's own choice
    (9_000, 5_000),  # 10,000 charges or fewer: numpy's own choice
])
def test_subsample_is_numpys_choice_in_memory_of_the_subsample(total, limit):
    """The same positions in the same order, and the generator left where numpy's choice leaves it."""
    ours, numpys = np.random.default_rng(11), np.random.default_rng(11)
    assert np.array_equal(subsample(ours, total, limit), numpys.choice(total, limit, replace=False))
    assert ours.integers(2**62) == numpys.integers(2**62)


def test_subsample_of_a_billion_charges_holds_about_five_int64s_per_kept_one():
    """numpy's choice(2^30, 2^20) fills arange(2^30) first: 8.6 GB; here about 5 x 8 B x 2^20 = 42 MB
    (the draws, their bounds, the swapped values and np.unique's sort), below 64 MB."""
    picks, peak = traced_peak(lambda: subsample(np.random.default_rng(0), 2**30, 2**20))
    assert np.unique(picks).size == 2**20 and picks.max() < 2**30
    assert peak < 64e6


def test_calibration_keeps_the_chosen_charges_of_its_slice_columns_row_after_row():
    """Signed 2-D charges offered with the columns of one slice: the |charges| kept are those numpy's
    choice picks from |charges[:, columns]| flattened row after row, piece after piece."""
    rng = np.random.default_rng(5)
    pieces = [rng.standard_normal((rows, 6)) for rows in (1, 700, 33, 1500)]  # 2234 rows
    columns = np.array([1, 4, 5])
    offered = np.abs(np.concatenate([piece[:, columns] for piece in pieces])).ravel()  # 2234 x 3 = 6702 charges
    for limit, expected in ((6702, offered), (600, offered[np.random.default_rng(0).choice(6702, 600, replace=False)])):
        samples = SliceSamples(6702, limit)
        for piece in pieces:
            samples.offer(piece, columns)
        assert samples.full_scale(97.5) == np.percentile(expected, 97.5)
        assert np.array_equal(np.sort(samples.kept), np.sort(expected))


def test_slices_offered_as_many_charges_share_one_draw():
    one, other, third = SliceSamples.for_slices([50_000, 50_000, 40_000], 3_000)
    assert one.chosen is other.chosen and third.chosen is not one.chosen
    assert np.array_equal(third.chosen, np.sort(np.random.default_rng(0).choice(40_000, 3_000, replace=False)))


@pytest.mark.parametrize("bits, dtype", [(8, np.int8), (9, np.int16), (16, np.int16)])
def test_quantised_weights_take_the_smallest_integer_and_rows_are_picked_chunk_by_chunk(bits, dtype):
    """3000 x 700 weights (2.1 M: three chunks of 2^20), every third row: the integers of
    round(w / s), clipped to ±(2^(b-1) - 1), s = max |w| of the picked rows over 2^(b-1) - 1."""
    w = np.random.default_rng(9).standard_normal((3000, 700))
    rows = np.arange(0, 3000, 3)
    q_max = 2 ** (bits - 1) - 1
    for per_column in (True, False):
        w_q, scale = quantize_weights(w, bits, per_column, rows)
        max_abs = np.abs(w[rows]).max(axis=0) if per_column else np.abs(w[rows]).max()
        expected = np.clip(np.rint(w[rows] / (max_abs / q_max)), -q_max, q_max)
        assert w_q.dtype == dtype and np.array_equal(w_q, expected)
        assert np.array_equal(scale, np.broadcast_to(max_abs / q_max, (700,)))


def test_a_matrix_above_the_limit_is_refused_with_its_size_and_advice(monkeypatch):
    monkeypatch.setenv(LIMIT_VARIABLE, "0.001")  # 1 MB
    w = np.ones((512, 64))  # 512 x 64 x 8 cells on ideal (8-bit differential, 2-bit cells)
    # 9 B per cell, and 120 B per cell of a chunk: 512 rows x 512 columns (2^18 cells)
    expected_gb = (512 * 512 * 9 + 2**18 * 120) / 1e9
    with pytest.raises(cimsim.ConfigError, match=rf"programming a 512 x 64 matrix .* needs about {expected_gb:.3g} GB.*column slices"):
        cimsim.AnalogMatrix(w, cimsim.load_preset("ideal"))
    monkeypatch.setenv(LIMIT_VARIABLE, "lots")
    with pytest.raises(cimsim.ConfigError, match=LIMIT_VARIABLE):
        memory_limit_bytes()


def test_reads_are_chunked_so_memory_does_not_grow_with_the_vectors():
    """10x the vectors: the peak grows by the output alone (M x N float64), not by the work arrays."""
    rng = np.random.default_rng(1)
    matrix = cimsim.AnalogMatrix(rng.standard_normal((512, 256)), cimsim.load_preset("ideal"), seed=0)
    small, large = (rng.random((m, 512)) for m in (1500, 15000))
    _, peak_small = traced_peak(lambda: matrix.matmul(small))
    _, peak_large = traced_peak(lambda: matrix.matmul(large))
    output_growth = (15000 - 1500) * 256 * 8
    assert peak_large - peak_small < output_growth + 0.25 * peak_small


def test_a_functional_simulation_needs_the_same_memory_at_any_batch():
    rng = np.random.default_rng(2)
    wl = cimsim.Workload([cimsim.Gemm("fc", m=64, k=512, n=256, weights=rng.standard_normal((512, 256)))], name="fc")
    ideal = cimsim.load_preset("ideal")
    _, one = traced_peak(lambda: cimsim.simulate(wl, ideal, batch=1, fidelity="functional"))
    _, ten = traced_peak(lambda: cimsim.simulate(wl, ideal, batch=10, fidelity="functional"))
    assert ten < 1.1 * one  # one inference runs through the arrays; the batch multiplies counts, not data


def test_float32_calibration_currents_only_where_their_integer_sums_are_exact():
    ones, f32 = np.ones((4, 3), dtype=np.float32), np.dtype(np.float32)
    assert sums_exact_in_float32(ones, f32, block_rows=128, dac_bits=1)  # sums <= 128
    assert sums_exact_in_float32(-ones.astype(np.int8), f32, block_rows=128, dac_bits=1)  # int8 holds integers
    assert not sums_exact_in_float32(ones * 0.5, f32, block_rows=128, dac_bits=1)  # not integers
    assert not sums_exact_in_float32(ones, f32, block_rows=2**17, dac_bits=8)  # 2^17 x 255 > 2^24
    assert not sums_exact_in_float32(ones, np.dtype(np.float64), block_rows=128, dac_bits=1)  # float64 products


def test_calibrating_in_float32_reads_as_calibrating_in_float64(monkeypatch):
    """rram-22nm: one-bit cells and DAC, so every current is an integer up to 128."""
    rng = np.random.default_rng(6)
    w, x = rng.standard_normal((300, 24)), rng.standard_normal((40, 300))
    steps = []
    for exact in (True, False):
        monkeypatch.setattr(crossbar, "sums_exact_in_float32", lambda *_, exact=exact: exact)
        matrix = cimsim.AnalogMatrix(w, cimsim.load_preset("rram-22nm"), seed=0)
        matrix.calibrate(x)
        steps.append(matrix.matmul(x))  # its ADC steps set by the calibration
    assert np.array_equal(steps[0], steps[1])


@pytest.mark.parametrize("preset, overrides", [("isaac", {}), ("ideal", {"array.wire_resistance_ohm": 2.0})])
def test_reads_do_not_depend_on_the_chunks_the_cells_are_drawn_in(monkeypatch, preset, overrides):
    """isaac flips columns per row block (chunks of one row cross no block edge by accident);
    IR drop is solved per array (chunks of whole row blocks): one chunk or many, the same outputs."""
    cfg = cimsim.load_preset(preset).override(overrides) if overrides else cimsim.load_preset(preset)
    rng = np.random.default_rng(8)
    w, x = rng.standard_normal((300, 30)), rng.standard_normal((20, 300))
    outputs = []
    for cells_per_chunk in (2**18, 1):
        monkeypatch.setattr(read_operands, "CELLS_PER_CHUNK", cells_per_chunk)
        outputs.append(cimsim.AnalogMatrix(w, cfg, seed=2).matmul(x))
    assert np.array_equal(outputs[0], outputs[1])


def test_an_integer_operand_is_held_in_int8_and_widened_exactly_at_the_first_other_chunk():
    """ideal: noise-free cells, integer operands within ±127: one byte per conversion column. The
    array a chunk is written to turns float32 at the first chunk that is not small integers, the
    rows already written copied as they are."""
    matrix = cimsim.AnalogMatrix(np.random.default_rng(3).standard_normal((300, 20)), cimsim.load_preset("ideal"))
    assert matrix._operand.dtype == np.int8 and matrix._product_dtype == np.float32
    first = read_operands._held(None, (4, 2), small=True, filled=0)
    first[:2] = [[-127, 3], [0, 127]]
    widened = read_operands._held(first, (4, 2), small=False, filled=2)
    assert widened.dtype == np.float32 and np.array_equal(widened[:2], [[-127.0, 3.0], [0.0, 127.0]])
    assert read_operands._held(widened, (4, 2), small=True, filled=4) is widened  # float32 stays float32
    assert read_operands._held(None, (4, 2), small=False, filled=0).dtype == np.float32
