"""``cimsim compare`` with several chips: the baseline at each chip's precision, --strict, one table and one figure."""

import dataclasses
import json

import pytest

import cimsim
from cimsim.cli import main
from cimsim.engine.comparison import compare
from cimsim.plot import comparison_figure
from test_report import LATENCY_NS, make_report


@pytest.fixture(scope="module")
def two_chips(tmp_path_factory):
    """``cimsim compare mlp --chip isaac --chip rram-22nm`` (ISAAC computes w16a16, rram-22nm and vn-45nm w8a8)."""
    out = tmp_path_factory.mktemp("compare")
    return out, main(["compare", "mlp", "--chip", "isaac", "--chip", "rram-22nm", "--baseline", "vn-45nm",
                      "--out", str(out)])


def test_the_baseline_runs_once_per_chip_precision_and_says_so(two_chips, capsys):
    out, code = two_chips
    assert code == 0
    base16, base8 = (cimsim.Report.from_json(out / f"baseline_{p}.json") for p in ("w16a16", "w8a8"))
    isaac, rram = cimsim.Report.from_json(out / "chip1_isaac.json"), cimsim.Report.from_json(out / "chip2_rram-22nm.json")
    assert (base16.precision, isaac.precision, base8.precision, rram.precision) == ("w16a16", "w16a16", "w8a8", "w8a8")
    # vn-45nm prices a MAC as mac_pj x (b_w x b_a) / 8²: at 16 x 16 bits, 4 times its 8 x 8 bit MAC
    assert base16.macs == base8.macs
    assert base16.breakdown["pe"] == pytest.approx(4.0 * base8.breakdown["pe"], rel=1e-12)
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["against"] == [0, 0, 2, 2]
    assert comparison["ratios"]["energy_pj"][1] == pytest.approx(isaac.energy_pj / base16.energy_pj, rel=1e-12)
    assert comparison["ratios"]["tops_per_watt"][3] == pytest.approx(rram.tops_per_watt / base8.tops_per_watt,
                                                                     rel=1e-12)
    assert (out / "comparison.png").stat().st_size > 1000 and (out / "comparison.svg").stat().st_size > 1000


def test_the_printed_table_names_each_baseline_run(two_chips, capsys):
    # the module fixture ran before this test's capture: run the one-chip case, which also keeps today's file names
    out = two_chips[0] / "one"
    assert main(["compare", "mlp", "--chip", "isaac", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("baseline vn-45nm (its own precision: w8a8) runs at the chips' precision: at w16a16 "
                               "for isaac;") and "--strict" in lines[0]
    assert "vn-45nm w16a16 (baseline)" in lines[2] and "× baseline" in lines[2]
    assert cimsim.Report.from_json(out / "baseline.json").precision == "w16a16"
    assert cimsim.Report.from_json(out / "chip.json").config == "isaac"


def test_strict_refuses_a_chip_of_another_precision_in_one_line(capsys):
    assert main(["compare", "mlp", "--chip", "rram-22nm", "--chip", "isaac", "--strict"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--strict: isaac computes w16a16, the baseline vn-45nm w8a8" in err and "rram" not in err


@pytest.mark.parametrize("argv, option", [
    (["run", "mlp", "--chip", "isaac", "--chip", "pcm"], "--chip given twice ('isaac', then 'pcm')"),
    (["compare", "mlp", "--chip", "isaac", "--baseline", "vn-45nm", "--baseline", "gpu-a100"], "--baseline given twice"),
])
def test_an_option_taken_once_given_twice_is_one_line(argv, option, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith(f"cimsim: error: {option}") and len(err.splitlines()) == 1


def test_comparison_figure_draws_each_reports_tops_per_watt_and_ratio():
    base = make_report()
    fast = make_report(latency_ns=LATENCY_NS / 4, name="fast")
    frugal = dataclasses.replace(make_report(scale=0.5, name="frugal"), precision="w8a8")
    comparison = compare([base, fast, frugal], baseline=[0, 0, 2], strict=False)
    figure = comparison_figure(comparison, [base, fast, frugal])
    shares_axes, tops_axes = figure.axes
    assert [bar.get_height() for bar in tops_axes.patches] == comparison.values["tops_per_watt"]
    texts = [text.get_text() for text in tops_axes.texts]
    assert texts[1].endswith(f"×{fast.tops_per_watt / base.tops_per_watt:.3g}") and "×" not in texts[2]
    # shares stacked to 100 % for every report
    tops = {}
    for bar in shares_axes.patches:
        tops[bar.get_x()] = max(tops.get(bar.get_x(), 0.0), bar.get_y() + bar.get_height())
    assert sorted(tops.values()) == pytest.approx([100.0] * 3, rel=1e-12)
    with pytest.raises(cimsim.ConfigError, match="2 reports for a comparison of 3"):
        comparison_figure(comparison, [base, fast])


def test_no_figures_writes_the_reports_and_the_comparison_only(tmp_path):
    assert main(["compare", "mlp", "--chip", "ideal", "--baseline", "vn-45nm", "--no-figures", "--out", str(tmp_path)]) == 0
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["baseline.json", "baseline_layers.csv", "chip.json", "chip_layers.csv", "comparison.json"]
