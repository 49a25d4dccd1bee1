# Quick start: `make demo` and `make test`. Each sets up .venv on first use
# (tools/setup_env.sh) and does no install work once it is set up.
PYTHON ?= python3.11
VENV ?= .venv
TORCH_VERSION ?= 2.13.0
TORCHVISION_VERSION ?= 0.28.0
MMSEG_GCN_CACHE ?= $(HOME)/.cache/mmseg_gcn
PYTEST_ARGS ?=
export PYTHON VENV TORCH_VERSION TORCHVISION_VERSION MMSEG_GCN_CACHE

BIN := $(VENV)/bin

.PHONY: setup test demo clean

setup:
	@bash tools/setup_env.sh

test: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

demo: setup
	PATH="$(abspath $(BIN)):$$PATH" bash tools/demo.sh

clean:
	rm -rf $(VENV) work_dirs data/demo
