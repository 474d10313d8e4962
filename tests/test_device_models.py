"""Device models as a registry of user-extensible objects (cimsim.physics.device_models).

A user model, registered by name and selected from a TOML file, drives what ``AnalogMatrix``
programs, drifts and reads; the registry refuses bad names, duplicates and objects that are not
device models; configurations refuse names that are not registered. Every test leaves the
registry as it found it (the ``registry`` fixture).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import cimsim
from cimsim.physics import device
from cimsim.physics.device_models import PCM_NANDAKUMAR2019, DeviceModel, unregister_device_model

# Two-sided 5-sigma bound for every sampling tolerance.
Z = 5.0
G_MAX_US = 100.0
PROGRAM_A = 0.05  # σ_prog = a·G_target
DRIFT_C = 0.08  # ν = c·G_target/g_max, no spread
READ_R = 0.01  # σ_read = r·G_now


class Proportional(DeviceModel):
    """Every effect proportional to the conductance: σ_prog = a·G_target, ν = c·G_target/g_max
    (no spread), σ_read = r·G_now."""

    def program_noise_sigma_us(self, g_target_us, device):
        return PROGRAM_A * g_target_us

    def drift_nu_mean_std(self, g_target_us, device):
        return DRIFT_C * g_target_us / device.g_max_us, np.zeros_like(g_target_us)

    def read_noise_sigma_us(self, g_target_us, g_now_us, t_s, device):
        return READ_R * g_now_us


@pytest.fixture
def registry():
    """Registers ``Proportional()`` as "proportional"; afterwards removes every model the test added."""
    before = cimsim.list_device_models()
    cimsim.register_device_model("proportional", Proportional())
    yield
    for name in cimsim.list_device_models():
        if name not in before:
            unregister_device_model(name)
    assert cimsim.list_device_models() == before


def load(tmp_path, device_table: str, rest: str = ""):
    """``cimsim.load_config`` of a TOML file on the ideal preset: g from 0 to 100 µS, every effect off unless
    ``device_table`` sets it."""
    path = tmp_path / "chip.toml"
    path.write_text(f"base = \"ideal\"\n[device]\ng_min_us = 0.0\ng_max_us = {G_MAX_US}\n{device_table}\n{rest}", encoding="utf-8")
    return cimsim.load_config(path)


def int_weights(rng, k, n):
    """Integer weights with max|W| = 127, so that 8-bit quantisation keeps them exactly (s_w = 1)."""
    w = rng.integers(-127, 128, (k, n)).astype(float)
    w[0, 0] = 127.0
    return w


# One slice (7-bit cells hold the 7-bit magnitudes), one 8-bit input cycle, G+ and G− subtracted
# before one conversion, a 24-bit ADC stepping one level per LSB: a reading is Σ_k x_k·W_k exactly.
ONE_CYCLE = """
[array]
bits_per_cell = 7
rows = 128
[dac]
bits = 8
[adc]
bits = 24
[mapping]
weight_bits = 8
input_bits = 8
differential_sensing = "analog"
"""


def test_user_model_from_toml_sets_programming_noise(registry, tmp_path):
    # clipped at 0 only (program_clip = "zero"): cells at g_max keep their Gaussian error
    cfg = load(tmp_path, 'program_noise = "proportional"\nprogram_clip = "zero"')
    assert cfg.device.program_noise == "proportional"
    w = np.random.default_rng(1).standard_normal((256, 64))
    cells = cimsim.AnalogMatrix(w, cfg, seed=3).cells
    error = cells.g_prog_us - cells.g_target_us
    levels = np.unique(cells.g_target_us)
    assert levels.size == 4  # 2-bit cells: 0, g_max/3, 2·g_max/3, g_max
    # σ = a·0 = 0: cells programmed to 0 µS land exactly there (a constant σ would move them).
    np.testing.assert_array_equal(error[cells.g_target_us == 0.0], 0.0)
    for g in levels[1:]:
        e = error[cells.g_target_us == g]
        sigma = PROGRAM_A * g  # the user's formula; clipping at 0 µS is 6 σ or more away
        # SE of a mean σ/sqrt(n); of a Gaussian sample's standard deviation σ/sqrt(2(n−1)).
        assert abs(e.mean()) <= Z * sigma / math.sqrt(e.size), g
        assert abs(e.std(ddof=1) - sigma) <= Z * sigma / math.sqrt(2 * (e.size - 1)), (g, e.std(ddof=1), sigma)


def test_user_model_from_toml_sets_drift(registry, tmp_path):
    cfg = load(tmp_path, 'drift_nu = "proportional"', ONE_CYCLE)
    w = int_weights(np.random.default_rng(2), 128, 4)
    m = cimsim.AnalogMatrix(w, cfg, seed=4)
    # No spread: each ν is the user's mean exactly.
    np.testing.assert_allclose(m.cells.nu, DRIFT_C * m.cells.g_target_us / G_MAX_US, rtol=1e-12, atol=0)
    # One input on the row holding W = 127 (G+ = g_max, ν = c): after t the reading is 255·127·(t/t0)^−c,
    # rounded by the ADC to a whole level (±0.5).
    t_s, t0_s = 86400.0, cfg.device.drift_t0_s
    m.drift_to(t_s)
    x = np.zeros((1, 128))
    x[0, 0] = 255.0
    assert abs(m.matmul(x)[0, 0] - 255.0 * 127.0 * (t_s / t0_s) ** -DRIFT_C) <= 0.5 + 1e-9


def test_user_model_from_toml_sets_read_noise(registry, tmp_path):
    cfg = load(tmp_path, 'read_noise = "proportional"', ONE_CYCLE)
    rng = np.random.default_rng(5)
    w = int_weights(rng, 128, 4)
    x = rng.integers(0, 256, 128).astype(float)
    x[0] = 255.0  # s_x = 1: codes are the inputs
    m = cimsim.AnalogMatrix(w, cfg, seed=6)
    reps = 4000
    residual = m.matmul(np.tile(x, (reps, 1))) - x @ w
    # In level units a cell holding |W| levels has σ = r·|W| (G = |W|·g_max/127, level = g_max/127),
    # its partner cell holds 0 µS and adds none, so a column reads with variance r²·Σ x_k²·W_k²; the
    # ADC's rounding to whole levels adds 1/12 (Sheppard; σ is far above one level here).
    predicted = READ_R**2 * (x**2) @ (w**2) + 1.0 / 12.0
    # A constant σ (r·g_max for both cells of every pair) would give 2·127²·r²·Σ x_k², about six times more.
    assert np.all(np.abs(residual.mean(axis=0)) <= Z * np.sqrt(predicted / reps))
    # SE of a Gaussian sample variance σ²·sqrt(2/(n−1)).
    np.testing.assert_array_less(np.abs(residual.var(axis=0, ddof=1) - predicted),
                                 Z * predicted * math.sqrt(2 / (reps - 1)))


def test_unknown_model_name_is_refused_naming_field_value_and_models(registry, tmp_path):
    with pytest.raises(cimsim.ConfigError) as error:
        load(tmp_path, 'read_noise = "proportionall"')
    for part in ("device.read_noise", "'proportionall'", "'pcm_nandakumar2019'", "'proportional'",
                 "cimsim.register_device_model"):
        assert part in str(error.value), str(error.value)
    with pytest.raises(cimsim.ConfigError, match=r"device\.drift_nu: got 'pcm'"):
        cimsim.ChipConfig().override({"device.drift_nu": "pcm"})


def test_a_named_drift_model_sets_its_own_spread(registry):
    with pytest.raises(cimsim.ConfigError, match=r"device\.drift_nu_std: got 0\.01.*'proportional'"):
        cimsim.ChipConfig().override({"device.drift_nu": "proportional", "device.drift_nu_std": 0.01})


def test_duplicate_registration_is_refused(registry):
    for name in ("proportional", PCM_NANDAKUMAR2019):
        with pytest.raises(cimsim.ConfigError) as error:
            cimsim.register_device_model(name, Proportional())
        message = str(error.value)
        assert f"name = {name!r} is already registered" in message, message
        assert "(registered: 'pcm_nandakumar2019'," in message and "'proportional'" in message, message


@pytest.mark.parametrize(
    "name, model, expected",
    [
        pytest.param("", Proportional(), "name = '' is not allowed; give a string of 1 to 64 letters", id="empty"),
        pytest.param("2nd", Proportional(), "name = '2nd' is not allowed", id="digit-first"),
        pytest.param("my model", Proportional(), "name = 'my model' is not allowed", id="space"),
        pytest.param(7, Proportional(), "name = 7 is not allowed", id="not-a-string"),
        pytest.param("x" * 65, Proportional(), "is not allowed; give a string of 1 to 64", id="too-long"),
        pytest.param("mine", Proportional, "the class Proportional; give an instance", id="class"),
        pytest.param("mine", object(), "an instance of a subclass of cimsim.physics.device_models.DeviceModel",
                     id="not-a-model"),
    ],
)
def test_bad_names_and_objects_are_refused(registry, name, model, expected):
    before = cimsim.list_device_models()
    with pytest.raises(cimsim.ConfigError) as error:
        cimsim.register_device_model(name, model)
    assert expected in str(error.value), str(error.value)
    assert cimsim.list_device_models() == before


def test_a_model_claiming_constant_read_noise_is_refused(registry):
    class Uniform(Proportional):
        read_noise_is_constant = True

    with pytest.raises(cimsim.ConfigError, match="read_noise_is_constant = True; allowed: False"):
        cimsim.register_device_model("uniform", Uniform())


def test_list_device_models_lists_the_built_in_one_and_added_ones(registry):
    names = cimsim.list_device_models()
    assert names[0] == PCM_NANDAKUMAR2019 and names[-1] == "proportional"  # built-in first, then in order added
    unregister_device_model("proportional")
    assert cimsim.list_device_models() == names[:-1]
    with pytest.raises(cimsim.ConfigError, match="name = 'pcm_nandakumar2019' is not allowed.*built-in models stay"):
        unregister_device_model(PCM_NANDAKUMAR2019)


def test_a_configuration_whose_model_was_unregistered_is_refused_at_use(registry):
    cfg = cimsim.ChipConfig().override({"device.program_noise": "proportional"})
    unregister_device_model("proportional")
    with pytest.raises(cimsim.ConfigError, match="device model 'proportional' is not registered; registered: "
                                                 "'pcm_nandakumar2019'"):
        cimsim.AnalogMatrix(np.ones((4, 4)), cfg, seed=0)


def test_a_model_returning_the_wrong_shape_is_a_shape_error(registry):
    class OneSigma(Proportional):
        def program_noise_sigma_us(self, g_target_us, device):
            return np.array([0.1])

    cimsim.register_device_model("one_sigma", OneSigma())
    dev = cimsim.ChipConfig().override({"device.program_noise": "one_sigma"}).device
    with pytest.raises(cimsim.ShapeError, match=r"OneSigma\.program_noise_sigma_us returned an array of shape \(1,\)"
                                                r".*one per cell \(shape \(3,\)\)"):
        device.program(np.ones(3), dev, np.random.default_rng(0))
