# Two commands matter: `make run` (the main job) and `make check` (every check).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run check lint typecheck test bench fuzz clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,report,dist,postgres,server,geo,calibrate]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gridcore demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/gridcore

test: $(STAMP)
	$(BIN)/pytest

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/pytest benchmarks/bench_*.py --benchmark-only --benchmark-columns=min,median,mean,ops,rounds -p no:cacheprovider

# The reader fuzz with many more examples than the suite's: HYPOTHESIS_PROFILE=fuzz make fuzz
# (GRIDCORE_FUZZ_EXAMPLES=N sets the examples per reader; the counts are printed at the end).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-fuzz} $(BIN)/pytest tests/reliability/test_fuzz_readers.py -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .benchmarks
