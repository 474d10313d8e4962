"""Ctrl-C in a sweep: the table keeps the finished rows, and the message says how many, where, and to rerun with --resume."""

import pytest

from cimsim.cli import main
from cimsim.sweep import run as sweep_module
from cimsim.sweep.point import run_point
from cimsim.sweep.run import SweepInterrupted, SweepSpec, load_sweep, read_table, run_sweep
from test_sweep import sweep_dir  # noqa: F401  (the fixture: a tiny workload and its sweep file)

POINTS = 5


def interrupt_at_call(number):
    """A point runner that runs the real point until its ``number``-th call, which is Ctrl-C."""
    calls = []

    def run(point, paths):
        calls.append(point.id)
        if len(calls) == number:
            raise KeyboardInterrupt
        return run_point(point, paths)

    return run


def five_points(sweep_dir):
    spec = load_sweep(sweep_dir / "tiny.toml")
    return SweepSpec(spec.name, spec.paths, spec.points[:POINTS], spec.source)


def test_an_interrupted_sweep_says_how_many_rows_it_kept_and_resumes(sweep_dir, tmp_path, monkeypatch):  # noqa: F811
    out, spec = tmp_path / "t.csv", five_points(sweep_dir)
    monkeypatch.setattr(sweep_module, "run_point", interrupt_at_call(3))
    with pytest.raises(KeyboardInterrupt) as interrupted:
        run_sweep(spec, out, workers=1)
    assert isinstance(interrupted.value, SweepInterrupted)
    assert str(interrupted.value) == (f"sweep 'tiny' stopped: 2 of {POINTS} rows kept in {out}; rerun with --resume "
                                      f"(resume=True) to run the {POINTS - 2} others")
    assert [row["point_id"] for row in read_table(out)] == [point.id for point in spec.points[:2]]
    monkeypatch.setattr(sweep_module, "run_point", run_point)
    result = run_sweep(spec, out, workers=1, resume=True)
    assert (result.computed, result.skipped) == (POINTS - 2, 2)


def test_the_command_prints_the_message_and_exits_130(sweep_dir, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setattr(sweep_module, "run_point", interrupt_at_call(2))
    out = tmp_path / "cli.csv"
    assert main(["sweep", str(sweep_dir / "tiny.toml"), "--workers", "1", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.startswith("cimsim: interrupted: sweep 'tiny' stopped: 1 of ") and f"kept in {out}" in err
    assert "rerun with --resume" in err and len(err.splitlines()) == 1
    assert len(read_table(out)) == 1
    monkeypatch.setattr(sweep_module, "run_point", interrupt_at_call(1))
    assert sweep_module.main([str(sweep_dir / "tiny.toml"), str(tmp_path / "m.csv"), "--workers", "1"]) == 130
    assert "cimsim sweep: interrupted: sweep 'tiny' stopped: 0 of " in capsys.readouterr().err
