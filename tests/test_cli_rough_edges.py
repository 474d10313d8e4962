"""The command line's rough edges: closed pipes, --version, a missing file to plot."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import cimsim
from cimsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_a_closed_pipe_ends_quietly_with_the_code_of_sigpipe():
    """As ``cimsim peak isaac | head -3`` once ``head`` has left: the pipe's reading end is closed before any output."""
    reading, writing = os.pipe()
    os.close(reading)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                                           os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-m", "cimsim.cli", "peak", "isaac"], stdout=writing,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=300)
    finally:
        os.close(writing)
    assert done.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" at exit
    assert done.returncode == 128 + signal.SIGPIPE == 141  # what a shell reports for a tool killed by SIGPIPE


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"cimsim {cimsim.__version__}\n"


def test_plot_of_a_missing_file_says_it_does_not_exist(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nosuch.csv")]) == 2
    assert capsys.readouterr().err == f"cimsim: error: results '{tmp_path / 'nosuch.csv'}': no such file\n"
    assert main(["plot", str(tmp_path)]) == 2
    assert "no such file (a directory)" in capsys.readouterr().err
