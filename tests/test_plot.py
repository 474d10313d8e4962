"""cimsim.plot: every figure written as PNG and SVG, axes labelled with units, the data drawn as computed."""

import math
import re

import numpy as np
import pytest

import cimsim
from cimsim import plot
from cimsim.errors import ConfigError
from cimsim.plot.base import ENERGY_UNITS, TIME_UNITS, unit_for

UNITS = dict(ENERGY_UNITS) | dict(TIME_UNITS)
BATCH = 2


def tiny_workload():
    rng = np.random.default_rng(3)
    return cimsim.Workload(
        [
            cimsim.Gemm("fc1", m=4, k=64, n=32, weights=rng.normal(size=(64, 32))),
            cimsim.NonGemm("relu", "activation", 4 * 32, inputs=("fc1",)),
            cimsim.Gemm("fc2", m=4, k=32, n=16, weights=rng.normal(size=(32, 16)), inputs=("relu",)),
        ],
        name="tiny",
    )


@pytest.fixture(scope="module")
def reports():
    """The tiny workload on isaac and on the vn-45nm baseline, with timelines."""
    workload = tiny_workload()
    return [
        cimsim.simulate(workload, cimsim.load_preset(name), batch=BATCH, record_timeline=True)
        for name in ("isaac", "vn-45nm")
    ]


def sweep_rows():
    """ADC bits x chip x seed, hand-made: TOPS/W and error fall with bits, pcm worse than isaac."""
    rows = []
    for bits in (6, 4, 8):
        for chip, factor in (("isaac", 1.0), ("pcm", 2.0)):
            for seed in range(3):
                rows.append({
                    "adc.bits": bits, "chip": chip, "workload": "tiny", "seed": seed,
                    "tops_per_watt": 24.0 / bits / factor + seed,
                    "layer_relative_error_rms": factor * 2.0**-bits * (1 + 0.1 * seed),
                    "energy_pj": 100.0 * bits * factor,
                })
    return rows


def unit_of(label):
    """The unit named in parentheses at the end of an axis label, and its size in pJ or ns."""
    unit = re.fullmatch(r".* \((\S+)\)", label).group(1)
    return unit, UNITS[unit]


def errorbar_data(axes):
    """Per error-bar line: x, y and the half-lengths of its error bars (empty without bars)."""
    data = []
    for container in axes.containers:
        line, _, bar_collections = container.lines
        halves = [(top[1] - bottom[1]) / 2 for bottom, top in bar_collections[0].get_segments()] if bar_collections else []
        data.append((list(line.get_xdata()), list(line.get_ydata()), halves))
    return data


# --------------------------------------------------------------------------- files


def write_all(reports, tmp_path):
    """Every chart of the module, written into ``tmp_path``: name -> returned paths."""
    rows, workload = sweep_rows(), tiny_workload()
    return {
        "timeline": plot.timeline_chart(reports[0], tmp_path / "timeline"),
        "energy": plot.energy_breakdown_chart(reports, tmp_path / "energy.png"),
        "layers": plot.layer_bars(reports[0], tmp_path / "layers.svg"),
        "metric": plot.metric_vs_parameter(rows, "adc.bits", "tops_per_watt", "chip", tmp_path / "metric"),
        "accuracy": plot.accuracy_vs_parameter(rows, "adc.bits", tmp_path / "accuracy", series="chip"),
        "pareto": plot.pareto_front(rows, "energy_pj", "layer_relative_error_rms", tmp_path / "pareto", series="chip"),
        "roofline": plot.roofline_chart(workload, cimsim.load_preset("vn-45nm"), tmp_path / "roofline", batch=BATCH),
        "line": plot.line_chart([1, 2], {"a": [3, 4]}, xlabel="x (s)", ylabel="y (m)", title="t", path_stem=tmp_path / "line"),
    }


def test_every_chart_writes_png_and_svg(reports, tmp_path):
    written = write_all(reports, tmp_path)
    for name, paths in written.items():
        assert paths == [tmp_path / f"{name}.png", tmp_path / f"{name}.svg"], name
        png, svg = paths[0].read_bytes(), paths[1].read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000, name
        assert b"<svg" in svg[:1000] and svg.rstrip().endswith(b"</svg>") and len(svg) > 5000, name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.{k}" for n in written for k in ("png", "svg"))


def test_save_figure_names_the_files_and_refuses_other_formats(tmp_path):
    fig = plot.metric_vs_parameter_figure(sweep_rows(), "adc.bits", "energy_pj", "chip")
    assert plot.save_figure(fig, tmp_path / "a.svg") == [tmp_path / "a.png", tmp_path / "a.svg"]
    assert plot.save_figure(fig, tmp_path / "sub" / "adc-0.5") == [tmp_path / "sub" / f"adc-0.5.{k}" for k in ("png", "svg")]
    with pytest.raises(ConfigError, match=r"\.pdf"):
        plot.save_figure(fig, tmp_path / "b.pdf")
    assert not list(tmp_path.glob("b*")) and not list(tmp_path.glob(".*.tmp"))


def test_unit_for_picks_the_largest_unit_below_the_largest_value():
    assert unit_for([3.0, 999.0], ENERGY_UNITS) == ("pJ", 1.0)
    assert unit_for([1000.0], ENERGY_UNITS) == ("nJ", 1e3)
    assert unit_for([2.5e6, 1.0], ENERGY_UNITS) == ("µJ", 1e6)
    assert unit_for([4.2e9], TIME_UNITS) == ("s", 1e9)
    assert unit_for([], TIME_UNITS) == ("ns", 1.0)
    assert unit_for([0.25], TIME_UNITS) == ("ns", 1.0)


# --------------------------------------------------------------------------- reports


def test_timeline_axes_in_a_time_unit_and_title_names_workload_and_config(reports):
    report = reports[0]
    axes = plot.timeline_figure(report).axes[0]
    unit, unit_ns = unit_of(axes.get_xlabel())
    assert axes.get_xlabel().startswith("time (")
    assert axes.dataLim.x1 * unit_ns == pytest.approx(max(i.end_ns for i in report.timeline), rel=1e-9)
    assert 1 <= axes.dataLim.x1 < 1000
    assert axes.get_ylabel() == "resource"
    assert all(part in axes.get_title() for part in ("tiny", "isaac", f"batch {BATCH}"))


def test_empty_timeline_is_refused(tmp_path):
    report = cimsim.simulate(tiny_workload(), cimsim.load_preset("vn-45nm"))
    with pytest.raises(ConfigError, match="timeline"):
        plot.timeline_chart(report, tmp_path / "empty")
    assert not list(tmp_path.iterdir())


def test_energy_breakdown_stacks_each_reports_energy_per_inference(reports):
    axes = plot.energy_breakdown_figure(reports).axes[0]
    unit, unit_pj = unit_of(axes.get_ylabel())
    assert axes.get_ylabel().startswith("energy per inference (")
    for index, report in enumerate(reports):
        stacked = sum(container[index].get_height() for container in axes.containers)
        assert stacked * unit_pj == pytest.approx(report.energy_pj / report.batch, rel=1e-9)
    assert [c.get_label() for c in axes.containers][0] == max(reports[0].breakdown, key=lambda c: max(
        r.breakdown.get(c, 0.0) / r.energy_pj for r in reports))  # the largest share of any bar first
    assert all(part in axes.get_title() for part in ("tiny", "isaac", "vn-45nm"))
    with pytest.raises(ConfigError, match="empty"):
        plot.energy_breakdown_figure([])


def test_layer_bars_show_each_layers_energy_and_latency(reports):
    report = reports[1]
    figure = plot.layer_bars_figure(report)
    energy_axes, time_axes = figure.axes
    assert energy_axes.get_ylabel() == "layer"
    assert [t.get_text() for t in energy_axes.get_yticklabels()] == ["fc1", "relu", "fc2"]
    _, unit_pj = unit_of(energy_axes.get_xlabel())
    _, unit_ns = unit_of(time_axes.get_xlabel())
    assert energy_axes.get_xlabel().startswith("energy per inference (")
    assert time_axes.get_xlabel().startswith("time since the batch starts (")
    energies = [bar.get_width() * unit_pj for bar in energy_axes.patches]
    latencies = [bar.get_width() * unit_ns for bar in time_axes.patches]
    starts = [bar.get_x() * unit_ns for bar in time_axes.patches]
    assert energies == pytest.approx([row.energy_pj / BATCH for row in report.layers], rel=1e-9)
    assert latencies == pytest.approx([row.latency_ns for row in report.layers], rel=1e-9)
    assert starts == pytest.approx([row.start_ns for row in report.layers], rel=1e-9)
    assert all(part in figure.get_suptitle() for part in ("tiny", "vn-45nm"))


# --------------------------------------------------------------------------- sweep tables


def test_metric_vs_parameter_one_line_per_series_with_mean_and_spread():
    axes = plot.metric_vs_parameter_figure(sweep_rows(), "adc.bits", "tops_per_watt", "chip").axes[0]
    assert axes.get_xlabel() == "ADC resolution (bits)"
    assert axes.get_ylabel() == "energy efficiency (TOPS/W)"
    assert "tiny on isaac, pcm" in axes.get_title() and axes.get_title().endswith("; mean ± 1 s.d. over 3 seeds")
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["isaac", "pcm"]
    (x_isaac, y_isaac, spread_isaac), (x_pcm, y_pcm, spread_pcm) = errorbar_data(axes)
    assert x_isaac == x_pcm == [4, 6, 8]  # sorted, though the rows start at 6
    assert y_isaac == pytest.approx([6.0 + 1.0, 4.0 + 1.0, 3.0 + 1.0])  # seeds 0, 1, 2 add 1 on average
    assert y_pcm == pytest.approx([3.0 + 1.0, 2.0 + 1.0, 1.5 + 1.0])
    assert spread_isaac == spread_pcm == pytest.approx([1.0, 1.0, 1.0])  # sample s.d. of 0, 1, 2


def test_one_row_per_x_draws_no_error_bars_and_unknown_columns_keep_their_name():
    rows = [{"knob": noise, "energy_pj": 10.0 * noise} for noise in (0.1, 0.2)]
    axes = plot.metric_vs_parameter_figure(rows, "knob", "energy_pj").axes[0]
    assert axes.get_xlabel() == "knob"
    assert axes.get_ylabel() == "energy (pJ)"
    assert errorbar_data(axes) == [([0.1, 0.2], [1.0, 2.0], [])]
    assert axes.get_title() == "energy against knob"


def test_accuracy_vs_parameter_is_the_error_on_a_log_axis_over_seeds():
    rows = [r for r in sweep_rows() if r["chip"] == "isaac"]
    axes = plot.accuracy_vs_parameter_figure(rows, "adc.bits").axes[0]
    assert axes.get_yscale() == "log"
    assert axes.get_ylabel() == "relative error of the layers (RMS) (‖y − y_ref‖ / ‖y_ref‖)"
    [(xs, means, spreads)] = errorbar_data(axes)
    assert means == pytest.approx([1.1 * 2.0**-b for b in xs])
    assert spreads == pytest.approx([0.1 * 2.0**-b for b in xs])
    assert "tiny on isaac" in axes.get_title()


@pytest.mark.parametrize("draw", [
    lambda rows: plot.metric_vs_parameter_figure(rows, "adc.bits", "tops_per_wat", "chip"),
    lambda rows: plot.metric_vs_parameter_figure(rows, "adc.bits", "tops_per_watt", "tops_per_wat"),
    lambda rows: plot.accuracy_vs_parameter_figure(rows, "tops_per_wat"),
    lambda rows: plot.pareto_front_figure(rows, "tops_per_wat", "layer_relative_error_rms"),
    lambda rows: plot.pareto_points(rows, minimize=("tops_per_wat",)),
])
def test_unknown_column_is_named(draw):
    with pytest.raises(ConfigError, match="column 'tops_per_wat' is not in row 0"):
        draw(sweep_rows())


def test_empty_rows_and_non_numbers_are_refused():
    with pytest.raises(ConfigError, match=r"column 'adc.bits'\): the sweep table is empty"):
        plot.metric_vs_parameter_figure([], "adc.bits", "energy_pj")
    with pytest.raises(ConfigError, match="empty"):
        plot.pareto_points([])
    rows = sweep_rows()
    rows[4]["energy_pj"] = "lots"
    with pytest.raises(ConfigError, match="column 'energy_pj' of row 4 is 'lots'"):
        plot.metric_vs_parameter_figure(rows, "adc.bits", "energy_pj", "chip")
    with pytest.raises(ConfigError, match="no columns"):
        plot.pareto_points(rows, minimize=())


# --------------------------------------------------------------------------- Pareto


def pareto_rows():
    """Hand-made: a, b, e and f are optimal (e and f tie); c, d, g and h are dominated."""
    points = {"a": (1, 5), "b": (2, 3), "c": (3, 3), "d": (2, 4), "e": (4, 1), "f": (4, 1), "g": (5, 2), "h": (1, 6)}
    return [{"name": n, "energy_pj": e, "layer_relative_error_rms": r, "top1_agreement": 1 - r / 10} for n, (e, r) in points.items()]


def test_pareto_points_are_exactly_the_non_dominated_rows():
    rows = pareto_rows()
    front = plot.pareto_points(rows)
    assert [row["name"] for row in front] == ["a", "b", "e", "f"]
    assert all(any(row is kept for row in rows) for kept in front)
    assert plot.pareto_points(rows, minimize=("energy_pj",), maximize=("top1_agreement",)) == front
    assert [row["name"] for row in plot.pareto_points(rows, minimize=("energy_pj",))] == ["a", "h"]
    assert [row["name"] for row in plot.pareto_points(rows, minimize=(), maximize=("energy_pj",))] == ["g"]


def test_pareto_front_connects_the_optimal_points_in_energy_order():
    rows = pareto_rows()
    for row in rows:
        row["chip"] = "isaac" if row["name"] < "e" else "pcm"
    axes = plot.pareto_front_figure(rows, "energy_pj", "layer_relative_error_rms", series="chip").axes[0]
    assert axes.get_xlabel() == "energy (pJ)"
    assert axes.get_ylabel().startswith("relative error of the layers (RMS) (")
    assert axes.get_title().endswith("\nisaac, pcm; better towards the bottom left")
    [front] = [line for line in axes.get_lines() if line.get_label() == "Pareto-optimal"]
    assert list(front.get_xdata()) == [1, 2, 4, 4] and list(front.get_ydata()) == [5, 3, 1, 1]
    assert sum(len(c.get_offsets()) for c in axes.collections) == len(rows)
    top1 = plot.pareto_front_figure(rows, "energy_pj", "top1_agreement").axes[0]
    assert "top left" in top1.get_title()


# --------------------------------------------------------------------------- roofline


def test_roofline_ridge_is_peak_over_bandwidth_from_the_preset():
    cfg = cimsim.load_preset("vn-45nm")
    by_hand = cfg.pe.pes * cfg.pe.clock_ghz * 1e9 * 2 / (cfg.memory.dram_gb_per_s * 1e9)
    line = plot.roofline(tiny_workload(), cfg)
    assert line.ridge_ops_per_byte == pytest.approx(by_hand, rel=1e-12)
    axes = plot.roofline_figure(tiny_workload(), cfg).axes[0]
    [roof] = [li for li in axes.get_lines() if li.get_label().startswith("roof")]
    assert roof.get_xdata()[1] == pytest.approx(by_hand, rel=1e-12)
    assert roof.get_ydata()[1:] == pytest.approx([cfg.pe.pes * cfg.pe.clock_ghz * 2e9] * 2, rel=1e-12)
    assert axes.get_xlabel() == "operational intensity (ops per DRAM byte)"
    assert axes.get_ylabel() == "attainable performance (ops/s)"
    assert "vn-45nm" in axes.get_title() and "tiny" in axes.get_title()
    assert axes.get_xscale() == axes.get_yscale() == "log"


def test_roofline_places_streamed_layers_on_the_bandwidth_slope():
    cfg = cimsim.load_preset("vn-45nm").override({
        "pe.pes": 100, "pe.clock_ghz": 1.5, "pe.utilisation": 0.5, "memory.dram_gb_per_s": 3.0,
        "memory.weights_resident": "never",
    })
    line = plot.roofline(tiny_workload(), cfg, batch=4)
    assert line.ridge_ops_per_byte == pytest.approx(100 * 1.5 * 2 / 3.0, rel=1e-12)
    fc1, fc2 = line.points
    assert (fc1.name, fc2.name) == ("fc1", "fc2")
    # 2 x 4x64x32 MACs x 4 inferences over 64x32 one-byte weights fetched once per batch
    assert fc1.intensity == pytest.approx(2 * 4 * 64 * 32 * 4 / (64 * 32), rel=1e-12)
    assert fc1.ops_per_s == pytest.approx(3.0e9 * fc1.intensity, rel=1e-9)  # DRAM-bound, below the sustained 150e9
    for point in line.points:
        assert point.ops_per_s <= line.attainable_ops_per_s(point.intensity) * (1 + 1e-12)
    axes = plot.roofline_figure(tiny_workload(), cfg, batch=4).axes[0]
    [sustained] = [li for li in axes.get_lines() if li.get_label().startswith("sustained")]
    assert sustained.get_ydata()[0] == pytest.approx(100 * 1.5e9 * 2 * 0.5)


def test_roofline_layers_without_dram_traffic_and_wrong_configs():
    line = plot.roofline(tiny_workload(), cimsim.load_preset("vn-45nm"))
    assert [p.intensity for p in line.points] == [math.inf, math.inf]  # weights resident, activations fit
    axes = plot.roofline_figure(tiny_workload(), cimsim.load_preset("vn-45nm")).axes[0]
    edge = [li for li in axes.get_lines() if li.get_marker() == ">"]
    assert len(edge) == 2 and all(li.get_xdata()[0] == 10 * line.ridge_ops_per_byte for li in edge)
    with pytest.raises(ConfigError, match="von Neumann"):
        plot.roofline(tiny_workload(), cimsim.load_preset("isaac"))
    with pytest.raises(ConfigError, match="batch"):
        plot.roofline(tiny_workload(), cimsim.load_preset("vn-45nm"), batch=0)


# --------------------------------------------------------------------------- comparison figures (issue 15)


def synthetic_report(config: str, architecture: str, breakdown: dict[str, float], macs: int = 10**6) -> cimsim.Report:
    """A report with a hand-written energy breakdown (pJ over a batch of 2) and no layers."""
    return cimsim.Report(workload="tiny", config=config, architecture=architecture, batch=2, mode="pipelined",
                         fidelity="analytical", seed=0, energy_pj=sum(breakdown.values()), latency_ns=1e3,
                         breakdown=breakdown, layers=[], macs=macs, area_breakdown_um2={}, utilisation={},
                         events=0, wall_s=0.0)


def test_energy_breakdown_colours_seven_components_sums_the_rest_and_labels_totals_and_ratios():
    # 10 components of 1..10 pJ on the CIM chip (55 pJ), 2 components on the baseline (101 pJ)
    cim = synthetic_report("chip", "cim", {f"c{i}": float(i) for i in range(1, 11)})
    base = synthetic_report("base", "von-neumann", {"dram": 100.0, "pe": 1.0})
    axes = plot.energy_breakdown_figure([base, cim]).axes[0]
    labels = [c.get_label() for c in axes.containers]
    assert len(labels) == 8 and labels[-1] == "other (5 components)"
    # shares of their own bar: dram 100/101, c10 10/55, c9 9/55, ..., c1 1/55, pe 1/101 last
    assert labels[:7] == ["dram", "c10", "c9", "c8", "c7", "c6", "c5"]
    other = axes.containers[-1]
    assert other[1].get_height() == pytest.approx((1 + 2 + 3 + 4) / 2)  # c1..c4 per inference, pJ
    assert other[0].get_height() == pytest.approx(1.0 / 2)  # pe
    texts = [t.get_text() for t in axes.texts]
    assert texts == ["50.5 pJ\nbaseline", f"27.5 pJ\n×{27.5 / 50.5:.3g}"]


def test_tops_per_watt_bars_each_chip_against_the_baseline():
    base = synthetic_report("vn-45nm", "von-neumann", {"dram": 2e6})            # 2e6 ops / 2e6 pJ = 1 TOPS/W
    chips = [synthetic_report("isaac (w8a8)", "cim", {"adc": 5e5}),                # 4 TOPS/W
             synthetic_report("rram-22nm (w8a8)", "cim", {"adc": 2.5e5})]          # 8 TOPS/W
    axes = plot.tops_per_watt_figure([*chips, base]).axes[0]
    heights = [bar.get_height() for container in axes.containers for bar in container]
    assert sorted(heights) == pytest.approx([1.0, 4.0, 8.0])
    assert [t.get_text() for t in axes.texts] == ["4\n×4", "8\n×8", "1\nbaseline"]
    assert axes.get_ylabel().startswith("TOPS/W")
    assert "against vn-45nm" in axes.get_title()
    assert [t.get_text() for t in axes.get_xticklabels()][0].startswith("isaac (w8a8)\n(cim)")


def test_a_timeline_of_many_resources_merges_the_least_busy_kinds_into_one_lane_each():
    from cimsim.engine.plan import Interval

    # 30 'link' resources busy 1 ns each, 30 'arrays' busy 10 ns each: 60 lanes > 36, links merge first
    timeline = [Interval("fc", 0, i, f"link:{i}", float(i), i + 1.0) for i in range(30)]
    timeline += [Interval("fc", 0, i, f"arrays:{i}", float(i), i + 10.0) for i in range(30)]
    report = synthetic_report("chip", "cim", {"adc": 1.0})
    report.timeline = timeline
    axes = plot.timeline_figure(report).axes[0]
    lanes = [t.get_text() for t in axes.get_yticklabels()]
    assert len(lanes) == 31 and "link (30)" in lanes and "arrays:29" in lanes


def test_each_bar_is_measured_against_the_baseline_run_of_its_own_workload():
    dense_base = synthetic_report("vn-45nm", "von-neumann", {"dram": 4e6})
    sparse_base = synthetic_report("vn-45nm", "von-neumann", {"dram": 4e6}, macs=5 * 10**5)
    sparse_base.workload = "tiny 2:4"
    dense_chip = synthetic_report("isaac", "cim", {"adc": 1e6})
    sparse_chip = synthetic_report("isaac", "cim", {"adc": 5e5}, macs=5 * 10**5)
    sparse_chip.workload = "tiny 2:4"
    axes = plot.energy_breakdown_figure([dense_base, dense_chip, sparse_base, sparse_chip]).axes[0]
    # per inference: 2e6, 5e5, 2e6, 2.5e5 pJ (2, 0.5, 2, 0.25 µJ); each chip against the baseline of its own workload
    assert [t.get_text() for t in axes.texts] == ["2 µJ\nbaseline", "0.5 µJ\n×0.25",
                                                   "2 µJ\nbaseline", "0.25 µJ\n×0.125"]


# --------------------------------------------------------------------------- honest sweep figures


def grid_rows():
    """Hand-made: chip x array.rows x batch x 2 seeds; TOPS/W = base(chip) x rows / 64 x batch + seed / 10."""
    rows = []
    for chip, base in (("isaac", 1.0), ("rram-22nm", 10.0)):
        for array_rows in (64, 128, 256):
            for batch in (1, 16):
                for seed in (0, 1):
                    rows.append({"point_id": f"{chip}{array_rows}{batch}{seed}", "chip": chip, "workload": "mlp",
                                 "batch": batch, "seed": seed, "array.rows": array_rows, "bottleneck": f"tile{seed}",
                                 "tops_per_watt": base * array_rows / 64 * batch + seed / 10})
    return rows


def test_a_figure_that_would_average_other_parameters_than_seeds_is_refused_naming_them():
    rows = grid_rows()
    with pytest.raises(ConfigError) as refused:
        plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", "chip")
    message = str(refused.value)
    assert "\n" not in message
    assert "the rows differ in batch (1, 16), and a figure averages only over seeds" in message  # not chip: a series
    assert "--series" in message and "--facet" in message and "--where" in message
    with pytest.raises(ConfigError, match=r"differ in chip \(isaac, rram-22nm\); batch \(1, 16\)"):
        plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt")
    with pytest.raises(ConfigError, match=r"differ in chip \(isaac, rram-22nm\),"):
        plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", "batch")
    # measured columns that vary (point_id, bottleneck) are not parameters: these draw
    plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", "chip", where={"batch": 16})
    plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", ["chip", "batch"])


def test_several_series_keys_give_one_line_per_combination_averaged_over_seeds_only():
    axes = plot.metric_vs_parameter_figure(grid_rows(), "array.rows", "tops_per_watt", "chip,batch").axes[0]
    assert axes.get_legend().get_title().get_text() == "chip, batch"
    names = [text.get_text() for text in axes.get_legend().get_texts()]
    assert names == ["isaac, 1", "isaac, 16", "rram-22nm, 1", "rram-22nm, 16"]
    lines = errorbar_data(axes)
    for (chip_base, batch), (xs, ys, spreads) in zip([(1.0, 1), (1.0, 16), (10.0, 1), (10.0, 16)], lines):
        assert xs == [64, 128, 256]
        assert ys == pytest.approx([chip_base * r / 64 * batch + 0.05 for r in xs])  # mean of seeds 0 and 1: + 0.05
        assert spreads == pytest.approx([0.1 / math.sqrt(2)] * 3)  # sample s.d. of {0, 0.1}
    assert axes.get_title().endswith("mlp on isaac, rram-22nm; mean ± 1 s.d. over 2 seeds")
    assert [container.get_label() for container in axes.containers] == names
    colours = [container.lines[0].get_color() for container in axes.containers]
    markers = [container.lines[0].get_marker() for container in axes.containers]
    assert colours[0] == colours[1] != colours[2] == colours[3]  # colour by chip
    assert markers[0] == markers[2] != markers[1] == markers[3]  # marker by batch


def test_facets_draw_one_panel_per_value_sharing_axes_and_a_where_filter_is_named_in_the_title():
    figure = plot.metric_vs_parameter_figure(grid_rows(), "array.rows", "tops_per_watt", series="batch",
                                             facet="chip", where={"batch": 16})
    left, right = figure.axes
    assert [left.get_title(), right.get_title()] == ["chip = isaac", "chip = rram-22nm"]
    assert left.get_shared_y_axes().joined(left, right)
    assert figure.get_suptitle().endswith("mlp on isaac, rram-22nm; batch = 16; mean ± 1 s.d. over 2 seeds")
    [(xs, ys, _)] = errorbar_data(right)
    assert ys == pytest.approx([10.0 * r / 64 * 16 + 0.05 for r in xs])
    assert left.get_ylabel() == "energy efficiency (TOPS/W)" and right.get_ylabel() == ""
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["16"]


def test_two_facet_keys_make_a_matrix_of_panels():
    figure = plot.metric_vs_parameter_figure(grid_rows(), "array.rows", "tops_per_watt", facet=["chip", "batch"])
    places = [(ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start) for ax in figure.axes]
    assert places == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [ax.get_title() for ax in figure.axes] == [
        "chip = isaac, batch = 1", "chip = isaac, batch = 16", "chip = rram-22nm, batch = 1", "chip = rram-22nm, batch = 16"]
    three = plot.metric_vs_parameter_figure(grid_rows(), "batch", "tops_per_watt", facet="chip,array.rows")
    assert len(three.axes) == 6  # chip down, array.rows across


def test_integer_columns_get_a_tick_at_each_value_and_axes_carry_units():
    axes = plot.metric_vs_parameter_figure(grid_rows(), "array.rows", "tops_per_watt", "chip",
                                           where={"batch": 1}, log_x=True).axes[0]
    assert list(axes.get_xticks()) == [64, 128, 256]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["64", "128", "256"]
    assert axes.get_xlabel() == "array height (rows)"
    rows = [{"device.g_max_us": g, "area.adc_um2": 2 * g, "chip": "pcm"} for g in (10.0, 20.0)]
    axes = plot.metric_vs_parameter_figure(rows, "device.g_max_us", "area.adc_um2").axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("device.g_max_us (µS)", "area.adc_um2 (µm²)")


def test_bad_series_facets_and_filters_are_named():
    rows = grid_rows()
    with pytest.raises(ConfigError, match="where batch = 4: no row has that value; batch holds 1, 16"):
        plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", "chip", where={"batch": 4})
    with pytest.raises(ConfigError, match="column 'chips' is not in row 0"):
        plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", "chips")
    with pytest.raises(ConfigError, match="column 'chip' is given twice"):
        plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", "chip,batch", facet="chip")
    with pytest.raises(ConfigError, match="distinct, non-empty column names"):
        plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", "chip,,batch")


def test_the_legend_of_facets_names_series_missing_from_the_first_panel():
    rows = [row for row in grid_rows() if not (row["chip"] == "isaac" and row["batch"] == 16)]
    figure = plot.metric_vs_parameter_figure(rows, "array.rows", "tops_per_watt", series="batch", facet="chip")
    assert [len(axes.containers) for axes in figure.axes] == [1, 2]
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["1", "16"]
