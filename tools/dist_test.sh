#!/usr/bin/env bash
# Multi-process testing: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES [test.py options]
# One process per GPU (nccl); on a machine without GPUs, CPU processes (gloo).
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# A process that hangs ends the run after env_cfg.dist_cfg.timeout seconds
# (default 600; MMSEG_GCN_DIST_TIMEOUT=SECONDS changes the default).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash $0 CONFIG CHECKPOINT NUM_PROCESSES [tools/test.py options]" >&2
    exit 2
fi
tools=$(dirname "$0")
exec bash "$tools/torchrun.sh" "$tools/test.py" "$3" "$1" "$2" "${@:4}"
