"""The registry of ADC energy models: user models chosen by name from TOML, refusals, built-ins.

Expected energies and areas are written from each model's formula times the conversions (or
ADCs) counted by the same run priced at 1 pJ per conversion and 1 µm² per ADC with the ``table``
model: counting does not depend on the ADC model, so the reference run's ADC energy *is* its
conversion count. Tolerance ``ROUNDING``: the figures are sums and ratios of a few hundred
float terms, so they agree to rounding only.
"""

import pytest

import cimsim
from cimsim.costs.adc_energy import ADC_ENERGY_MODELS, adc_area_um2, adc_energy_pj, unregister_adc_energy_model

ROUNDING = 1e-12
BUILT_IN = ["table", "walden", "survey", "cimloop"]


class QuadraticAdc:
    """A user model: E = 0.05 pJ · bits² · node / 32 nm, A = 250 µm² · bits."""

    description = "test model: 0.05 pJ × bits² × node/32 nm per conversion; 250 µm² × bits"
    fields = ("adc.bits", "chip.node_nm")

    def energy_pj(self, cfg):
        return 0.05 * cfg.adc.bits**2 * cfg.chip.node_nm / 32.0

    def area_um2(self, cfg):
        return 250.0 * cfg.adc.bits


MY_ADC_TOML = """
base = "ideal"  # cimsim.ChipConfig()'s defaults but for the two fields set below

[device]
g_min_us = 1.0

[energy]
adc_model = "my_adc"

[adc]
bits = 6

[chip]
node_nm = 22.0
"""
MY_ADC_PJ = 0.05 * 6**2 * 22.0 / 32.0  # 1.2375 pJ per conversion at 6 bits, 22 nm
MY_ADC_UM2 = 250.0 * 6  # 1500 µm² per ADC


@pytest.fixture(autouse=True)
def registered_before():
    """The names registered when the test starts; every test leaves the registry as it found it."""
    before = cimsim.list_adc_energy_models()
    yield before
    for name in cimsim.list_adc_energy_models():
        if name not in before:
            unregister_adc_energy_model(name)
    assert cimsim.list_adc_energy_models() == before


@pytest.fixture
def my_adc_cfg(tmp_path):
    cimsim.register_adc_energy_model("my_adc", QuadraticAdc())
    path = tmp_path / "my_adc.toml"
    path.write_text(MY_ADC_TOML, encoding="utf-8")
    return cimsim.load_config(path)


def unit_priced(cfg):
    """``cfg`` with the table model at 1 pJ per conversion at its own width and 1 µm² per ADC: ADC energy = conversions."""
    return cfg.override({"energy.adc_model": "table", "energy.adc_pj_per_conversion": 1.0,
                         "energy.adc_reference_bits": cfg.adc.bits, "area.adc_um2": 1.0})


# --------------------------------------------------------------------------- a user model from TOML


def test_a_model_registered_by_the_user_is_selected_from_a_toml_file(my_adc_cfg):
    assert my_adc_cfg.energy.adc_model == "my_adc"
    assert adc_energy_pj(my_adc_cfg) == pytest.approx(1.2375, rel=ROUNDING)
    assert adc_area_um2(my_adc_cfg) == 1500.0


def test_a_user_model_sets_the_adc_share_and_area_of_peak(my_adc_cfg):
    reference = cimsim.peak(unit_priced(my_adc_cfg))
    share_at_1_pj = reference.energy_share["adc"]  # = N / (N + R): N conversions, R pJ of everything else
    rest_pj_per_conversion = (1.0 - share_at_1_pj) / share_at_1_pj  # R / N
    without_adcs = cimsim.peak(unit_priced(my_adc_cfg).override({"area.adc_um2": 0.0}))
    adcs = (reference.area_mm2 - without_adcs.area_mm2) * 1e6  # 1 µm² each

    figures = cimsim.peak(my_adc_cfg)

    expected_share = MY_ADC_PJ / (MY_ADC_PJ + rest_pj_per_conversion)
    assert figures.energy_share["adc"] == pytest.approx(expected_share, rel=ROUNDING)
    assert figures.energy_share["adc"] != pytest.approx(share_at_1_pj, rel=1e-3)  # the model moved it
    assert figures.area_mm2 == pytest.approx(without_adcs.area_mm2 + adcs * MY_ADC_UM2 * 1e-6, rel=ROUNDING)


def test_a_user_model_prices_every_conversion_of_a_simulated_workload(my_adc_cfg):
    workload = cimsim.Workload(
        [
            cimsim.Gemm("fc1", m=4, k=300, n=100, constant=True),
            cimsim.NonGemm("act", "activation", 400, inputs=("fc1",)),
            cimsim.Gemm("fc2", m=4, k=100, n=10, inputs=("act",), constant=True),
        ],
        name="two-layer",
    )
    counted = cimsim.simulate(workload, unit_priced(my_adc_cfg), batch=3)
    conversions = {row.name: row.energy_by_component.get("adc", 0.0) for row in counted.layers}
    assert conversions["fc1"] > 0 and conversions["fc2"] > 0 and conversions["act"] == 0

    report = cimsim.simulate(workload, my_adc_cfg, batch=3)

    assert report.breakdown["adc"] == pytest.approx(MY_ADC_PJ * sum(conversions.values()), rel=ROUNDING)
    for row in report.layers:
        adc_pj = row.energy_by_component.get("adc", 0.0)
        assert adc_pj == pytest.approx(MY_ADC_PJ * conversions[row.name], rel=ROUNDING), row.name
    adcs = counted.area_breakdown_um2["adc"]  # 1 µm² each
    assert report.area_breakdown_um2["adc"] == pytest.approx(MY_ADC_UM2 * adcs, rel=ROUNDING)
    assert report.breakdown["dac"] == counted.breakdown["dac"]  # the rest of the chip is priced as before


# --------------------------------------------------------------------------- refusals


def test_an_unknown_model_name_is_refused_when_the_config_is_built(tmp_path):
    cimsim.register_adc_energy_model("my_adc", QuadraticAdc())
    path = tmp_path / "bad.toml"
    path.write_text('[energy]\nadc_model = "no_such_adc"\n\n[adc]\nbits = 99\n', encoding="utf-8")
    with pytest.raises(cimsim.ConfigError) as error:
        cimsim.load_config(path)
    message = str(error.value)
    line = next(line for line in message.splitlines() if "energy.adc_model" in line)
    assert "got 'no_such_adc'" in line
    assert all(repr(name) in line for name in [*BUILT_IN, "my_adc"])
    assert "adc.bits: got 99" in message  # errors are collected per field: the bad width is reported too
    with pytest.raises(cimsim.ConfigError, match=r"^energy\.adc_model: got 'walden2', allowed: a registered ADC"):
        cimsim.ChipConfig().override({"energy.adc_model": "walden2"})


def test_a_duplicate_registration_is_refused_and_keeps_the_first_model(my_adc_cfg, registered_before):
    with pytest.raises(cimsim.ConfigError, match=r"register_adc_energy_model: name: got 'my_adc', allowed: a name not"):
        cimsim.register_adc_energy_model("my_adc", QuadraticAdc())
    with pytest.raises(cimsim.ConfigError, match=r"name: got 'table'"):
        cimsim.register_adc_energy_model("table", QuadraticAdc())
    assert cimsim.list_adc_energy_models() == [*registered_before, "my_adc"]
    assert adc_energy_pj(my_adc_cfg) == pytest.approx(MY_ADC_PJ, rel=ROUNDING)
    assert adc_energy_pj(cimsim.ChipConfig()) == 1.5625  # 'table' is still ISAAC's value (ISAAC-51)


class NoArea:
    description = "no area"
    fields = ()

    def energy_pj(self, cfg):
        return 1.0


def with_attributes(**attributes):
    model = QuadraticAdc()
    model.__dict__.update(attributes)
    return model


@pytest.mark.parametrize(
    "name, model, words",
    [
        ("", QuadraticAdc(), "name: got ''"),
        ("2adc", QuadraticAdc(), "name: got '2adc'"),
        ("my adc", QuadraticAdc(), "name: got 'my adc'"),
        (None, QuadraticAdc(), "name: got None"),
        ("my_adc", QuadraticAdc, "register an instance, QuadraticAdc()"),
        ("my_adc", NoArea(), "no method area_um2"),
        ("my_adc", with_attributes(description="two\nlines"), "description = 'two\\nlines' is not one line"),
        ("my_adc", with_attributes(description=""), "description = '' is not one line"),
        ("my_adc", with_attributes(fields=["adc.bits"]), "fields = ['adc.bits'] is not a tuple of strings"),
        ("my_adc", with_attributes(fields=("adc.bitz", "adc")), "fields ['adc.bitz', 'adc'] are not fields"),
    ],
)
def test_a_malformed_registration_is_refused_naming_what_is_wrong(name, model, words, registered_before):
    with pytest.raises(cimsim.ConfigError, match="^register_adc_energy_model: ") as error:
        cimsim.register_adc_energy_model(name, model)
    assert words in str(error.value)
    assert cimsim.list_adc_energy_models() == registered_before


def test_a_model_that_returns_a_negative_or_non_finite_number_is_refused_when_pricing():
    broken = with_attributes(energy_pj=lambda cfg: -1.0, area_um2=lambda cfg: float("nan"))
    cimsim.register_adc_energy_model("negative", broken)
    cfg = cimsim.ChipConfig().override({"energy.adc_model": "negative"})
    refusal = r"^energy\.adc_model = 'negative': the model's "
    with pytest.raises(cimsim.ConfigError, match=refusal + r"energy per conversion is -1\.0, allowed: a finite"):
        adc_energy_pj(cfg)
    with pytest.raises(cimsim.ConfigError, match=refusal + "area is nan"):
        adc_area_um2(cfg)


def test_a_model_unregistered_after_the_config_was_built_is_a_config_error(my_adc_cfg):
    unregister_adc_energy_model("my_adc")
    with pytest.raises(cimsim.ConfigError, match=r"^energy\.adc_model: got 'my_adc', allowed: a registered ADC"):
        adc_energy_pj(my_adc_cfg)


@pytest.mark.parametrize("name", ["table", "never_registered"])
def test_built_in_and_unknown_models_cannot_be_unregistered(name, registered_before):
    with pytest.raises(cimsim.ConfigError, match=f"^unregister_adc_energy_model: name: got '{name}'"):
        unregister_adc_energy_model(name)
    assert cimsim.list_adc_energy_models() == registered_before


# --------------------------------------------------------------------------- the built-in models


def test_the_four_built_in_models_are_listed_first_then_the_users_in_registration_order():
    cimsim.register_adc_energy_model("my_adc", QuadraticAdc())
    cimsim.register_adc_energy_model("another-adc.v2", QuadraticAdc())
    names = cimsim.list_adc_energy_models()
    assert names[:4] == BUILT_IN
    assert names[-2:] == ["my_adc", "another-adc.v2"]


# Each candidate field moved from the ISAAC preset's value (8 b, 1.28 GS/s, 32 nm, 1.5625 pJ, 6.10 fJ/step, 1200 µm²)
MOVES = {
    "adc.bits": 7,
    "adc.sample_rate_gsps": 1.0,
    "chip.node_nm": 22.0,
    "energy.adc_pj_per_conversion": 2.0,
    "energy.adc_walden_fom_fj_per_step": 10.0,
    "area.adc_um2": 900.0,
}


@pytest.mark.parametrize("model", BUILT_IN)
@pytest.mark.parametrize("field", MOVES)
def test_a_built_in_model_lists_exactly_the_fields_that_change_its_energy_or_area(model, field):
    cfg = cimsim.load_preset("isaac").override({"energy.adc_model": model})
    moved = cfg.override({field: MOVES[field]})
    changed = (adc_energy_pj(moved), adc_area_um2(moved)) != (adc_energy_pj(cfg), adc_area_um2(cfg))
    assert changed == (field in ADC_ENERGY_MODELS[model].fields)

