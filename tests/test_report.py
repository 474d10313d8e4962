"""Report and compare: totals against hand sums, derived figures, JSON/CSV output, summary (plots: test_plot.py)."""

import csv
import json
import math

import numpy as np
import pytest

from cimsim.errors import ConfigError
from cimsim.costs.ledger import Ledger
from cimsim.engine.comparison import compare
from cimsim.engine.report import Report
from cimsim.engine.plan import EngineResult, Interval, MachinePlan, StagePlan, Step

BATCH = 3
STATIC_MW = 0.75
LATENCY_NS = 200.0
# stage -> per-inference actions (component, action, count, pJ), once-per-batch actions, MACs per inference
PER_INFERENCE = {
    "fc1": [("adc", "conversions", 100, 12.5), ("input_register", "bits", 64, 3.2), ("cell", "v2g_v2_us", 30, 1.5)],
    "relu": [("digital", "ops", 50, 0.5), ("buffer", "bits", 80, 2.0)],
    "fc2": [("adc", "conversions", 56, 7.0), ("noc", "bit_hops", 25, 1.25), ("cell", "v2g_v2_us", 10, 0.1)],
}
PER_BATCH = {"fc1": [("dram", "bits", 800, 40.0)], "relu": [], "fc2": [("dram", "bits", 160, 8.0)]}
MACS = {"fc1": 1000, "relu": 0, "fc2": 300}
SPANS_NS = {"fc1": (0.0, 100.0), "relu": (50.0, 120.0), "fc2": (100.0, LATENCY_NS)}


def ledger(actions, layer, scale):
    book = Ledger()
    for component, action, count, energy_pj in actions:
        book.add(component, action, count, energy_pj * scale, layer)
    return book


def make_plan(scale=1.0, static_mw=STATIC_MW, name="chip-a"):
    """Three stages whose action energies are the tables above times ``scale``."""
    stages = [
        StagePlan(
            name=name_,
            kind="digital" if name_ == "relu" else "gemm",
            chunks=4 if name_ == "fc1" else 2,
            chunk_label="output row",
            steps=(Step("array", 10.0), Step("adc", 5.0)),
            ledger=ledger(PER_INFERENCE[name_], name_, scale),
            macs=MACS[name_],
            batch_ledger=ledger(PER_BATCH[name_], name_, scale),
            arrays=0 if name_ == "relu" else 2,
        )
        for name_ in PER_INFERENCE
    ]
    resources = {"array": 4, "adc": 1, "digital": 1, "noc": 1}
    return MachinePlan(name, "cim", resources, stages, static_mw, {"array": 1.0e4, "adc": 3.0e4}, ["fc1 replicated 2x"])


def make_result(latency_ns=LATENCY_NS, timeline=True):
    intervals = [
        Interval("fc1", 0, 0, "array", 0.0, 10.0),
        Interval("fc1", 0, 0, "adc", 10.0, 15.0),
        Interval("relu", 0, 0, "digital", 50.0, 60.0),
        Interval("fc2", 2, 1, "adc", 150.0, 155.5),
    ]
    busy_ns = {"array": 120.0, "adc": 150.0, "digital": 10.0}
    return EngineResult(latency_ns, 321, busy_ns, dict(SPANS_NS), intervals if timeline else [])


def make_report(scale=1.0, latency_ns=LATENCY_NS, workload="mlp", batch=BATCH, **kwargs):
    return Report.build(
        workload,
        make_plan(scale, name=kwargs.pop("name", "chip-a")),
        make_result(latency_ns, kwargs.pop("timeline", True)),
        batch=batch,
        mode="pipelined",
        fidelity="functional",
        seed=7,
        wall_s=0.25,
        **kwargs,
    )


def hand_layer_energy_pj(name, scale=1.0, batch=BATCH):
    per_inference = sum(e for *_, e in PER_INFERENCE[name])
    per_batch = sum(e for *_, e in PER_BATCH[name])
    return scale * (batch * per_inference + per_batch)


def hand_total_pj(scale=1.0, latency_ns=LATENCY_NS):
    return sum(hand_layer_energy_pj(name, scale) for name in PER_INFERENCE) + STATIC_MW * latency_ns


def test_totals_and_breakdown_equal_hand_sums():
    report = make_report()
    assert report.energy_pj == pytest.approx(hand_total_pj(), rel=1e-12)
    assert report.energy_pj == pytest.approx(math.fsum(report.breakdown.values()), rel=1e-15)
    assert report.breakdown["adc"] == pytest.approx(BATCH * (12.5 + 7.0), rel=1e-12)
    assert report.breakdown["dram"] == pytest.approx(40.0 + 8.0, rel=1e-12)
    assert report.breakdown["cell"] == pytest.approx(BATCH * (1.5 + 0.1), rel=1e-12)
    assert report.macs == BATCH * (1000 + 300)
    for row in report.layers:
        assert row.energy_pj == pytest.approx(hand_layer_energy_pj(row.name), rel=1e-12)
        assert sum(row.energy_by_component.values()) == pytest.approx(row.energy_pj, rel=1e-12)
        assert row.macs == BATCH * MACS[row.name]
    assert [row.name for row in report.layers] == ["fc1", "relu", "fc2"]


def test_static_energy_is_power_times_latency():
    report = make_report(latency_ns=500.0)
    assert report.breakdown["static"] == pytest.approx(STATIC_MW * 500.0, rel=1e-15)
    assert report.static_energy_pj == report.breakdown["static"]
    dynamic_pj = report.energy_pj - report.breakdown["static"]
    assert dynamic_pj == pytest.approx(hand_total_pj() - STATIC_MW * LATENCY_NS, rel=1e-12)


def test_derived_figures_follow_their_definitions():
    report = make_report()
    ops = 2 * BATCH * (1000 + 300)
    energy_pj = hand_total_pj()
    assert report.tops_per_watt == pytest.approx(ops / energy_pj, rel=1e-12)
    assert report.tops == pytest.approx(ops / (LATENCY_NS * 1e-9) / 1e12, rel=1e-12)
    assert report.throughput_inferences_per_s == pytest.approx(BATCH / (LATENCY_NS * 1e-9), rel=1e-12)
    assert report.area_um2 == 4.0e4
    assert report.tops_per_mm2 == pytest.approx(report.tops / 0.04, rel=1e-12)
    moved_pj = BATCH * (3.2 + 2.0 + 1.25) + 48.0  # input_register, buffer, noc; dram per batch
    assert report.data_movement_share == pytest.approx(moved_pj / energy_pj, rel=1e-12)


def test_utilisation_and_bottleneck():
    report = make_report()
    assert report.utilisation == pytest.approx(
        {"array": 120.0 / (4 * LATENCY_NS), "adc": 150.0 / LATENCY_NS, "digital": 10.0 / LATENCY_NS, "noc": 0.0}
    )
    assert report.bottleneck == "adc"


def test_layer_rows_carry_spans_placement_and_errors():
    report = make_report(layer_errors={"fc2": 0.03}, accuracy={"relative_error": 0.02, "top1_agreement": 0.9})
    rows = {row.name: row for row in report.layers}
    assert (rows["relu"].start_ns, rows["relu"].end_ns, rows["relu"].latency_ns) == (50.0, 120.0, 70.0)
    assert (rows["fc1"].arrays, rows["fc1"].chunks, rows["fc1"].kind) == (2, 4, "gemm")
    assert rows["relu"].kind == "digital"
    assert rows["fc2"].relative_error == 0.03 and rows["fc1"].relative_error is None
    assert report.accuracy == {"relative_error": 0.02, "top1_agreement": 0.9}


@pytest.mark.parametrize(
    "change, word",
    [({"batch": 0}, "batch"), ({"mode": "layers"}, "mode"), ({"fidelity": "exact"}, "fidelity"),
     ({"layer_errors": {"fc9": 0.1}}, "fc9")],
)
def test_build_rejects_bad_arguments(change, word):
    arguments = {"batch": 1, "mode": "layer", "fidelity": "analytical", "seed": None, "wall_s": 0.0} | change
    with pytest.raises(ConfigError, match=word):
        Report.build("mlp", make_plan(), make_result(), **arguments)


def test_json_round_trip_is_exact(tmp_path):
    report = make_report(scale=0.1 + 0.2, layer_errors={"fc1": 1 / 3}, accuracy={"relative_error": 2 / 7})
    assert report.timeline and report.layers[0].relative_error == 1 / 3
    path = report.to_json(tmp_path / "out" / "report.json")
    back = Report.from_json(path)
    assert back == report
    assert back.layers[2].energy_pj == report.layers[2].energy_pj  # bit for bit, not approx
    assert isinstance(back.macs, int) and isinstance(back.timeline[0], Interval)
    data = json.loads(path.read_text())
    assert data["derived"]["tops_per_watt"] == report.tops_per_watt
    assert data["layers"][1]["latency_ns"] == 70.0
    assert data["timeline"][3] == {"stage": "fc2", "inference": 2, "chunk": 1, "resource": "adc",
                                   "start_ns": 150.0, "end_ns": 155.5}


def test_json_round_trip_notices_a_change(tmp_path):
    report = make_report()
    data = report.to_dict()
    data["layers"][0]["energy_pj"] += 1e-9
    assert Report.from_dict(data) != report
    assert Report.from_dict(report.to_dict()) == report


def test_json_holds_numpy_scalars_as_plain_numbers(tmp_path):
    plan = make_plan()
    plan.stages[0].macs = np.int64(1000)
    result = make_result()
    result.latency_ns = np.float64(LATENCY_NS)
    report = Report.build("mlp", plan, result, batch=np.int64(BATCH), mode="layer", fidelity="analytical",
                          seed=np.int64(3), wall_s=np.float64(0.1))
    assert Report.from_json(report.to_json(tmp_path / "r.json")) == report


def test_csv_has_one_row_per_layer_with_its_energies(tmp_path):
    report = make_report()
    with open(report.to_csv(tmp_path / "layers.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["name"] for row in rows] == ["fc1", "relu", "fc2"]
    for row in rows:
        assert float(row["energy_pj"]) == pytest.approx(hand_layer_energy_pj(row["name"]), rel=1e-12)
        assert int(row["macs"]) == BATCH * MACS[row["name"]]
        assert float(row["latency_ns"]) == SPANS_NS[row["name"]][1] - SPANS_NS[row["name"]][0]
    assert float(rows[0]["dram_pj"]) == 40.0
    assert float(rows[1]["adc_pj"]) == 0.0
    assert float(rows[2]["adc_pj"]) == pytest.approx(BATCH * 7.0, rel=1e-12)


def test_summary_mentions_every_layer_and_the_counting_rule():
    report = make_report(layer_errors={"fc2": 0.03})
    text = report.summary()
    assert str(report) == text
    for name in ("fc1", "relu", "fc2", "mlp", "chip-a"):
        assert name in text
    assert "1 MAC = 2 ops" in text and "non-zero weight" in text
    assert f"{report.data_movement_share:.1%}" in text
    assert "bottleneck: adc" in text
    assert "fc1 replicated 2x" in text


def test_compare_ratios_equal_hand_ratios():
    base = make_report()
    other = make_report(scale=0.25, latency_ns=50.0, name="chip-b")
    comparison = compare([base, other])
    ratios = comparison.ratios()
    assert ratios["energy_pj"][1] == pytest.approx(hand_total_pj(0.25, 50.0) / hand_total_pj(), rel=1e-12)
    assert ratios["latency_ns"][1] == pytest.approx(0.25, rel=1e-15)
    assert ratios["tops"][1] == pytest.approx(4.0, rel=1e-12)
    assert ratios["tops_per_watt"][1] == pytest.approx(hand_total_pj() / hand_total_pj(0.25, 50.0), rel=1e-12)
    assert ratios["energy_pj"][0] == 1.0
    assert comparison.values["tops_per_mm2"] == [base.tops_per_mm2, other.tops_per_mm2]
    text = str(comparison)
    assert "chip-a (cim) (baseline)" in text and "chip-b (cim)" in text
    tops_per_watt_line = next(line for line in text.splitlines() if line.startswith("TOPS/W "))
    assert tops_per_watt_line.endswith(f"×{ratios['tops_per_watt'][1]:.3g}")
    assert json.loads(json.dumps(comparison.to_dict()))["ratios"]["tops"][1] == ratios["tops"][1]
    assert compare([base, other], baseline=1).ratios()["latency_ns"][0] == pytest.approx(4.0, rel=1e-15)


def test_compare_refuses_different_workloads_or_batches():
    base = make_report()
    with pytest.raises(ConfigError, match="workload"):
        compare([base, make_report(workload="cnn")])
    with pytest.raises(ConfigError, match="batch"):
        compare([base, make_report(batch=8)])
    assert compare([base, make_report(batch=8)], strict=False).batch == "3 | 8"
    with pytest.raises(ConfigError, match="baseline"):
        compare([base], baseline=1)
    with pytest.raises(ConfigError, match="empty"):
        compare([])
