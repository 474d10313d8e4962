"""The PCM device model against aihwkit's ``PCMLikeNoiseModel``, formula by formula.

The expected values are transcribed from aihwkit's source (repository IBM/aihwkit):

* ``src/aihwkit/inference/noise/pcm.py``, ``PCMLikeNoiseModel``:
  - ``apply_programming_noise_to_conductance``: σ_prog = (0.26348 + 1.9650·x − 1.1731·x²)·g_max/25
    with x = g_target/g_max; ``g_prog = g_target + σ_prog·randn``, ``clamp_(min=0.0)``;
  - ``generate_drift_coefficients``: x = clamp(|g_target/g_max|, min=1e-7) (``_ZERO_CLIP``),
    μ_ν = clamp(−0.0155·ln x + 0.0244, 0.049, 0.1), σ_ν = clamp(−0.0125·ln x − 0.0059, 0.008, 0.045),
    ν = |μ_ν + σ_ν·randn|;
  - ``apply_drift_noise_to_conductance(g_prog, ν, t_inference)``: ``t = t_inference + t_0``;
    ``g_drift = g_prog·(t/t_0)^(−ν)`` if t > t_0; ``q_s = clamp(0.0088/clamp((|g_prog|/g_max)^0.65,
    min=1e-3), max=0.2)``; ``sig_noise = q_s·sqrt(ln((t + t_read)/(2·t_read)))``;
    ``g_final = g_drift + |g_drift|·sig_noise·randn``, ``clamp(min=0.0)``; called once per
    evaluation time (the noise is drawn once per t_inference, not per read).
* ``src/aihwkit/inference/compensation/drift.py``, ``GlobalDriftCompensation``: the probe is
  ``eye(in_size)``, the readout ``clamp(mean |output|, min=0.0001)``; ``BaseDriftCompensation.apply``
  scales the outputs by reference readout / present readout.

Nothing expected is computed by cimsim: only the random state it drew (programmed conductances,
exponents) is pushed through the test's own formulas. Tolerances are 5 standard errors of the
estimate (fixed seeds, so not flaky); each says where its standard error comes from. ``pytest -s``
prints the table of every comparison.
"""

import math

import numpy as np
import pytest

import cimsim
from cimsim.physics import GlobalDriftCompensation, device

Z = 5.0
CELLS_PER_LEVEL = 200_000
LEVELS = (0.1, 0.25, 0.5, 0.75, 1.0)  # x = g_target / g_max
TIMES_S = (20.0, 3600.0, 86400.0)  # aihwkit's t_inference: 20 s, 1 h, 1 day after the first read
T_READ_S = 250e-9
TABLE: list[tuple] = []


# ---- aihwkit's formulas, transcribed ----------------------------------------------------------


def aihwkit_sigma_prog_us(g_target_us, g_max_us):
    x = g_target_us / g_max_us
    return (0.26348 + 1.9650 * x - 1.1731 * x**2) * g_max_us / 25.0


def aihwkit_nu_mean_std(g_target_us, g_max_us):
    log_x = math.log(max(abs(g_target_us / g_max_us), 1e-7))
    return min(max(-0.0155 * log_x + 0.0244, 0.049), 0.1), min(max(-0.0125 * log_x - 0.0059, 0.008), 0.045)


def aihwkit_q_s(g_prog_us, g_max_us):
    return np.minimum(0.0088 / np.maximum((np.abs(g_prog_us) / g_max_us) ** 0.65, 1e-3), 0.2)


def aihwkit_accumulated(t_inference_s, t0_s):
    t = t_inference_s + t0_s
    return math.sqrt(math.log((t + T_READ_S) / (2 * T_READ_S)))


def norm_cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def folded_normal_mgf(mu, sigma, a):
    """E[e^{−a|X|}], X ~ N(μ, σ²): e^{−aμ+a²σ²/2}Φ(μ/σ − aσ) + e^{aμ+a²σ²/2}Φ(−μ/σ − aσ)."""
    s2 = (a * sigma) ** 2 / 2
    return (math.exp(-a * mu + s2) * norm_cdf(mu / sigma - a * sigma)
            + math.exp(a * mu + s2) * norm_cdf(-mu / sigma - a * sigma))


def std_standard_error(sample):
    """SE of a sample standard deviation by the delta method: s·sqrt((κ − 1)/(4n)), κ the sample kurtosis."""
    centred = sample - sample.mean()
    var = np.mean(centred**2)
    kurtosis = np.mean(centred**4) / var**2
    return math.sqrt(var) * math.sqrt((kurtosis - 1) / (4 * sample.size))


def check(what, sample, mean, std, mean_se, std_se):
    """Record a row of the table and assert both moments within Z standard errors."""
    TABLE.append((what, sample.mean(), mean, sample.std(ddof=1), std))
    assert abs(sample.mean() - mean) <= Z * mean_se, (what, sample.mean(), mean)
    assert abs(sample.std(ddof=1) - std) <= Z * std_se, (what, sample.std(ddof=1), std)


@pytest.fixture(scope="module")
def pcm():
    """The pcm preset's device section and one programming of CELLS_PER_LEVEL cells per level."""
    dev = cimsim.load_preset("pcm").device
    targets = np.repeat(np.array(LEVELS) * dev.g_max_us, CELLS_PER_LEVEL)
    cells = device.program(targets, dev, np.random.default_rng(2026))
    yield dev, cells
    if TABLE:
        print("\nquantity                                  cimsim mean  aihwkit mean   cimsim σ  aihwkit σ")
        for what, m, m_ref, s, s_ref in TABLE:
            print(f"{what:40s} {m:12.5f} {m_ref:12.5f} {s:10.5f} {s_ref:10.5f}")


# ---- statistics at 200,000 cells per level ------------------------------------------------------


def test_programmed_conductances_match_aihwkit(pcm):
    dev, cells = pcm
    for x in LEVELS:
        g = x * dev.g_max_us
        sample = cells.g_prog_us[cells.g_target_us == g]
        sigma = aihwkit_sigma_prog_us(g, dev.g_max_us)
        # the clamp at 0 is g/σ >= 5.5 σ away: its effect on the moments is below 1e-7 σ
        # SE of a mean σ/sqrt(n); of a Gaussian sample's standard deviation σ/sqrt(2(n−1)).
        check(f"G_prog (µS), x = {x}", sample, g, sigma, sigma / math.sqrt(sample.size),
              sigma / math.sqrt(2 * (sample.size - 1)))


@pytest.mark.parametrize("t_s", TIMES_S)
def test_drifted_conductances_match_aihwkit(pcm, t_s):
    """G(t) = G_prog·((t + t0)/t0)^−ν, ν = |N(μ_ν, σ_ν²)| independent of G_prog (both from the target):
    E[G] = g·M(L), E[G²] = (g² + σ_prog²)·M(2L), M(a) = E[e^{−a|X|}] (folded normal), L = ln((t + t0)/t0)."""
    dev, cells = pcm
    g_t = device.conductance_at(cells, dev, t_s)
    L = math.log((t_s + dev.drift_t0_s) / dev.drift_t0_s)
    for x in LEVELS:
        g = x * dev.g_max_us
        sample = g_t[cells.g_target_us == g]
        mu, sigma_nu = aihwkit_nu_mean_std(g, dev.g_max_us)
        mean = g * folded_normal_mgf(mu, sigma_nu, L)
        second = (g**2 + aihwkit_sigma_prog_us(g, dev.g_max_us) ** 2) * folded_normal_mgf(mu, sigma_nu, 2 * L)
        std = math.sqrt(second - mean**2)
        check(f"G({t_s:g} s) (µS), x = {x}", sample, mean, std, std / math.sqrt(sample.size),
              std_standard_error(sample))


@pytest.mark.parametrize("t_s", TIMES_S)
def test_read_noise_drawn_per_evaluation_matches_aihwkit(pcm, t_s):
    """ε = G_eval − G(t) = |G(t)|·Q_s(G_prog)·sqrt(ln((t + t0 + t_r)/(2 t_r)))·ξ: divided by that σ
    (the test's own formula, per cell) it is N(0, 1); the clamp at 0 is >= 4 σ away for x >= 0.1."""
    dev, cells = pcm
    g_t = device.conductance_at(cells, dev, t_s)
    g_eval = device.with_read_noise(cells, g_t, dev, t_s, np.random.default_rng([7, int(t_s)]))
    sigma = np.abs(g_t) * aihwkit_q_s(cells.g_prog_us, dev.g_max_us) * aihwkit_accumulated(t_s, dev.drift_t0_s)
    for x in LEVELS:
        at = cells.g_target_us == x * dev.g_max_us
        z = (g_eval[at] - g_t[at]) / sigma[at]
        n = z.size
        check(f"read noise / σ_aihwkit, {t_s:g} s, x = {x}", z, 0.0, 1.0, 1 / math.sqrt(n), 1 / math.sqrt(2 * (n - 1)))
        relative = (g_eval[at] - g_t[at]) / g_t[at]
        TABLE.append((f"  read noise / G(t), {t_s:g} s, x = {x}", relative.mean(), 0.0, relative.std(ddof=1),
                      float(np.sqrt(np.mean((sigma[at] / g_t[at]) ** 2)))))


def test_read_noise_q_s_comes_from_the_programmed_conductance():
    dev = cimsim.load_preset("pcm").device
    target, programmed = np.array([25.0, 25.0]), np.array([25.0, 5.0])
    cells = device.ProgrammedCells(g_target_us=target, g_prog_us=programmed, nu=np.zeros(2),
                                   stuck=np.zeros(2, np.int8))
    g_now = np.array([20.0, 20.0])
    expected = g_now * aihwkit_q_s(programmed, dev.g_max_us) * aihwkit_accumulated(3600.0, dev.drift_t0_s)
    np.testing.assert_allclose(device.read_noise_sigma_us(cells, g_now, dev, 3600.0), expected, rtol=1e-12)
    assert expected[1] > 2 * expected[0]  # (25/5)^0.65 = 2.85: the target would have given equal σ


@pytest.mark.parametrize("clock, fit_time", [
    ("after_t0", lambda t, t0: t + t0),  # aihwkit: t = t_inference + t_0
    ("since_programming", lambda t, t0: max(t, t0)),
])
def test_drift_clock(clock, fit_time):
    dev = cimsim.load_preset("pcm").override({"device.drift_clock": clock}).device
    nu = np.array([0.0, 0.05, 0.1])
    cells = device.ProgrammedCells(g_target_us=np.full(3, 10.0), g_prog_us=np.full(3, 10.0), nu=nu,
                                   stuck=np.zeros(3, np.int8))
    for t in (0.0, 10.0, 20.0, 3600.0):
        expected = 10.0 * (fit_time(t, dev.drift_t0_s) / dev.drift_t0_s) ** -nu
        np.testing.assert_allclose(device.conductance_at(cells, dev, t), expected, rtol=1e-12)


def test_pcm_preset_follows_aihwkit_and_defaults_are_physical():
    pcm = cimsim.load_preset("pcm").device
    assert (pcm.drift_clock, pcm.read_noise_draw, pcm.program_clip) == ("after_t0", "per_evaluation", "zero")
    ideal = cimsim.load_preset("ideal").device
    assert (ideal.drift_clock, ideal.read_noise_draw, ideal.program_clip) == ("since_programming", "per_read", "range")
    with pytest.raises(cimsim.ConfigError, match="device.read_noise_draw"):
        cimsim.load_preset("ideal").override({"device.read_noise_draw": "sometimes"})


# ---- clipping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("clip", ["range", "zero"])
def test_programmed_conductance_clipping(clip):
    """σ = 5 µS at the rails of [20, 100] µS: half of the cells targeted at a rail overshoot it.
    'range' pins them to the rail; 'zero' keeps them (0 µS is 4σ below g_min: P = 3e-5, checked)."""
    dev = cimsim.load_preset("ideal").override({
        "device.g_min_us": 20.0, "device.g_max_us": 100.0, "device.program_noise": 0.05,
        "device.program_clip": clip}).device
    n = CELLS_PER_LEVEL
    targets = np.repeat([20.0, 60.0, 100.0], n)
    g = device.program(targets, dev, np.random.default_rng(11)).g_prog_us
    low, mid, high = g[:n], g[n : 2 * n], g[2 * n :]
    half_se = math.sqrt(0.25 / n)  # binomial SE of a fraction 1/2
    assert g.min() >= 0.0
    if clip == "range":
        assert g.min() >= 20.0 and g.max() <= 100.0
        assert abs(np.mean(low == 20.0) - 0.5) <= Z * half_se
        assert abs(np.mean(high == 100.0) - 0.5) <= Z * half_se
        # E[max(g_min, g_min + σξ)] = g_min + σ/sqrt(2π): the half-Gaussian's mean
        assert abs(low.mean() - (20.0 + 5.0 / math.sqrt(2 * math.pi))) <= Z * 5.0 / math.sqrt(n)
    else:
        assert abs(np.mean(low < 20.0) - 0.5) <= Z * half_se
        assert abs(np.mean(high > 100.0) - 0.5) <= Z * half_se
        assert abs(high.mean() - 100.0) <= Z * 5.0 / math.sqrt(n)
    # 40 µS = 8σ from either rail: the middle level is never clipped
    assert abs(mid.mean() - 60.0) <= Z * 5.0 / math.sqrt(n)
    assert abs(mid.std(ddof=1) - 5.0) <= Z * 5.0 / math.sqrt(2 * (n - 1))


# ---- the crossbar: read noise once per evaluation, drift compensation ---------------------------


def quiet_pcm(extra=None):
    """The pcm preset with a 24-bit ADC over the largest current and no programming noise."""
    return cimsim.load_preset("pcm").override({
        "adc.range": "max", "adc.bits": 24, "meta.allow_unphysical": True, "array.rows": 128, "energy.adc_model": "table",
        "device.program_noise": 0.0, **(extra or {})})


def test_read_noise_per_evaluation_is_kept_for_every_read_and_has_the_per_read_variance():
    """Per evaluation: reads between two drift_to agree exactly (no ADC noise), a new time draws anew,
    the same time draws the same. The spread over evaluations equals the spread over reads of the
    per-read option: both are N(0, σ_k²) per cell (program noise off, so no cell is near the clamp)."""
    rng = np.random.default_rng(3)
    w = rng.integers(1, 128, (128, 32)).astype(float)
    x = rng.integers(1, 128, (1, 128)).astype(float)
    t, reps = 3600.0, 300
    m = cimsim.AnalogMatrix(w, quiet_pcm(), seed=4)
    m.drift_to(t)
    first = m.matmul(x)
    np.testing.assert_array_equal(m.matmul(x), first)
    m.drift_to(t + 1e-3)
    assert not np.array_equal(m.matmul(x), first)
    m.drift_to(t)
    np.testing.assert_array_equal(m.matmul(x), first)
    # ν·Δt/t < 1e-7 over the 0.3 s of evaluation times: the drift itself does not move
    per_evaluation = []
    for i in range(reps):
        m.drift_to(t + 1e-3 * i)
        per_evaluation.append(m.matmul(x)[0])
    per_read_matrix = cimsim.AnalogMatrix(w, quiet_pcm({"device.read_noise_draw": "per_read"}), seed=4)
    per_read_matrix.drift_to(t)
    per_read = per_read_matrix.matmul(np.repeat(x, reps, axis=0))
    v_eval = np.var(per_evaluation, axis=0, ddof=1).mean()
    v_read = per_read.var(axis=0, ddof=1).mean()
    # pooled over 32 columns with reps−1 dof each: SE of each variance V·sqrt(2/(32(reps−1)))
    se = math.sqrt(2 / (32 * (reps - 1))) * math.hypot(v_eval, v_read)
    assert v_read > 0 and abs(v_eval - v_read) <= Z * se, (v_eval, v_read)


def test_global_drift_compensation_restores_the_programmed_mean():
    """All weights 1 (every G+ at g_max, every G− at 0 µS), no read noise: without compensation the mean
    output at 1 day is the programmed mean times E[((t + t0)/t0)^−ν] (ν at x = 1: μ 0.049, σ 0.008);
    with it, the programmed mean within the same sampling error."""
    k, n, t = 256, 128, 86400.0
    cfg = quiet_pcm({"device.read_noise": 0.0})
    x = np.ones((4, k))
    plain = cimsim.AnalogMatrix(np.ones((k, n)), cfg, seed=8)
    compensated = cimsim.AnalogMatrix(np.ones((k, n)), cfg, seed=8, drift_compensation=GlobalDriftCompensation())
    programmed = plain.matmul(x).mean()
    assert compensated.matmul(x).mean() == pytest.approx(programmed, rel=1e-12)  # α = 1 at programming
    plain.drift_to(t)
    compensated.drift_to(t)
    L = math.log((t + cfg.device.drift_t0_s) / cfg.device.drift_t0_s)
    factor = folded_normal_mgf(0.049, 0.008, L)
    # SE of the mean drift factor over k·n cells: sd(e^{−Lν}) ≤ L·σ_ν·1 over sqrt(k·n); ADC rounding
    # adds at most 0.5 level of k·127·255 per conversion
    se = L * 0.008 / math.sqrt(k * n) + 0.5 / (k * 127 * 255)
    ratio_plain = plain.matmul(x).mean() / programmed
    ratio_compensated = compensated.matmul(x).mean() / programmed
    TABLE.append(("mean output at 1 day / programmed, plain", ratio_plain, factor, 0.0, 0.0))
    TABLE.append(("  same, with global compensation", ratio_compensated, 1.0, 0.0, 0.0))
    assert abs(ratio_plain - factor) <= Z * se, (ratio_plain, factor)
    assert abs(ratio_compensated - 1.0) <= Z * se, ratio_compensated
    assert compensated.drift_gain == pytest.approx(1.0 / ratio_plain, rel=Z * se)


def test_drift_compensation_argument_is_checked():
    with pytest.raises(cimsim.ConfigError, match="drift_compensation"):
        cimsim.AnalogMatrix(np.ones((4, 4)), quiet_pcm(), drift_compensation="global")


def test_drift_compensation_turned_on_later_takes_its_reference_at_programming():
    """Turned on after drift_to(t), the compensation reads its probe at programming time, as one given
    at construction does: the same gain and the same outputs (same seed); turned off, gain 1."""
    k, n, t = 64, 16, 3600.0
    cfg = quiet_pcm()
    w = np.random.default_rng(3).normal(size=(k, n))
    x = np.random.default_rng(4).uniform(0.0, 1.0, (8, k))
    from_start = cimsim.AnalogMatrix(w, cfg, seed=5, drift_compensation=GlobalDriftCompensation())
    later = cimsim.AnalogMatrix(w, cfg, seed=5)
    from_start.drift_to(t)
    later.drift_to(t)
    later.set_drift_compensation(GlobalDriftCompensation())
    assert later.t_s == t and later.drift_gain == from_start.drift_gain > 1.0
    np.testing.assert_array_equal(later.matmul(x), from_start.matmul(x))
    later.set_drift_compensation(None)
    assert later.drift_gain == 1.0
    with pytest.raises(cimsim.ConfigError, match="drift_compensation"):
        later.set_drift_compensation("global")
