#!/usr/bin/env bash
# Multi-process training: bash tools/dist_train.sh CONFIG NUM_PROCESSES [train.py options]
# One process per GPU (nccl); on a machine without GPUs, CPU processes (gloo).
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# A process that hangs ends the run after env_cfg.dist_cfg.timeout seconds
# (default 600; MMSEG_GCN_DIST_TIMEOUT=SECONDS changes the default).
# SIGTERM or SIGUSR1 stops the run after the current iteration and its
# checkpoint (exit status 75 of each process); MAX_RESTARTS=N lets torchrun
# restart failed processes, which resume by themselves (see torchrun.sh).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash $0 CONFIG NUM_PROCESSES [tools/train.py options]" >&2
    exit 2
fi
tools=$(dirname "$0")
exec bash "$tools/torchrun.sh" "$tools/train.py" "$2" "$1" "${@:3}"
