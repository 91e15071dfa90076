# Two commands: `make run` (the app) and `make test` (the whole suite). Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Browser tests drive Debian's Chromium through Playwright (Playwright's own browser download
# does not work everywhere); installed once with apt, as root or through sudo.
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint audit clean

run: $(STAMP)
	$(BIN)/qa serve

test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/pytest

# Known vulnerabilities in the installed dependencies; --strict fails when a package could
# not be checked (e.g. no access to PyPI's vulnerability data), rather than passing silently.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --progress-spinner off

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# torch first, pinned to the CPU build that this kind of machine keeps on local disk; a plain
# `torch` requirement would pull a multi-GB CUDA build. Elsewhere, fall back to PyTorch's CPU index.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0 || \
	  $(BIN)/pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(CHROMIUM):
	$$(command -v sudo) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $$(command -v sudo) apt-get install -y -qq chromium chromium-driver

clean:
	rm -rf $(VENV) index/CURRENT index/v-* index/.tmp-* index/.lock
