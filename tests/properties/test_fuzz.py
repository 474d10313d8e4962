"""Fuzzing every reader of user input: the only outcomes allowed are a result or a cimsim error.

Targets: configuration TOML (``ChipConfig`` / ``VonNeumannConfig`` text and files), sweep files,
saved workloads (JSON), the command line's arguments, and files that claim to be ONNX. Inputs are
random text and mutations of valid files (characters deleted, inserted or replaced, values
swapped for huge numbers, unicode, deep nesting or wrong types). Anything but a result,
``ConfigError`` or ``ShapeError`` (and, for the command line, argparse's usage exit) fails.

CI runs a small budget; the full run is 10,000 cases per target::

    CIMSIM_FUZZ_EXAMPLES=10000 OMP_NUM_THREADS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/properties/test_fuzz.py
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cimsim
from cimsim.config import load_config
from cimsim.sweep.spec import load_sweep

EXAMPLES = int(os.environ.get("CIMSIM_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
ALLOWED = (cimsim.ConfigError, cimsim.ShapeError)

TOKENS = ["0", "-1", "1e308", "1e999", "nan", "inf", '"x"', "true", "[]", "[1, [2, [3]]]", "{}", '"ü\u202e"',
          "9" * 40, '"' + "a" * 300 + '"', "{a = {b = {c = 1}}}", "[[x]]", "="]


@st.composite
def mutated(draw, text: str) -> str:
    """``text`` with a few random edits: deletions, insertions, value swaps."""
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "swap_value", "duplicate_line"]))
        i = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 20)):]
        elif kind == "insert":
            text = text[:i] + draw(st.text(max_size=10)) + text[i:]
        elif kind == "swap_value":
            lines = text.splitlines()
            candidates = [n for n, line in enumerate(lines) if "=" in line]
            if candidates:
                n = draw(st.sampled_from(candidates))
                lines[n] = lines[n].split("=", 1)[0] + "= " + draw(st.sampled_from(TOKENS))
                text = "\n".join(lines)
        else:
            lines = text.splitlines() or [""]
            n = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[: n + 1] + lines[n:])
    return text


def texts(valid: str):
    return st.one_of(st.text(max_size=200), mutated(valid))


def outcome(function, *args):
    """Run ``function``: a result, or one of the allowed errors with a message."""
    try:
        return function(*args)
    except ALLOWED as error:
        assert str(error).strip(), f"{type(error).__name__} without a message"
        return error


@FUZZ
@given(texts(cimsim.load_preset("isaac").to_toml()))
def test_chip_config_text(text):
    outcome(cimsim.ChipConfig.from_toml, text)


@FUZZ
@given(texts(cimsim.load_preset("vn-45nm").to_toml()))
def test_config_files_of_either_kind(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chip.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass") if _encodable(text) else path.write_bytes(b"\xff")
        outcome(load_config, path)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


SWEEP = '[sweep]\nchip = "isaac"\nworkloads = ["tiny.json"]\nbatch = [1, 2]\n[grid]\n"adc.bits" = [5, 6]\n'
TINY = cimsim.Workload([cimsim.Gemm("fc", m=2, k=8, n=4, weights=np.ones((8, 4)))], name="tiny")


@FUZZ
@given(texts(SWEEP))
def test_sweep_files(text):
    with tempfile.TemporaryDirectory() as folder:
        TINY.to_json(Path(folder) / "tiny.json")
        path = Path(folder) / "sweep.toml"
        if not _encodable(text):
            return
        path.write_text(text, encoding="utf-8")
        outcome(load_sweep, path)


@FUZZ
@given(texts(json.dumps(TINY.to_dict(), indent=1)))
def test_saved_workloads(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.json"
        if not _encodable(text):
            return
        path.write_text(text, encoding="utf-8")
        outcome(cimsim.Workload.from_json, path)


ARGS = st.lists(st.sampled_from(["show", "peak", "presets", "isaac", "vn-45nm", "nope", "--set", "adc.bits=3",
                                 "adc.bits=", "=", "array.rows=1e9", "x.y=1", "--debug", "--help", "-", "ü", ""]),
                max_size=6)


@FUZZ
@given(ARGS)
def test_command_line_arguments(argv):
    from cimsim.cli import main

    if "--debug" in argv:
        argv = [a for a in argv if a != "--debug"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse: usage errors (2) and --help (0)
            assert exit_.code in (0, 2)
            return
    assert code in (0, 2)
    if code == 2:
        assert err.getvalue().startswith("cimsim: error:") and "Traceback" not in err.getvalue()


@FUZZ
@given(st.binary(max_size=300))
def test_files_that_claim_to_be_onnx(data):
    pytest.importorskip("onnx")
    from cimsim.workload_loader import load_workload

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        path.write_bytes(data)
        with pytest.raises(cimsim.ConfigError):
            load_workload(str(path))
