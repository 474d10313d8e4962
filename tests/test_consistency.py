"""What must agree across entry points: peak and crossbar counts, calibration and chunking, seeds, ranges."""

import numpy as np
import pytest

import cimsim
import cimsim.crossbar as crossbar
from cimsim.physics.mapping import array_geometry
from cimsim.costs.peak import array_vector_ledger

IDEAL = cimsim.load_preset("ideal")


@pytest.mark.parametrize("preset", ["isaac", "rram-22nm", "pcm", "neurram"])
def test_peak_counts_equal_the_crossbar_counts_at_full_activity(preset):
    """One full array read with every input bit set (positive inputs; peak's activity) counts as peak says."""
    cfg = cimsim.load_preset(preset).override({"device.program_noise": 0.0, "device.read_noise": 0.0})
    if preset == "pcm":
        cfg = cfg.override({"adc.range": "max"})
    k, n = cfg.array.rows, cfg.array.cols // array_geometry(cfg).cells_per_weight
    rng = np.random.default_rng(0)
    m = cimsim.AnalogMatrix(rng.standard_normal((k, n)), cfg, seed=0)
    x = np.ones((3, k))
    x[0, 0] = -1.0  # signed inputs, as peak assumes; the other entries use the top code
    m.calibrate(x)
    before = {key: count for key, count, _ in m.ledger.entries()}
    m.matmul(np.ones((1, k)))  # every magnitude bit set on every row
    after = {key: count for key, count, _ in m.ledger.entries()}
    ledger, macs, _ = array_vector_ledger(cfg)
    assert macs == k * n
    for component, action in [("dac", "conversions"), ("cell", "reads"), ("adc", "conversions"),
                              ("sample_hold", "samples"), ("shift_add", "ops")]:
        counted = after[("", component, action)] - before.get(("", component, action), 0.0)
        assert counted == ledger.count(component, action), (component, action)


def test_adc_noise_shrinks_as_the_adc_widens():
    """adc.noise_lsb is in the ADC's own step, so past the lossless width more bits mean less noise."""
    rng = np.random.default_rng(1)
    w, x = rng.standard_normal((128, 32)), rng.random((64, 128))
    errors = []
    for bits in (10, 14, 18):
        cfg = IDEAL.override({"adc.bits": bits, "adc.noise_lsb": 1.0})
        y = cimsim.AnalogMatrix(w, cfg, seed=0).matmul(x)
        exact = cimsim.AnalogMatrix(w, IDEAL, seed=0).matmul(x)
        errors.append(np.linalg.norm(y - exact) / np.linalg.norm(exact))
    # 128 rows x 3 levels x 1 = 384 levels: 1 LSB of noise is 0.375 levels at 10 bits, which flips
    # roundings; 0.023 levels at 14 bits, which almost never moves a reading half a level (21 sigma)
    assert errors[0] > 0 and errors[1] < errors[0] / 16 and errors[2] <= errors[1]


def test_calibration_does_not_depend_on_chunking(monkeypatch):
    cfg = cimsim.load_preset("pcm")
    rng = np.random.default_rng(2)
    w, x_cal = rng.standard_normal((100, 20)), rng.standard_normal((300, 100))
    whole = cimsim.AnalogMatrix(w, cfg, seed=3)
    whole.calibrate(x_cal)
    monkeypatch.setattr(crossbar, "CURRENT_BUFFER_ELEMENTS", 5000)
    chunked = cimsim.AnalogMatrix(w, cfg, seed=3)
    chunked.calibrate(x_cal)
    x = rng.standard_normal((4, 100))
    np.testing.assert_array_equal(chunked.matmul(x), whole.matmul(x))


def test_calibration_subsample_covers_every_column(monkeypatch):
    """With more readings than the cap, the percentile still sees every column (no stride aliasing)."""
    cfg = IDEAL.override({"adc.range": "calibrated", "adc.bits": 4})
    w = -np.abs(np.random.default_rng(4).standard_normal((128, 1)))  # only the G− column ever conducts
    x_cal = np.random.default_rng(5).random((64, 128))
    full = cimsim.AnalogMatrix(w, cfg, seed=0)
    full.calibrate(x_cal)
    monkeypatch.setattr(crossbar, "CALIBRATION_SAMPLES_PER_SLICE", 300)  # 64 x 8 cycles x 2 columns = 1024 readings
    capped = cimsim.AnalogMatrix(w, cfg, seed=0)
    capped.calibrate(x_cal)
    x = np.random.default_rng(6).random((8, 128))
    exact = x @ w
    for m in (full, capped):
        assert np.linalg.norm(m.matmul(x) - exact) / np.linalg.norm(exact) < 0.2  # 4-bit ADC, sane range


@pytest.mark.parametrize("seed", [-1, 1.5, "a", None, True])
def test_anything_but_a_seed_is_a_config_error(seed):
    with pytest.raises(cimsim.ConfigError, match="seed"):
        cimsim.AnalogMatrix(np.ones((4, 2)), IDEAL, seed=seed)


def test_seeds_from_numpy_and_generators_are_accepted():
    a = cimsim.AnalogMatrix(np.ones((4, 2)), IDEAL.override({"device.program_noise": 0.1}), seed=np.int64(7))
    b = cimsim.AnalogMatrix(np.ones((4, 2)), IDEAL.override({"device.program_noise": 0.1}), seed=np.random.default_rng(7))
    np.testing.assert_array_equal(a.cells.g_prog_us, b.cells.g_prog_us)


def test_calibrating_on_nothing_is_a_shape_error():
    m = cimsim.AnalogMatrix(np.ones((4, 2)), IDEAL, seed=0)
    with pytest.raises(cimsim.ShapeError, match="calibrate"):
        m.calibrate(np.empty((0, 4)))


def test_drift_to_takes_numpy_numbers():
    m = cimsim.AnalogMatrix(np.ones((4, 2)), IDEAL.override({"device.drift_nu": 0.05}), seed=0)
    m.drift_to(np.float32(100.0))
    assert m.t_s == 100.0


@pytest.mark.parametrize("density", [0.0, -1.0, 1.5, float("nan")])
def test_peak_rejects_densities_outside_0_1(density):
    with pytest.raises(cimsim.ConfigError, match="input_density"):
        cimsim.peak(cimsim.load_preset("isaac"), input_density=density)


def test_adc_area_limit_says_it_is_the_area_model():
    cfg = cimsim.load_preset("isaac").override({"energy.adc_model": "walden", "adc.bits": 14})
    with pytest.raises(cimsim.ConfigError, match="area model"):
        cimsim.peak(cfg)
