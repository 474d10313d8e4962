# The two commands of the README (make demo, make test) and the benchmarks (make bench).
# Each creates .venv with Python 3.11 (or $(PYTHON)) and installs cimsim into it first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/demo

.PHONY: demo test bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; run: make PYTHON=python3 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# the tests also cover the ONNX and torch.export importers (torch: the pinned CPU wheel)
$(STAMP)-importers: $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,onnx,torch]"
	@touch $(STAMP)-importers

demo: $(STAMP)
	$(BIN)/cimsim demo --out $(OUT)

# torch and TVM share the test process: one OpenMP thread each (their pools fight otherwise)
test: $(STAMP)-importers
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/crossbar.py
	$(BIN)/python benchmarks/offload_overhead.py
	$(BIN)/python benchmarks/zoo.py
	$(BIN)/python benchmarks/scheduler.py

clean:
	rm -rf $(VENV) out .pytest_cache
