#!/usr/bin/env bash
# `make demo`: runs tools/demo.py with the python first on PATH (the Makefile
# puts .venv/bin there), from the current folder. Arguments are passed on,
# e.g. `bash tools/demo.sh --dataset control`.
set -euo pipefail
exec python "$(dirname "$0")/demo.py" "$@"
