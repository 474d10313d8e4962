"""compare with one baseline per report: chips of several precisions, each against the baseline run at its precision."""

import dataclasses
import json

import pytest

from cimsim.engine.comparison import compare
from cimsim.errors import ConfigError
from test_report import LATENCY_NS, hand_total_pj, make_report


def reports():
    """Baseline at w16a16, a chip at w16a16 (4x faster), baseline at w8a8 (half the energy), a chip at w8a8."""
    base16 = dataclasses.replace(make_report(name="vn"), precision="w16a16")
    chip16 = dataclasses.replace(make_report(latency_ns=LATENCY_NS / 4, name="isaac"), precision="w16a16")
    base8 = dataclasses.replace(make_report(scale=0.5, name="vn"), precision="w8a8")
    chip8 = dataclasses.replace(make_report(scale=0.25, name="rram"), precision="w8a8")
    return [base16, chip16, base8, chip8]


def test_each_chip_is_measured_against_its_own_baseline():
    comparison = compare(reports(), baseline=[0, 0, 2, 2], labels=["vn w16a16", "isaac", "vn w8a8", "rram"])
    ratios = comparison.ratios()
    assert ratios["latency_ns"] == [1.0, 0.25, 1.0, 1.0]
    # rram (energies x 0.25, static x 1) against vn w8a8 (energies x 0.5, static x 1), by hand
    assert ratios["energy_pj"][3] == pytest.approx(hand_total_pj(0.25) / hand_total_pj(0.5), rel=1e-12)
    assert comparison.baseline == 0 and comparison.against == [0, 0, 2, 2]
    text = str(comparison)
    header = text.splitlines()[1]
    assert "vn w16a16 (baseline)" in header and "× vn w16a16" in header and "× vn w8a8" in header
    assert json.loads(json.dumps(comparison.to_dict()))["against"] == [0, 0, 2, 2]


def test_strict_checks_precision_against_each_reports_own_baseline():
    with pytest.raises(ConfigError, match=r"precision.*w16a16.*w8a8"):
        compare(reports())  # everything against report 0, at w16a16
    assert compare(reports(), baseline=[0, 0, 2, 2]).workload == "mlp"
    assert compare(reports(), strict=False).ratios()["latency_ns"][1] == 0.25


@pytest.mark.parametrize("baseline, word", [([0, 0, 2], "3 indices for 4"), ([0, 2, 1, 2], "against itself"),
                                            ([0, 0, 9, 9], "index"), (True, "index")])
def test_malformed_baselines_are_refused(baseline, word):
    with pytest.raises(ConfigError, match=word):
        compare(reports(), baseline=baseline, strict=False)


def test_comparison_json_is_standard(tmp_path):
    base = dataclasses.replace(make_report(), area_breakdown_um2={})  # no area: TOPS/mm² undefined
    path = compare([base, make_report(name="other")]).to_json(tmp_path / "comparison.json")

    def refuse(name):
        raise AssertionError(f"{name} is not JSON")

    data = json.loads(path.read_text(), parse_constant=refuse)
    assert data["values"]["tops_per_mm2"][0] is None and data["ratios"]["tops_per_mm2"][1] is None


def test_undefined_figures_print_as_n_a_with_a_note():
    base = dataclasses.replace(make_report(), area_breakdown_um2={})  # no area: TOPS/mm² undefined
    other = make_report(name="other")
    lines = str(compare([base, other])).splitlines()
    tops_per_mm2_line = next(line for line in lines if line.startswith("TOPS/mm²"))
    assert tops_per_mm2_line.split() == ["TOPS/mm²", "n/a", f"{other.tops_per_mm2:.4g}", "n/a"]
    assert lines[-1].startswith("n/a: TOPS/mm² of ") and lines[-1].endswith("the configuration models no chip area")
    assert "nan" not in "\n".join(lines) and "n/a" not in str(compare([other, other]))
