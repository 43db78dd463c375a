# The two commands a newcomer needs: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MEMBERS := pyproject.toml shared/pyproject.toml $(wildcard packages/*/pyproject.toml)

.PHONY: install debs lint typecheck test demo bench fuzz dist release-check version clean

install: $(STAMP)

$(STAMP): $(MEMBERS)
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	# bytecode compiled now, not at every start (PYTHONDONTWRITEBYTECODE may be set): start-up is measured
	uv sync --all-packages --group dev --compile-bytecode
	@touch $@

# Debian packages the system tests and benchmarks use (one per line in tests/system/debian-packages.txt).
# Installed only when missing and we are root; otherwise the system tests skip and say what to install.
debs:
	@bash tests/system/ensure-debs.sh

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy shared/src $(wildcard packages/*/src)

test: install debs lint typecheck
	$(BIN)/pytest

demo: install debs
	@bash examples/demo.sh

# The hostile-input generators of tests/hostile run longer (FUZZ_MINUTES, default 10), each worker under prlimit.
fuzz: install
	$(BIN)/python -m tests.hostile.fuzz --minutes $(or $(FUZZ_MINUTES),10)

bench: install debs
	$(BIN)/python bench/run.py $(TOOLS)

# A wheel and an sdist of each of the seven distributions in dist/, from the committed tree, twine-checked.
dist: install
	@bash release/dist.sh

# Installs from dist/ as users will (fresh venvs, pip), and the design card's first use, `RUN pip install rget`,
# as a real docker build; CI runs it.
release-check: install debs dist
	$(BIN)/pytest -m release tests/release

# Set one version for all seven (make version V=0.2.0), then relock.
version:
	@test -n "$(V)" || { echo "usage: make version V=X.Y.Z" >&2; exit 2; }
	python3 release/version.py $(V)
	uv lock

clean:
	rm -rf $(VENV) dist .cache .pytest_cache .mypy_cache .ruff_cache
