#!/usr/bin/env bash
# Runs one of the tools under torchrun: bash tools/torchrun.sh SCRIPT NUM_PROCESSES [script args]
# Used by dist_train.sh and dist_test.sh. One process per GPU (nccl); on a
# machine without GPUs, CPU processes (gloo). Multi-node: set NNODES,
# NODE_RANK, MASTER_ADDR and PORT on every node; PYTHON picks the interpreter.
# A process that hangs ends the run after env_cfg.dist_cfg.timeout seconds
# (default 600; MMSEG_GCN_DIST_TIMEOUT=SECONDS changes the default).
# Preemption: torchrun passes SIGTERM and SIGUSR1 on to the processes, which
# stop after the current iteration and its checkpoint (exit status 75); it
# waits SHUTDOWN_TIMEOUT seconds (default 120) for them before SIGKILL.
# MAX_RESTARTS=N restarts failed processes up to N times (default 0); a
# restarted run resumes from its last checkpoint by itself.
set -euo pipefail
SCRIPT=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
MAX_RESTARTS=${MAX_RESTARTS:-0}
SHUTDOWN_TIMEOUT=${SHUTDOWN_TIMEOUT:-120}

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    --max-restarts="$MAX_RESTARTS" \
    --signals-to-handle=SIGTERM,SIGINT,SIGHUP,SIGQUIT,SIGUSR1 \
    --shutdown-timeout="$SHUTDOWN_TIMEOUT" \
    "$SCRIPT" "${@:3}" --launcher pytorch
