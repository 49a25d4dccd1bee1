#!/usr/bin/env bash
# Runs one of the tools under torchrun: bash tools/torchrun.sh SCRIPT NUM_PROCESSES [script args]
# Used by dist_train.sh and dist_test.sh. One process per GPU (nccl); on a
# machine without GPUs, CPU processes (gloo). Multi-node: set NNODES,
# NODE_RANK, MASTER_ADDR and PORT on every node; PYTHON picks the interpreter.
# A process that hangs ends the run after env_cfg.dist_cfg.timeout seconds
# (default 600; MMSEG_GCN_DIST_TIMEOUT=SECONDS changes the default).
set -euo pipefail
SCRIPT=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$SCRIPT" "${@:3}" --launcher pytorch
