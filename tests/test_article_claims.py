"""The article-claims study (cimsim.studies.article_claims): its verdicts, by hand, and its command."""

from __future__ import annotations

import csv

import pytest

from cimsim.cli.parser import main
from cimsim.studies import article_claims as claims
from cimsim.studies import summary, verdicts


def run_row(design: str, kind: str, tops_per_watt: float, share: float, workload: str = "w") -> dict:
    return {"design": design, "kind": kind, "workload": workload, "batch": 1, "bits": 8,
            "tops_per_watt": tops_per_watt, "data_movement_share": share, "error": None}


@pytest.mark.parametrize(("value", "target", "holds"), [
    (1.2 / 1.5, 1.2, True), (1.2 * 1.5, 1.2, True), (0.79, 1.2, False), (1.81, 1.2, False),
    (16.0, 24.0, True), (36.0, 24.0, True), (15.9, 24.0, False), (36.1, 24.0, False),
])
def test_about_is_a_factor_of_one_and_a_half_either_way(value, target, holds):
    assert claims.about(value, target) is holds


def test_verdicts_judge_each_run_by_the_claim_that_applies_to_it():
    rows = [
        run_row("gpu-a100", "von-neumann", 1.0, 0.95),
        run_row("vn-45nm", "von-neumann", 0.5, 0.85),
        run_row("isaac", "cim", 20.0, 0.2),       # 20 TOPS/W: about 24; 20 / 1.0 = 20x the GPU: about 20
        run_row("rram-22nm", "cim", 4.0, 0.3),    # 4 TOPS/W: not about 24; 4x the GPU: not about 20
        run_row("neurram", "cim", 0.0, 0.0) | {"error": "does not fit"},
    ]
    found = {(v["claim"], v["design"]): (v["value"], v["holds"]) for v in verdicts(rows)}
    assert found == {
        ("data_movement", "gpu-a100"): (0.95, True),
        ("gpu_tops_per_watt", "gpu-a100"): (1.0, True),
        ("data_movement", "vn-45nm"): (0.85, False),
        ("cim_tops_per_watt", "isaac"): (20.0, True),
        ("cim_over_gpu", "isaac"): (20.0, True),
        ("cim_tops_per_watt", "rram-22nm"): (4.0, False),
        ("cim_over_gpu", "rram-22nm"): (4.0, False),
    }  # the refused run is judged by no claim
    by_claim = {(s["claim"], s["design"]): (s["runs"], s["holds"]) for s in summary(verdicts(rows))}
    assert by_claim[("data_movement", "vn-45nm")] == (1, 0) and by_claim[("cim_tops_per_watt", "isaac")] == (1, 1)


def test_designs_are_every_preset_but_the_reference_cim_first():
    names = claims.designs()
    assert "ideal" not in names and {"isaac", "gpu-a100", "vn-45nm"} <= set(names)
    kinds = [claims.kind_of(name) for name in names]
    assert kinds == sorted(kinds, key=lambda kind: kind != "cim")


def test_the_command_writes_every_run_and_keeps_the_refused_ones(tmp_path, capsys):
    argv = ["study", "article-claims", "--design", "pcm", "--design", "vn-45nm", "--workload", "digits-mlp",
            "--workload", "vgg8", "--batch", "1", "--bits", "8", "--out", str(tmp_path)]
    assert main(argv) == 0
    with open(tmp_path / "article_claims_runs.csv", newline="") as handle:
        runs = {(r["design"], r["workload"]): r for r in csv.DictReader(handle)}
    assert set(runs) == {("pcm", "digits-mlp"), ("pcm", "vgg8"), ("vn-45nm", "digits-mlp"), ("vn-45nm", "vgg8")}
    assert "arrays" in runs[("pcm", "vgg8")]["error"]  # vgg8 needs more arrays than pcm's 64: refused, kept
    assert float(runs[("pcm", "digits-mlp")]["tops_per_watt"]) > 0
    assert (tmp_path / "article_claims_tops_per_watt.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "data movement is over 90 %" in printed and "about 24 TOPS/W" in printed


def test_an_unknown_design_is_one_line_naming_it(capsys):
    assert main(["study", "article-claims", "--design", "nosuch", "--workload", "digits-mlp", "--no-figures"]) == 2
    assert "nosuch" in capsys.readouterr().err
