# The two commands of the README (make demo, make test) and the benchmarks (make bench).
# Each creates .venv with Python 3.11 (or $(PYTHON)) and installs cimsim into it first with every
# extra (pyproject.toml: TVM, Dask, the digits, the ONNX and torch.export importers, pandas and pyarrow); the tests also
# need the test tools (dev).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT ?= out/demo

.PHONY: demo test bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; run: make PYTHON=python3 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# one stamp per set of extras: .venv/.installed-all, .venv/.installed-all,dev
$(VENV)/.installed-%: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[$*]"
	@touch $@

demo: $(VENV)/.installed-all
	$(BIN)/cimsim demo --out $(OUT)

# torch and TVM share the test process: one OpenMP thread each (their pools fight otherwise)
test: $(VENV)/.installed-all,dev
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

bench: $(VENV)/.installed-all
	$(BIN)/python benchmarks/crossbar.py
	$(BIN)/python benchmarks/offload_overhead.py
	$(BIN)/python benchmarks/zoo.py
	$(BIN)/python benchmarks/scheduler.py
	$(BIN)/python benchmarks/cim_vs_vn.py
	$(BIN)/python benchmarks/closed_form.py
	$(BIN)/python benchmarks/ir_drop.py

clean:
	rm -rf $(VENV) out .pytest_cache
