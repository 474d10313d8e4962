"""ADC kinds as objects (cimsim/physics/converters.py): registry, step per segment, timing, actions, pricing.

Stage times are written out from docs/energy.md ("Timing"), bit decisions from docs/physics.md
(the step of a segment, never finer than one level; decisions = ceil(log2(F / step + 1))).
"""

import numpy as np
import pytest

import cimsim
from cimsim import ConfigError
from cimsim.costs.energy import EnergyModel
from cimsim.costs.latency import read_timing
from cimsim.physics.converters import (
    ADC_KINDS,
    Adc,
    IntegratingAdc,
    SarAdc,
    adc_kind,
    conversion_plan,
    conversions,
)
from cimsim.physics.mapping import input_schedule

IDEAL = cimsim.load_preset("ideal")


def timing_config(kind: str, sensing: str = "digital") -> cimsim.ChipConfig:
    return IDEAL.override({
        "adc.kind": kind, "chip.clock_ghz": 1.25, "array.t_read_ns": 3.0, "adc.sample_rate_gsps": 0.5,
        "adc.columns_per_adc": 8, "adc.step_ns": 0.5, "mapping.differential_sensing": sensing,
    })


# 4 cycles of a 1-bit DAC (weights 1, 2, 4, 8), 2 per conversion: segments [0, 2) and [2, 4),
# each cycle sampled 1 and 2 times (3 samples per segment), of significance 1 and 4
PLAN = conversion_plan(2.0 ** np.arange(4), 2)


def test_kinds_are_chosen_by_name():
    assert set(ADC_KINDS) == {"sar", "integrating"}
    assert isinstance(adc_kind("sar"), SarAdc) and isinstance(adc_kind("integrating"), IntegratingAdc)
    assert Adc.for_config(IDEAL.override({"adc.kind": "integrating"})).kind is adc_kind("integrating")
    with pytest.raises(ConfigError, match=r"adc\.kind: got 'flash', allowed: 'sar', 'integrating'"):
        adc_kind("flash")


def test_the_plan_of_the_timing_tests():
    np.testing.assert_array_equal(PLAN.starts, [0, 2, 4])
    np.testing.assert_array_equal(PLAN.samples, [3.0, 3.0])
    np.testing.assert_array_equal(PLAN.significance, [1.0, 4.0])


@pytest.mark.parametrize("sensing, served", [("digital", 8), ("analog", 4)])  # an analog pair is one conversion
def test_sar_stages_are_pipelined_clock_pulse_conversions_and_add(sensing, served):
    cfg = timing_config("sar", sensing)
    kind = adc_kind("sar")
    stages = kind.stage_times_ns(PLAN, np.array([3.0, 5.0]), cfg)
    clock_ns = 1 / 1.25
    expected = {"dac": clock_ns, "array": 2 * 3.0, "adc": served / 0.5, "shift_add": clock_ns}  # 2 cycles per segment
    assert stages == (expected, expected)  # the bit decisions do not change a SAR conversion's time
    timing = read_timing(cfg, PLAN, np.array([3.0, 5.0]))
    assert timing.pipelined and timing.vector_ns == pytest.approx(2 * max(expected.values()))
    assert kind.pipelined and kind.priced_per_conversion


@pytest.mark.parametrize("sensing, served", [("digital", 8), ("analog", 4)])
def test_integrating_stages_sample_then_convert_in_sequence(sensing, served):
    cfg = timing_config("integrating", sensing)
    kind = adc_kind("integrating")
    stages = kind.stage_times_ns(PLAN, np.array([3.0, 5.0]), cfg)
    # per conversion served: one step (0.5 ns) per sample, then one per bit decision plus one to reset
    assert stages == (
        {"sample": served * 3 * 0.5, "convert": served * (3 + 1) * 0.5},
        {"sample": served * 3 * 0.5, "convert": served * (5 + 1) * 0.5},
    )
    timing = read_timing(cfg, PLAN, np.array([3.0, 5.0]))
    assert not timing.pipelined and timing.fill_ns == 0.0
    assert timing.vector_ns == pytest.approx(served * 0.5 * (3 + 4 + 3 + 6))
    assert not kind.pipelined and not kind.priced_per_conversion


def test_step_ratios_sar_full_range_integrating_in_units_of_the_result():
    np.testing.assert_array_equal(adc_kind("sar").step_ratio(PLAN), [1.0, 1.0])
    np.testing.assert_array_equal(adc_kind("integrating").step_ratio(PLAN), [4.0, 1.0])  # max significance / own


def test_actions_a_kind_adds_to_a_read():
    assert adc_kind("sar").read_actions(120.0, 7.5) == []
    assert adc_kind("integrating").read_actions(120.0, 7.5) == [("adc", "steps", 120.0), ("adc", "active_ns", 7.5)]


@pytest.mark.parametrize("kind, decisions", [("sar", [8, 8, 8]), ("integrating", [5, 7, 8])])
def test_bit_decisions_per_segment_by_hand(kind, decisions):
    """16 rows of 2-bit cells, a 2-bit DAC: F = 16·3·3 = 144 level units per cycle; an unsigned 8-bit ADC.

    5-bit inputs take 3 cycles of weight 1, 4, 16, one conversion each. A SAR converts each over
    the full range, step max(1, 144/255) = 1: ceil(log2(145)) = 8 decisions. An integrating ADC's
    step is (16 / significance)·144/255, never below 1: 9.04, 2.26 and 1, so
    ceil(log2(144/9.04 + 1)) = 5, ceil(log2(144/2.26 + 1)) = 7 and 8.
    """
    cfg = IDEAL.override({"array.rows": 16, "dac.bits": 2, "mapping.input_bits": 5, "adc.bits": 8, "adc.kind": kind})
    adc = Adc.for_config(cfg)
    schedule = input_schedule(False, cfg)  # 3 cycles of weight 1, 4, 16, codes up to 3
    np.testing.assert_array_equal(schedule.weight, 4.0 ** np.arange(3))
    conv = conversions(cfg, adc, schedule, np.array([144 / 255]))
    np.testing.assert_array_equal(conv.decisions[:, 0], decisions)


def test_a_conversion_is_priced_by_the_adc_model_only_for_a_kind_priced_per_conversion():
    sar = IDEAL.override({"energy.adc_pj_per_conversion": 0.75, "energy.adc_pj_per_step": 0.25})
    integrating = sar.override({"adc.kind": "integrating"})
    assert EnergyModel(sar).unit_energy_pj("adc", "conversions") == 0.75
    assert EnergyModel(integrating).unit_energy_pj("adc", "conversions") == 0.0
    assert EnergyModel(integrating).unit_energy_pj("adc", "steps") == 0.25
