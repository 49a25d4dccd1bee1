#!/usr/bin/env bash
# Multi-process training: bash tools/dist_train.sh CONFIG NUM_PROCESSES [train.py options]
# One process per GPU (nccl); on a machine without GPUs, CPU processes (gloo).
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash $0 CONFIG NUM_PROCESSES [tools/train.py options]" >&2
    exit 2
fi
tools=$(dirname "$0")
exec bash "$tools/torchrun.sh" "$tools/train.py" "$2" "$1" "${@:3}"
